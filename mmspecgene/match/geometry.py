# Copyright (c) mmspecgene contributors. All rights reserved.
"""Homography geometry of the matching protocol, in numpy/OpenCV only.

Pixel convention everywhere: OpenCV's, pixel ``(u, v)`` has its centre at integer coordinates ``(u, v)``;
an image of width ``w`` spans ``[-0.5, w - 0.5]``. A homography ``H`` maps image-0 (RGB) pixels to image-1
(thermal) pixels: ``x1 ~ H x0``.
"""
import math
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np

#: documented default of :func:`sample_homography` (the synthetic and the real-data configs use it)
DEFAULT_HOMOGRAPHY_RANGES = dict(rotation=15.0, scale=(0.85, 1.2), perspective=0.1, translation=0.1)
HOMOGRAPHY_RANGE_KEYS = tuple(DEFAULT_HOMOGRAPHY_RANGES)
#: the HPatches-style thresholds (pixels) of the homography AUC
AUC_THRESHOLDS = (3, 5, 10)


def check_ranges(ranges: Optional[dict]) -> Dict[str, object]:
    """Merge ``ranges`` into :data:`DEFAULT_HOMOGRAPHY_RANGES`; unknown keys and bad values raise."""
    merged = dict(DEFAULT_HOMOGRAPHY_RANGES)
    given = dict(ranges or {})
    unknown = sorted(set(given) - set(HOMOGRAPHY_RANGE_KEYS))
    if unknown:
        raise KeyError(f'unknown homography range keys {unknown}, expected a subset of {HOMOGRAPHY_RANGE_KEYS}')
    merged.update(given)
    low, high = (float(v) for v in merged['scale'])
    if not 0 < low <= high:
        raise ValueError(f'homography scale range must satisfy 0 < low <= high, got {merged["scale"]}')
    for key in ('rotation', 'perspective', 'translation'):
        if float(merged[key]) < 0:
            raise ValueError(f'homography range {key!r} must be >= 0, got {merged[key]}')
    if float(merged['perspective']) >= 1:
        raise ValueError(f'homography perspective must be < 1 (it folds the image), got {merged["perspective"]}')
    merged['scale'] = (low, high)
    return merged


def sample_homography(rng: np.random.Generator, size: Tuple[int, int], ranges: Optional[dict] = None) -> np.ndarray:
    """Draw one homography of a ``size = (width, height)`` image from the documented distribution.

    In coordinates centred on the image centre ``c`` and normalised by ``(w, h)``:
    ``H = T(c + t) R(theta) S(s) P(p) T(-c)`` with

    * ``theta ~ U(-rotation, rotation)`` degrees,
    * ``s ~ logU(scale[0], scale[1])`` (isotropic),
    * ``P = [[1, 0, 0], [0, 1, 0], [px / w, py / h, 1]]``, ``px, py ~ U(-perspective, perspective)``,
    * ``t = (tx * w, ty * h)``, ``tx, ty ~ U(-translation, translation)``.

    Returns:
        np.ndarray: (3, 3) float64, normalised so that ``H[2, 2] = 1``.
    """
    r = check_ranges(ranges)
    w, h = float(size[0]), float(size[1])
    cx, cy = (w - 1) / 2, (h - 1) / 2
    theta = math.radians(rng.uniform(-r['rotation'], r['rotation']))
    scale = math.exp(rng.uniform(math.log(r['scale'][0]), math.log(r['scale'][1])))
    px, py = rng.uniform(-r['perspective'], r['perspective'], size=2)
    tx, ty = rng.uniform(-r['translation'], r['translation'], size=2)
    to_centre = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]], dtype=np.float64)
    persp = np.array([[1, 0, 0], [0, 1, 0], [px / w, py / h, 1]], dtype=np.float64)
    cos, sin = math.cos(theta) * scale, math.sin(theta) * scale
    rot_scale = np.array([[cos, -sin, 0], [sin, cos, 0], [0, 0, 1]], dtype=np.float64)
    back = np.array([[1, 0, cx + tx * w], [0, 1, cy + ty * h], [0, 0, 1]], dtype=np.float64)
    H = back @ rot_scale @ persp @ to_centre
    return H / H[2, 2]


