# Copyright (c) mmspecgene contributors. All rights reserved.
"""read_rgbt_pair draws the thermal image the way the model sees it (the loader's thermal rule)."""
import cv2
import numpy as np
import pytest

from mmspecgene.datasets.transforms.loading import thermal_to_3ch
from mmspecgene.visualization import read_rgbt_pair, side_by_side


@pytest.fixture
def pair_16bit(tmp_path):
    """A 640x512 RGB JPEG and a 16-bit thermal PNG (raw counts 7000-8500, a warm 'person' at 8200)."""
    rgb = np.full((512, 640, 3), (30, 60, 90), np.uint8)
    thermal = np.full((512, 640), 7300, np.uint16)
    thermal[100:300, 200:260] = 8200
    thermal[0, 0], thermal[-1, -1] = 7000, 8500
    paths = str(tmp_path / 'v.jpg'), str(tmp_path / 't.png')
    cv2.imwrite(paths[0], rgb)
    cv2.imwrite(paths[1], thermal)
    return paths, thermal


def test_16bit_thermal_is_stretched_like_the_loader(pair_16bit):
    (rgb_path, thermal_path), raw = pair_16bit
    rgb, thermal = read_rgbt_pair(rgb_path, thermal_path)
    assert rgb.shape == thermal.shape == (512, 640, 3) and thermal.dtype == np.uint8
    assert rgb[5, 5].astype(int).tolist() == pytest.approx([90, 60, 30], abs=2)  # RGB order
    expected = thermal_to_3ch(raw, thermal_path)[..., ::-1]
    np.testing.assert_array_equal(thermal, expected)
    assert thermal[200, 230, 0] == 255 and thermal[5, 5, 0] == 0  # the person bright, the background dark
    assert side_by_side(rgb, thermal).shape == (512, 1280, 3)


def test_grey_thermal_of_another_size_is_resized_to_the_rgb(tmp_path):
    cv2.imwrite(str(tmp_path / 'v.jpg'), np.zeros((1024, 1280, 3), np.uint8))
    cv2.imwrite(str(tmp_path / 't.jpg'), np.full((512, 640), 200, np.uint8))
    rgb, thermal = read_rgbt_pair(str(tmp_path / 'v.jpg'), str(tmp_path / 't.jpg'))
    assert thermal.shape == rgb.shape == (1024, 1280, 3)
    assert abs(int(thermal[500, 600, 0]) - 200) <= 2 and (thermal[..., 0] == thermal[..., 2]).all()


def test_missing_path_is_named():
    with pytest.raises(KeyError, match='missing ir_path'):
        read_rgbt_pair('a.jpg', None)


def test_exif_rotated_jpeg_is_drawn_on_the_models_pixel_grid(tmp_path):
    """The loaders ignore the EXIF orientation; the drawing must too, or predictions land rotated (or crash)."""
    from PIL import Image

    from mmspecgene.datasets.transforms import LoadRGBTImagePair
    rgb = np.zeros((512, 640, 3), np.uint8)
    rgb[:100, :200] = 255
    exif = Image.Exif()
    exif[0x0112] = 6  # displayed rotated by 90 degrees
    Image.fromarray(rgb).save(tmp_path / 'v.jpg', exif=exif.tobytes())
    Image.fromarray(rgb[..., 0]).save(tmp_path / 't.jpg', exif=exif.tobytes())
    loaded = LoadRGBTImagePair()(dict(img_path=str(tmp_path / 'v.jpg'), ir_path=str(tmp_path / 't.jpg')))['img']
    drawn_rgb, drawn_thermal = read_rgbt_pair(str(tmp_path / 'v.jpg'), str(tmp_path / 't.jpg'))
    assert loaded.shape[:2] == drawn_rgb.shape[:2] == drawn_thermal.shape[:2] == (512, 640)
    np.testing.assert_array_equal(drawn_rgb, loaded[..., 2::-1])  # the loader's BGR, as RGB
