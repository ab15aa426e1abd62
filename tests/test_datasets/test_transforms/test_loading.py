# Copyright (c) mmspecgene contributors. All rights reserved.
import os.path as osp
import warnings

import cv2
import numpy as np
import pytest

from mmspecgene.datasets.transforms import LoadRGBTImagePair


def _write(path, img):
    assert cv2.imwrite(str(path), img), path
    return str(path)


@pytest.fixture
def pair(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)
    thermal = rng.integers(0, 255, (24, 32), dtype=np.uint8)
    return _write(tmp_path / 'rgb.png', rgb), _write(tmp_path / 'ir.png', thermal), rgb, thermal


def test_stack_order_and_grey_thermal(pair):
    rgb_path, ir_path, rgb, thermal = pair
    out = LoadRGBTImagePair()(dict(img_path=rgb_path, ir_path=ir_path))
    img = out['img']
    assert img.shape == (24, 32, 6) and img.dtype == np.uint8
    np.testing.assert_array_equal(img[..., :3], rgb)  # RGB half first, BGR order as decoded
    for c in range(3, 6):  # grey thermal replicated
        np.testing.assert_array_equal(img[..., c], thermal)
    assert out['img_shape'] == out['ori_shape'] == (24, 32)
    assert out['modality_channels'] == dict(rgb=(0, 3), thermal=(3, 6))
    assert out['channel_order'] == ('bgr', 'bgr')
    assert LoadRGBTImagePair(to_float32=True)(dict(img_path=rgb_path, ir_path=ir_path))['img'].dtype == np.float32


def test_thermal_variants(tmp_path):
    rgb = np.full((8, 8, 4), 7, np.uint8)  # 4-channel RGB loses alpha
    colour = np.dstack([np.full((8, 8), v, np.uint8) for v in (10, 20, 30)])
    rgb_path = _write(tmp_path / 'rgba.png', rgb)
    ir3 = _write(tmp_path / 'ir3.png', colour)
    kept = LoadRGBTImagePair()(dict(img_path=rgb_path, ir_path=ir3))['img']
    assert kept.shape == (8, 8, 6)
    assert kept[0, 0].tolist() == [7, 7, 7, 10, 20, 30]
    first = LoadRGBTImagePair(thermal_mode='first_channel')(dict(img_path=rgb_path, ir_path=ir3))['img']
    assert first[0, 0, 3:].tolist() == [10, 10, 10]
    grey = LoadRGBTImagePair(thermal_grey=True)(dict(img_path=rgb_path, ir_path=ir3))['img']
    expected = cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY)[0, 0]
    assert grey[0, 0, 3:].tolist() == [expected] * 3


def test_16bit_thermal_scaling(tmp_path):
    rgb_path = _write(tmp_path / 'rgb.png', np.zeros((4, 4, 3), np.uint8))
    raw = np.arange(16, dtype=np.uint16).reshape(4, 4) * 1000 + 20000
    ir_path = _write(tmp_path / 'ir16.png', raw)
    fixed = LoadRGBTImagePair(thermal_range=dict(mode='fixed', low=20000, high=35000))(
        dict(img_path=rgb_path, ir_path=ir_path))['img'][..., 3]
    expected = np.round(255 * np.clip((raw - 20000) / 15000, 0, 1)).astype(np.uint8)
    np.testing.assert_array_equal(fixed, expected)
    minmax = LoadRGBTImagePair(thermal_range=dict(mode='minmax'))(dict(img_path=rgb_path, ir_path=ir_path))['img']
    assert minmax[..., 3].min() == 0 and minmax[..., 3].max() == 255
    flat = _write(tmp_path / 'flat16.png', np.full((4, 4), 500, np.uint16))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        out = LoadRGBTImagePair(thermal_range=dict(mode='minmax'))(dict(img_path=rgb_path, ir_path=flat))['img']
    assert (out[..., 3:] == 0).all() and any('empty' in str(w.message) for w in caught)


def test_errors_name_the_files(tmp_path, pair):
    rgb_path, ir_path, _, _ = pair
    missing = str(tmp_path / 'nope.png')
    with pytest.raises(FileNotFoundError, match='nope.png'):
        LoadRGBTImagePair()(dict(img_path=rgb_path, ir_path=missing))
    with pytest.raises(KeyError, match='ir_path'):
        LoadRGBTImagePair()(dict(img_path=rgb_path))
    corrupt = tmp_path / 'corrupt.jpg'
    corrupt.write_bytes(b'not an image at all')
    with pytest.raises(ValueError, match='corrupt.jpg'):
        LoadRGBTImagePair()(dict(img_path=rgb_path, ir_path=str(corrupt)))
    empty = tmp_path / 'empty.png'
    empty.write_bytes(b'')
    with pytest.raises(ValueError, match='empty.png'):
        LoadRGBTImagePair()(dict(img_path=str(empty), ir_path=ir_path))
    small = _write(tmp_path / 'small.png', np.zeros((12, 16), np.uint8))
    with pytest.raises(ValueError, match=r'rgb.png.*small.png'):
        LoadRGBTImagePair()(dict(img_path=rgb_path, ir_path=small))
    loader = LoadRGBTImagePair(size_mismatch='resize_thermal')
    out = loader(dict(img_path=rgb_path, ir_path=small))
    assert out['img'].shape == (24, 32, 6) and loader.num_resized == 1
    with pytest.raises(ValueError, match='thermal_mode'):
        LoadRGBTImagePair(thermal_mode='swap')
    assert osp.exists(rgb_path)