def image_corners(size: Tuple[int, int]) -> np.ndarray:
    """(4, 2) pixel-centre corners ``(0, 0), (w-1, 0), (w-1, h-1), (0, h-1)`` of a ``(w, h)`` image."""
    w, h = size
    return np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float64)


def warp_points(H: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N, 2) points through a (3, 3) homography; points mapped to infinity come back as ``inf``."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    homog = np.concatenate([points, np.ones((len(points), 1))], axis=1) @ np.asarray(H, dtype=np.float64).T
    with np.errstate(divide='ignore', invalid='ignore'):
        out = homog[:, :2] / homog[:, 2:3]
    out[~np.isfinite(out).all(axis=1)] = np.inf
    return out


def grid_correspondences(H: np.ndarray, size: Tuple[int, int], step: int = 8) -> Tuple[np.ndarray, np.ndarray]:
    """Ground-truth correspondences of a ``(w, h)`` pair: RGB pixels on a ``step``-pixel grid (offset by half a
    step) and their images under ``H`` (RGB -> thermal), kept where they land inside the thermal image.

    Returns:
        tuple[np.ndarray, np.ndarray]: (N, 2) RGB and (N, 2) thermal pixels.
    """
    w, h = size
    xs, ys = np.meshgrid(np.arange(step / 2, w, step), np.arange(step / 2, h, step))
    rgb = np.stack([xs.ravel(), ys.ravel()], axis=1)
    thermal = warp_points(H, rgb)
    inside = (thermal[:, 0] >= 0) & (thermal[:, 0] <= w - 1) & (thermal[:, 1] >= 0) & (thermal[:, 1] <= h - 1)
    return rgb[inside], thermal[inside]


def check_homography(H, size: Optional[Tuple[int, int]], name: str, max_area_ratio: float = 25.0,
                     dst_size: Optional[Tuple[int, int]] = None) -> np.ndarray:
    """Validate a ground-truth homography from a ``(w, h)`` image to a ``dst_size`` one (default: the same size)
    and return it as (3, 3) float64.

    Raises ``ValueError`` naming ``name`` when ``H`` is not a finite 3x3 matrix, is singular or (checked only with
    a ``size``) sends an image corner behind the camera (to infinity or through the horizon), folds the image
    (non-convex or flipped corner quad) or makes the image cover more than ``max_area_ratio`` times (or less than
    its inverse) the destination image's area: cameras of different resolutions with one field of view pass.
    """
    try:
        mat = np.asarray(H, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f'{name}: homography must be a 3x3 numeric matrix, got {H!r}') from None
    if mat.shape != (3, 3) or not np.isfinite(mat).all():
        raise ValueError(f'{name}: homography must be a finite 3x3 matrix, got shape {mat.shape}: {mat.tolist()}')
    scale = np.abs(mat).max()
    if scale == 0 or abs(np.linalg.det(mat / scale)) < 1e-12:
        raise ValueError(f'{name}: degenerate (singular) homography {mat.tolist()}')
    if size is None:
        return mat
    corners = image_corners(size)
    depth = np.concatenate([corners, np.ones((4, 1))], axis=1) @ mat[2]
    if not ((depth > 0).all() or (depth < 0).all()):
        raise ValueError(f'{name}: degenerate homography {mat.tolist()}: it sends part of the {size[0]}x{size[1]} '
                         f'image through the horizon (corner depths {depth.round(4).tolist()})')
    quad = warp_points(mat, corners)
    edges = np.roll(quad, -1, axis=0) - quad
    cross = edges[:, 0] * np.roll(edges, -1, axis=0)[:, 1] - edges[:, 1] * np.roll(edges, -1, axis=0)[:, 0]
    if not (cross > 0).all():
        raise ValueError(f'{name}: degenerate homography {mat.tolist()}: the image corners map to a folded or '
                         f'mirrored quadrilateral {quad.round(2).tolist()}')
    area = 0.5 * abs(np.sum(quad[:, 0] * np.roll(quad[:, 1], -1) - np.roll(quad[:, 0], -1) * quad[:, 1]))
    dst_w, dst_h = size if dst_size is None else dst_size
    ratio = area / float((dst_w - 1) * (dst_h - 1))
    if not 1 / max_area_ratio <= ratio <= max_area_ratio:
        raise ValueError(f'{name}: degenerate homography {mat.tolist()}: the {size[0]}x{size[1]} image covers '
                         f'{ratio:.4g} times the area of the {dst_w}x{dst_h} destination image (allowed '
                         f'1/{max_area_ratio:g} .. {max_area_ratio:g})')
    return mat / mat[2, 2] if mat[2, 2] != 0 else mat


