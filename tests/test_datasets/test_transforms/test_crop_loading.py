# Copyright (c) mmspecgene contributors. All rights reserved.
"""Crop-aware paired loading: JPEG headers, DCT-scale choice, box mapping, thermal rules and errors."""
import cv2
import numpy as np
import pytest

from mmspecgene.datasets.transforms import LoadRGBTRandomResizedCrop
from mmspecgene.datasets.transforms.crop_loading import resize_box, snap_box
from mmspecgene.datasets.transforms.jpeg import dct_scale, jpeg_info


def _smooth_picture(h, w, channels=3):
    """A smooth picture defined on normalised coordinates, so that it can be sampled at any resolution."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = (xs + 0.5) / w, (ys + 0.5) / h
    planes = [128 + 100 * np.sin(2 * np.pi * (1.5 * u + k * 0.3)) * np.cos(2 * np.pi * (v + 0.2 * k))
              for k in range(channels)]
    return np.clip(np.dstack(planes), 0, 255).astype(np.uint8).squeeze()


@pytest.fixture(scope='module')
def camera_jpegs(tmp_path_factory):
    """1280×1024 colour JPEG and its 3-channel grey thermal partner, plus a 1-channel and a PNG variant."""
    root = tmp_path_factory.mktemp('crop')
    rgb = _smooth_picture(1024, 1280)
    grey = cv2.cvtColor(rgb, cv2.COLOR_BGR2GRAY)
    paths = dict(rgb=str(root / 'rgb.jpg'), ir3=str(root / 'ir3.jpg'), ir1=str(root / 'ir1.jpg'),
                 ir_png=str(root / 'ir.png'), ir16=str(root / 'ir16.png'), ir_half=str(root / 'ir_half.jpg'))
    cv2.imwrite(paths['rgb'], rgb, [cv2.IMWRITE_JPEG_QUALITY, 95])
    cv2.imwrite(paths['ir3'], cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
    cv2.imwrite(paths['ir1'], grey, [cv2.IMWRITE_JPEG_QUALITY, 95])
    cv2.imwrite(paths['ir_png'], grey)
    cv2.imwrite(paths['ir16'], grey.astype(np.uint16) * 200)
    cv2.imwrite(paths['ir_half'], _smooth_picture(512, 640), [cv2.IMWRITE_JPEG_QUALITY, 95])
    return paths


def test_jpeg_info_reads_headers(camera_jpegs):
    with open(camera_jpegs['rgb'], 'rb') as f:
        assert tuple(jpeg_info(f.read())) == (1024, 1280, 3, 8)
    with open(camera_jpegs['ir1'], 'rb') as f:
        assert tuple(jpeg_info(f.read())) == (1024, 1280, 1, 8)
    progressive = cv2.imencode('.jpg', np.zeros((30, 50, 3), np.uint8), [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])[1]
    assert tuple(jpeg_info(progressive.tobytes())) == (30, 50, 3, 8)
    with open(camera_jpegs['ir_png'], 'rb') as f:
        assert jpeg_info(f.read()) is None
    assert jpeg_info(b'\xff\xd8\xff') is None and jpeg_info(b'') is None


def test_dct_scale_is_the_coarsest_that_covers_the_output():
    assert dct_scale(1280, 1024, 224, 224) == 4  # 1280/8 = 160 < 224, 1024/4 = 256 >= 224
    assert dct_scale(1792, 1792, 224, 224) == 8
    assert dct_scale(895, 1000, 224, 224) == 2  # one axis below 4x
    assert dct_scale(447, 1000, 224, 224) == 1
    assert dct_scale(1792, 1792, 224, 224, max_scale=2) == 2


def test_snap_and_resize_box():
    assert snap_box((3, 5, 901, 907), 4, 1280, 1024) == (4, 4, 900, 908)
    assert snap_box((1, 1, 1279, 1023), 8, 1283, 1023) == (0, 0, 1280, 1016)  # stays inside full DCT blocks
    img = np.tile(np.arange(64, dtype=np.uint8) * 4, (64, 1))  # value = 4·column
    out = resize_box(img, (10.5, 0, 42.5, 32), (16, 16), cv2.INTER_CUBIC)  # fractional, 2x down
    centres = 10.5 + (np.arange(16) + 0.5) * 2 - 0.5
    np.testing.assert_allclose(out[8], 4 * centres, atol=1.01)


@pytest.mark.parametrize('ir_key,grey', [('ir3', True), ('ir1', True), ('ir3', False), ('ir_png', True)])
def test_decode_scales_and_thermal_planes(camera_jpegs, ir_key, grey):
    transform = LoadRGBTRandomResizedCrop(scale=224, crop_ratio_range=(0.2, 1.0), thermal_grey=grey)
    np.random.seed(0)
    scales = set()
    for _ in range(10):
        out = transform(dict(img_path=camera_jpegs['rgb'], ir_path=camera_jpegs[ir_key]))
        img = out['img']
        assert img.shape == (224, 224, 6) and img.dtype == np.uint8
        assert out['ori_shape'] == (1024, 1280)
        s_rgb, s_ir = out['decode_scale']
        scales.add(s_rgb)
        assert s_rgb in (2, 4) and s_ir == (1 if ir_key == 'ir_png' else s_rgb)
        assert all(v % s_rgb == 0 for v in out['crop_bbox'])  # box on the DCT grid: exact crop at 1/s
        if grey or ir_key == 'ir1':
            np.testing.assert_array_equal(img[..., 3], img[..., 4])
            np.testing.assert_array_equal(img[..., 3], img[..., 5])
        # the thermal half shows the luminance of the RGB half (same picture): aligned to within a grey level
        luminance = cv2.cvtColor(np.ascontiguousarray(img[..., :3]), cv2.COLOR_BGR2GRAY).astype(int)
        assert np.abs(luminance - img[..., 3]).mean() < 1.5
    assert scales == {2, 4}


def test_full_decoding_switch(camera_jpegs):
    info = dict(img_path=camera_jpegs['rgb'], ir_path=camera_jpegs['ir3'])
    full = LoadRGBTRandomResizedCrop(scale=224, crop_ratio_range=(0.2, 1.0), thermal_grey=True, dct_scaling=False)
    np.random.seed(0)
    out = full(dict(info))
    assert out['decode_scale'] == (1, 1)
    reduced = LoadRGBTRandomResizedCrop(scale=224, crop_ratio_range=(0.2, 1.0), thermal_grey=True)
    np.random.seed(0)
    out_reduced = reduced(dict(info))
    assert np.abs(out['img'].astype(int) - out_reduced['img']).mean() < 2.0  # same box up to the DCT grid


def test_radiometric_thermal_png(camera_jpegs):
    transform = LoadRGBTRandomResizedCrop(scale=64, thermal_range=dict(mode='minmax'))
    out = transform(dict(img_path=camera_jpegs['rgb'], ir_path=camera_jpegs['ir16']))
    assert out['img'].shape == (64, 64, 6) and out['img'][..., 3:].max() > 200


def test_size_mismatch_maps_the_box_exactly(camera_jpegs):
    info = dict(img_path=camera_jpegs['rgb'], ir_path=camera_jpegs['ir_half'])
    with pytest.raises(ValueError, match=r'size mismatch.*rgb\.jpg is 1280x1024.*ir_half\.jpg is 640x512'):
        LoadRGBTRandomResizedCrop()(dict(info))
    transform = LoadRGBTRandomResizedCrop(scale=96, crop_ratio_range=(0.2, 1.0), size_mismatch='resize_thermal')
    np.random.seed(0)
    for _ in range(6):
        img = transform(dict(info))['img'].astype(int)
        # the half-size thermal file holds the same picture: the mapped box shows the same content
        assert np.abs(img[..., :3] - img[..., 3:]).mean() < 2.0
    assert transform.num_resized == 6


def test_missing_files_and_keys(camera_jpegs, tmp_path):
    transform = LoadRGBTRandomResizedCrop()
    with pytest.raises(KeyError, match='ir_path'):
        transform(dict(img_path=camera_jpegs['rgb']))
    with pytest.raises(FileNotFoundError, match='nothere.jpg'):
        transform(dict(img_path=camera_jpegs['rgb'], ir_path=str(tmp_path / 'nothere.jpg')))
    bad = tmp_path / 'bad.jpg'
    bad.write_bytes(b'\xff\xd8\xff\xc0\x00\x11\x08\x04\x00\x05\x00\x03' + b'\x00' * 40)  # header only
    with pytest.raises(ValueError, match='bad.jpg'):
        transform(dict(img_path=camera_jpegs['rgb'], ir_path=str(bad)))


def test_first_channel_thermal_and_float(camera_jpegs):
    """Released det compat: channel 0 of the thermal file's BGR decode, replicated; here the thermal file is the
    colour RGB file, so the thermal half equals the RGB half's blue plane exactly."""
    transform = LoadRGBTRandomResizedCrop(scale=112, thermal_mode='first_channel', to_float32=True)
    np.random.seed(3)
    out = transform(dict(img_path=camera_jpegs['rgb'], ir_path=camera_jpegs['rgb']))
    img = out['img']
    assert img.dtype == np.float32 and img.shape == (112, 112, 6)
    for channel in (3, 4, 5):
        np.testing.assert_array_equal(img[..., channel], img[..., 0])
