# Copyright (c) mmspecgene contributors. All rights reserved.
"""Homography sampling, validation, corner error and AUC against hand-computed values."""
import math

import numpy as np
import pytest

from mmspecgene.match.geometry import (
    check_homography,
    error_auc,
    estimate_homography,
    grid_correspondences,
    mean_corner_error,
    sample_homography,
    scale_matrix,
    warp_points,
)


def test_error_auc_hand_computed():
    # errors 1, 2, 4 px: recall 1/3, 2/3, 1. Up to 3 px the trapezoids over (0,0) (1,1/3) (2,2/3) (3,2/3)
    # give 1/6 + 1/2 + 2/3 = 4/3, normalised by 3 -> 4/9.
    aucs = error_auc([4.0, 1.0, 2.0], thresholds=(3, 10))
    assert aucs[3] == pytest.approx(4 / 9)
    # up to 10: 1/6 + 1/2 (to 2 px) + (2/3 + 1)/2 * 2 (to 4 px) + 1 * 6 (to 10 px) = 25/3, / 10
    assert aucs[10] == pytest.approx(5 / 6)


def test_error_auc_failures_lower_recall():
    assert error_auc([0.0, math.inf], (5, ))[5] == pytest.approx(0.5)
    assert error_auc([math.inf, math.inf], (5, ))[5] == 0.0
    assert error_auc([0.0, 0.0], (3, 5, 10)) == {3: 1.0, 5: 1.0, 10: 1.0}
    with pytest.raises(ValueError, match='at least one'):
        error_auc([])


def test_mean_corner_error_hand_computed():
    H = np.eye(3)
    shifted = np.array([[1, 0, 3], [0, 1, 4], [0, 0, 1]], dtype=float)
    assert mean_corner_error(H, shifted, (640, 512)) == pytest.approx(5.0)
    # a 2x zoom about the origin: corners (0,0) (639,0) (639,511) (0,511) move by 0, 639, |(639,511)|, 511
    zoom = np.diag([2.0, 2.0, 1.0])
    expected = (0 + 639 + math.hypot(639, 511) + 511) / 4
    assert mean_corner_error(H, zoom, (640, 512)) == pytest.approx(expected)
    assert mean_corner_error(H, None, (640, 512)) == math.inf


def test_sample_homography_is_seeded_and_respects_ranges():
    a = sample_homography(np.random.default_rng(3), (640, 512))
    b = sample_homography(np.random.default_rng(3), (640, 512))
    np.testing.assert_array_equal(a, b)
    ident = sample_homography(np.random.default_rng(0), (640, 512),
                              dict(rotation=0, scale=(1, 1), perspective=0, translation=0))
    np.testing.assert_allclose(ident, np.eye(3), atol=1e-12)
    # pure rotation keeps the image centre fixed and rotates by at most the range
    rot = sample_homography(np.random.default_rng(1), (641, 513),
                            dict(rotation=10, scale=(1, 1), perspective=0, translation=0))
    np.testing.assert_allclose(warp_points(rot, [[320, 256]]), [[320, 256]], atol=1e-9)
    angle = math.degrees(math.atan2(rot[1, 0], rot[0, 0]))
    assert 0 < abs(angle) <= 10
    with pytest.raises(KeyError, match='unknown homography range keys'):
        sample_homography(np.random.default_rng(0), (64, 64), dict(shear=1))
    with pytest.raises(ValueError, match='scale range'):
        sample_homography(np.random.default_rng(0), (64, 64), dict(scale=(1.2, 0.8)))


@pytest.mark.parametrize('H,match', [
    (np.zeros((3, 3)), 'singular'),
    (np.array([[1, 0, 0], [2, 0, 0], [0, 0, 1.]]), 'singular'),
    (np.array([[1, 0, 0], [0, 1, 0], [-0.01, 0, 1.]]), 'horizon'),
    (np.diag([-1.0, 1.0, 1.0]), 'mirrored'),
    (np.diag([0.01, 0.01, 1.0]), r'covers 0.0001 times the area of the 640x512 destination'),
    (np.eye(2), 'finite 3x3'),
    ([[1, 0, 0], [0, 1, 0], [0, 0, float('nan')]], 'finite 3x3'),
])
def test_check_homography_rejects_degenerate(H, match):
    with pytest.raises(ValueError, match=match) as err:
        check_homography(H, (640, 512), 'pair 7 (a.jpg | b.jpg)')
    assert 'pair 7 (a.jpg | b.jpg)' in str(err.value)


def test_check_homography_between_cameras_of_different_resolution():
    """A 4056x3040 RGB camera and a 640x512 thermal one with one field of view: a scaling, not a degenerate map."""
    H = scale_matrix((4056, 3040), (640, 512))
    np.testing.assert_allclose(check_homography(H, (4056, 3040), 'pair', dst_size=(640, 512)), H / H[2, 2])
    with pytest.raises(ValueError, match='covers 0.02'):
        check_homography(H, (4056, 3040), 'pair')  # against an image of its own size it would shrink 38x


def test_scale_matrix_matches_cv2_resize_convention():
    S = scale_matrix((1280, 1024), (640, 512))
    # the 2x2 block of source pixels 0..1 averages to output pixel 0, centred at source 0.5
    np.testing.assert_allclose(warp_points(S, [[0.5, 0.5], [1279.5 - 1, 1023.5 - 1]]), [[0, 0], [639, 511]])


def test_estimate_homography_magsac_recovers_exact_model():
    rng = np.random.default_rng(0)
    H = sample_homography(rng, (320, 256))
    kpts0 = rng.uniform(0, 255, size=(60, 2))
    kpts1 = warp_points(H, kpts0)
    kpts1[:10] += rng.uniform(20, 40, size=(10, 2))  # outliers
    est = estimate_homography(kpts0, kpts1, 1.0)
    assert mean_corner_error(H, est, (320, 256)) < 0.05
    assert estimate_homography(kpts0[:3], kpts1[:3]) is None


def test_grid_correspondences_keep_points_landing_inside():
    shift = np.array([[1., 0, 20], [0, 1, -10], [0, 0, 1]])  # 20 px right, 10 px up
    rgb, thermal = grid_correspondences(shift, (64, 48), step=16)
    # grid x 8, 24, 40, 56 and y 8, 24, 40; x + 20 <= 63 keeps x <= 40, y - 10 >= 0 keeps y >= 24
    assert sorted(map(tuple, rgb.tolist())) == [(x, y) for x in (8., 24., 40.) for y in (24., 40.)]
    np.testing.assert_allclose(thermal, rgb + [20, -10])