def scale_matrix(src_size: Tuple[int, int], dst_size: Tuple[int, int]) -> np.ndarray:
    """(3, 3) map of pixel centres of a ``src_size`` image resized to ``dst_size`` (both ``(w, h)``).

    ``x_dst = (x_src + 0.5) * dst_w / src_w - 0.5``, as ``cv2.resize`` samples.
    """
    sx, sy = dst_size[0] / src_size[0], dst_size[1] / src_size[1]
    return np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5], [0, 0, 1]], dtype=np.float64)


def estimate_homography(kpts0: np.ndarray, kpts1: np.ndarray, ransac_thr: float = 3.0,
                        max_iters: int = 10000, confidence: float = 0.99999) -> Optional[np.ndarray]:
    """Homography from matches with ``cv2.findHomography(..., cv2.USAC_MAGSAC)``; ``None`` when it fails
    (fewer than 4 matches or no model found)."""
    if len(kpts0) < 4:
        return None
    H, _ = cv2.findHomography(
        np.asarray(kpts0, dtype=np.float64).reshape(-1, 1, 2), np.asarray(kpts1, dtype=np.float64).reshape(-1, 1, 2),
        cv2.USAC_MAGSAC, ransac_thr, maxIters=max_iters, confidence=confidence)
    if H is None or not np.isfinite(H).all() or H.shape != (3, 3):
        return None
    return H


def mean_corner_error(H_gt: np.ndarray, H_est: Optional[np.ndarray], size: Tuple[int, int]) -> float:
    """Mean distance (pixels) between the image-0 corners warped by ``H_gt`` and by ``H_est``;
    ``inf`` when there is no estimate (HPatches protocol)."""
    if H_est is None:
        return math.inf
    corners = image_corners(size)
    err = np.linalg.norm(warp_points(H_gt, corners) - warp_points(H_est, corners), axis=1)
    value = float(err.mean())
    return value if math.isfinite(value) else math.inf


def error_auc(errors: Sequence[float], thresholds: Sequence[float] = AUC_THRESHOLDS) -> Dict[float, float]:
    """Area under the cumulative error curve up to each threshold, normalised to [0, 1] (SuperGlue/LoFTR code).

    The curve joins the points ``(0, 0)`` and ``(e_k, k / N)`` of the sorted errors linearly (trapezoids) and is
    held flat from the last error below ``t`` to ``t``; failed pairs carry ``inf`` and only lower the recall.
    """
    errors = np.sort(np.asarray(list(errors), dtype=np.float64))
    if errors.size == 0:
        raise ValueError('error_auc needs at least one error value')
    recall = np.concatenate([[0.0], np.arange(1, errors.size + 1) / errors.size])
    errors = np.concatenate([[0.0], errors])
    aucs = {}
    for thr in thresholds:
        last = int(np.searchsorted(errors, thr))
        r = np.concatenate([recall[:last], [recall[last - 1]]])
        e = np.concatenate([errors[:last], [thr]])
        aucs[thr] = float(np.trapezoid(r, x=e) / thr)
    return aucs


def match_errors(kpts0: np.ndarray, kpts1: np.ndarray, H_gt: np.ndarray) -> np.ndarray:
    """(N,) distances between ``H_gt(kpts0)`` and ``kpts1`` (the reprojection error of each match)."""
    if len(kpts0) == 0:
        return np.zeros(0)
    return np.linalg.norm(warp_points(H_gt, kpts0) - np.asarray(kpts1, dtype=np.float64).reshape(-1, 2), axis=1)
