# Copyright (c) mmspecgene contributors. All rights reserved.
"""Alignment of the homography warping: a ground-truth correspondence lands on the same scene point in both
images, checked on camera-sized synthetic patterns (Gaussian dots whose centroids are measured sub-pixel)."""
import os.path as osp

import cv2
import numpy as np
import pytest

from mmspecgene.match.geometry import sample_homography, scale_matrix, warp_points
from mmspecgene.match.transforms import (
    LoadRGBTMatchPair,
    PackRGBTMatchInputs,
    RGBTHomographyWarp,
    RGBTRandomHomographyWarp,
)

SRC = (1280, 1024)  # LLVIP frames
OUT = (320, 256)
# scene points in the source frame, away from the borders so that every warp below keeps them inside
DOTS = np.array([[400, 350], [880, 350], [640, 512], [400, 680], [880, 680], [520, 560]], dtype=np.float64)
SIGMA = 10.0  # source pixels: 2.5 output pixels after the 4x reduction


def _dot_image(size, dots, sigma):
    xs, ys = np.meshgrid(np.arange(size[0]), np.arange(size[1]))
    img = np.zeros((size[1], size[0]))
    for x, y in dots:
        img += np.exp(-((xs - x)**2 + (ys - y)**2) / (2 * sigma**2))
    return np.clip(np.round(235 * img) + 10, 0, 255).astype(np.uint8)


def _write_pair(tmp_path, rgb_size=SRC, ir_size=SRC, ir_dots=None):
    """RGB (colour jpg-free png) and 1-channel thermal png of the same scene dots."""
    rgb_grey = _dot_image(rgb_size, DOTS, SIGMA)
    rgb = cv2.merge([rgb_grey, (rgb_grey * 0.5).astype(np.uint8), rgb_grey])
    scale = ir_size[0] / rgb_size[0]
    thermal = _dot_image(ir_size, DOTS * scale if ir_dots is None else ir_dots, SIGMA * scale)
    rgb_path, ir_path = str(tmp_path / 'rgb.png'), str(tmp_path / 'ir.png')
    cv2.imwrite(rgb_path, rgb)
    cv2.imwrite(ir_path, thermal)
    return rgb_path, ir_path


def _centroid(grey, guess, radius=7):
    x0, y0 = int(round(guess[0])), int(round(guess[1]))
    patch = grey[y0 - radius:y0 + radius + 1, x0 - radius:x0 + radius + 1].astype(np.float64)
    patch = np.clip(patch - 10, 0, None)
    ys, xs = np.mgrid[y0 - radius:y0 + radius + 1, x0 - radius:x0 + radius + 1]
    return np.array([(xs * patch).sum() / patch.sum(), (ys * patch).sum() / patch.sum()])


def _dot_errors(results, dots_out):
    """Distance between H(dot centroid in RGB) and the dot centroid measured in thermal, per dot (pixels)."""
    img, H = results['img'], results['gt_homography']
    rgb_grey, ir_grey = img[..., 0], img[..., 3]
    errors = []
    for dot in dots_out:
        c_rgb = _centroid(rgb_grey, dot)
        c_ir = _centroid(ir_grey, warp_points(H, c_rgb[None])[0])
        errors.append(np.linalg.norm(warp_points(H, c_rgb[None])[0] - c_ir))
    return np.array(errors)


def _dots_in_rgb(results):
    """Where the scene dots are in the packed RGB image (through the RGB warp, if RGB was warped)."""
    dots = warp_points(scale_matrix(SRC, OUT), DOTS)
    if results.get('warp_modality') == 'rgb':
        dots = warp_points(results['warp_homography'], dots)
    return dots


@pytest.mark.parametrize('modality', ['thermal', 'rgb'])
def test_fixed_warp_aligns_scene_points(tmp_path, modality):
    rgb_path, ir_path = _write_pair(tmp_path)
    results = LoadRGBTMatchPair(img_size=OUT)(dict(img_path=rgb_path, ir_path=ir_path, sample_idx=0))
    assert results['img'].shape == (OUT[1], OUT[0], 6)
    np.testing.assert_allclose(results['gt_homography'], np.eye(3), atol=1e-12)  # aligned pair, same size
    warp = sample_homography(np.random.default_rng(5), OUT)
    results.update(warp_homography=warp, warp_modality=modality)
    results = RGBTHomographyWarp()(results)
    expected = warp if modality == 'thermal' else np.linalg.inv(warp)
    np.testing.assert_allclose(results['gt_homography'], expected / expected[2, 2], atol=1e-9)
    errors = _dot_errors(results, _dots_in_rgb(results))
    assert errors.max() < 0.1, errors  # sub-pixel: the same scene point in both images


def test_wrong_correspondence_is_detected(tmp_path):
    """The alignment check can fail: a half-pixel offset in the homography shows up."""
    rgb_path, ir_path = _write_pair(tmp_path)
    results = LoadRGBTMatchPair(img_size=OUT)(dict(img_path=rgb_path, ir_path=ir_path))
    results = RGBTHomographyWarp()(dict(results, warp_homography=np.eye(3), warp_modality='thermal'))
    results['gt_homography'] = np.array([[1, 0, 0.5], [0, 1, 0], [0, 0, 1.0]])
    assert _dot_errors(results, _dots_in_rgb(results)).min() > 0.4


def test_random_warp_swaps_roles_and_stays_aligned(tmp_path):
    rgb_path, ir_path = _write_pair(tmp_path)
    np.random.seed(0)
    transform = RGBTRandomHomographyWarp(ranges=dict(rotation=10, scale=(0.9, 1.1), perspective=0.05,
                                                     translation=0.05), swap_prob=0.5)
    seen = set()
    for _ in range(6):
        results = transform(LoadRGBTMatchPair(img_size=OUT)(dict(img_path=rgb_path, ir_path=ir_path)))
        seen.add(results['warp_modality'])
        assert _dot_errors(results, _dots_in_rgb(results)).max() < 0.1
    assert seen == {'thermal', 'rgb'}
    packed = PackRGBTMatchInputs()(results)
    assert tuple(packed['inputs'].shape) == (6, OUT[1], OUT[0])
    np.testing.assert_array_equal(packed['data_samples'].gt_homography, results['gt_homography'])


def test_unaligned_pair_of_different_sizes_with_given_homography(tmp_path):
    """External ground truth: thermal at 640x512, shifted by (30, -20) thermal pixels; both resized to OUT."""
    ir_size = (640, 512)
    ir_dots = DOTS * 0.5 + [30, -20]
    rgb_path, ir_path = _write_pair(tmp_path, ir_size=ir_size, ir_dots=ir_dots)
    # the thermal dots are drawn at 0.5 * x + shift of their RGB position (a 0.25 px error here fails the test)
    H = np.array([[0.5, 0, 30], [0, 0.5, -20], [0, 0, 1]])
    results = LoadRGBTMatchPair(img_size=OUT)(dict(img_path=rgb_path, ir_path=ir_path, gt_homography=H))
    errors = _dot_errors(results, _dots_in_rgb(results))
    assert errors.max() < 0.1, errors


def test_missing_thermal_and_degenerate_warp_name_the_sample(tmp_path):
    rgb_path, ir_path = _write_pair(tmp_path)
    missing = osp.join(str(tmp_path), 'gone.png')
    with pytest.raises(FileNotFoundError, match=r'matching sample 3 \(.*rgb.png \| .*gone.png\): thermal image'):
        LoadRGBTMatchPair(img_size=OUT)(dict(img_path=rgb_path, ir_path=missing, sample_idx=3))
    results = LoadRGBTMatchPair(img_size=OUT)(dict(img_path=rgb_path, ir_path=ir_path, sample_idx=9))
    with pytest.raises(ValueError, match=r'sample 9 .*warp_homography: degenerate'):
        RGBTHomographyWarp()(dict(results, warp_homography=np.zeros((3, 3)), warp_modality='thermal'))
    with pytest.raises(KeyError, match='sample 9 .* has no .warp_homography'):
        RGBTHomographyWarp()(dict(results))
    with pytest.raises(ValueError, match='warp_modality'):
        RGBTHomographyWarp()(dict(results, warp_homography=np.eye(3), warp_modality='depth'))
    with pytest.raises(ValueError, match=r'sample 9 .*drawn for 160x128 frames .* pipeline loaded 320x256'):
        RGBTHomographyWarp()(dict(results, warp_homography=np.eye(3), warp_modality='thermal',
                                  warp_img_size=(160, 128)))
    same = RGBTHomographyWarp()(dict(results, warp_homography=np.eye(3), warp_modality='thermal',
                                     warp_img_size=OUT))
    assert same['img'].shape == (256, 320, 6)


@pytest.mark.parametrize('bad', [dict(thermal_mode='first-channel'), dict(thermal_range=dict(mode='percentil'))])
def test_unknown_thermal_options_are_refused(bad):
    with pytest.raises(ValueError, match="first-channel|'percentil'"):
        LoadRGBTMatchPair(img_size=OUT, **bad)
