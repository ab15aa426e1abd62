# Copyright (c) mmspecgene contributors. All rights reserved.
"""Camera-like RGB-thermal JPEG pairs at real resolutions (1280×1024, 640×512) for decoding benchmarks and tests.

Flat synthetic shapes compress to a fraction of a real frame's bytes and decode far faster. These frames have
natural-image statistics instead: a 1/f (pink) luminance spectrum, objects with sharp edges and their own
textures, periodic structures, low-frequency colour, optical blur and sensor noise, stored as JPEG at quality 90-95
(1280×1024: 150-225 KB visible, 80-140 KB thermal, so that entropy decoding and the IDCT weigh as in camera files,
not as in flat shapes).
The aligned thermal frame shows the same objects as smooth warm or cold regions over a low-detail background, with
its own blur and noise, stored as grey (3-channel like LLVIP's infrared, or 1-channel).
"""
import os
import os.path as osp
from typing import List, Tuple

import cv2
import numpy as np

CAMERA_SIZES = ((1024, 1280), (512, 640))  # (H, W)
JPEG_QUALITY = (90, 95)


def pink_noise(rng: np.random.Generator, h: int, w: int, alpha: float = 1.0) -> np.ndarray:
    """H×W float32 noise with amplitude spectrum 1/f^alpha, zero mean, unit standard deviation."""
    spectrum = np.fft.rfft2(rng.standard_normal((h, w)))
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    radius = np.sqrt(fx**2 + fy**2)
    radius[0, 0] = 1.0 / max(h, w)
    field = np.fft.irfft2(spectrum / radius**alpha, s=(h, w))
    field -= field.mean()
    return (field / (field.std() + 1e-12)).astype(np.float32)


def _random_shape_mask(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """H×W uint8 mask of one random ellipse or polygon covering 0.5-8% of the frame."""
    mask = np.zeros((h, w), dtype=np.uint8)
    cx, cy = int(rng.uniform(0, w)), int(rng.uniform(0, h))
    size = np.sqrt(rng.uniform(0.005, 0.08) * h * w)
    if rng.random() < 0.5:
        axes = (max(2, int(size * rng.uniform(0.4, 1.0))), max(2, int(size * rng.uniform(0.4, 1.0))))
        cv2.ellipse(mask, (cx, cy), axes, float(rng.uniform(0, 180)), 0, 360, 1, -1, cv2.LINE_AA)
    else:
        count = int(rng.integers(3, 8))
        angles = np.sort(rng.uniform(0, 2 * np.pi, count))
        radii = size * rng.uniform(0.3, 0.9, count)
        points = np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], axis=1).astype(np.int32)
        cv2.fillPoly(mask, [points], 1, cv2.LINE_AA)
    return mask


def camera_frame_pair(rng: np.random.Generator, hw: Tuple[int, int],
                      num_objects: int = 24) -> Tuple[np.ndarray, np.ndarray]:
    """One aligned pair: H×W×3 uint8 BGR visible frame and H×W uint8 thermal frame."""
    h, w = hw
    lum = 0.45 + 0.12 * pink_noise(rng, h, w, 1.5)
    temp = 0.35 + 0.06 * pink_noise(rng, h, w, 1.6)
    chroma = [0.05 * pink_noise(rng, h, w, 1.5) for _ in range(2)]
    textures = [pink_noise(rng, h, w, alpha) for alpha in (1.0, 1.3, 1.6)]  # shared by the objects
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    for _ in range(num_objects):
        mask = _random_shape_mask(rng, h, w).astype(bool)
        if not mask.any():
            continue
        texture = float(rng.uniform(0.03, 0.06)) * textures[int(rng.integers(len(textures)))][mask]
        if rng.random() < 0.3:  # periodic structure (windows, bricks, fences)
            period, angle = float(rng.uniform(4, 24)), float(rng.uniform(0, np.pi))
            phase = (xs[mask] * np.cos(angle) + ys[mask] * np.sin(angle)) * 2 * np.pi / period
            texture = texture + 0.08 * np.sign(np.sin(phase))
        lum[mask] = float(rng.uniform(0.1, 0.9)) + texture
        for plane in chroma:
            plane[mask] = float(rng.uniform(-0.12, 0.12)) + 0.1 * texture
        temp[mask] = float(rng.uniform(0.2, 0.95)) + 0.15 * texture
    vignette = 1.0 - 0.25 * (((xs - w / 2) / w)**2 + ((ys - h / 2) / h)**2)
    lum *= vignette
    b, r = lum + chroma[0], lum + chroma[1]
    g = (lum - 0.114 * b - 0.299 * r) / 0.587
    rgb = cv2.GaussianBlur(np.dstack([b, g, r]), (0, 0), 1.5)
    rgb = rgb * 255.0
    rgb += rng.normal(0.0, 1.0, rgb.shape) * (0.2 + 0.02 * np.sqrt(np.clip(rgb, 0, None)))  # read + shot noise
    thermal = cv2.GaussianBlur(temp, (0, 0), 2.0) * 255.0
    thermal += rng.normal(0.0, 0.4, thermal.shape) + rng.normal(0.0, 0.5, (1, w))  # noise + column pattern
    return (np.clip(rgb, 0, 255).round().astype(np.uint8), np.clip(thermal, 0, 255).round().astype(np.uint8))


def write_camera_pairs(root: str, num: int, hw: Tuple[int, int] = (1024, 1280), seed: int = 0,
                       quality: Tuple[int, int] = JPEG_QUALITY, thermal_channels: int = 3) -> List[Tuple[str, str]]:
    """Write ``num`` pairs as ``root/{visible,infrared}/cam_<index>.jpg`` + ``root/annotations/pairs_train.txt``.

    JPEG quality is drawn per file from ``quality`` (inclusive); the thermal JPEG holds 3 identical grey channels
    (``thermal_channels=3``, like LLVIP) or one. Returns the (visible_rel, infrared_rel) pairs.
    """
    if thermal_channels not in (1, 3):
        raise ValueError(f'thermal_channels must be 1 or 3, got {thermal_channels}')
    rng = np.random.default_rng(seed)
    for sub in ('visible', 'infrared', 'annotations'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    pairs = []
    for index in range(num):
        rgb, thermal = camera_frame_pair(rng, hw)
        if thermal_channels == 3:
            thermal = cv2.cvtColor(thermal, cv2.COLOR_GRAY2BGR)
        name = f'cam_{index:05d}.jpg'
        for sub, img in (('visible', rgb), ('infrared', thermal)):
            q = int(rng.integers(quality[0], quality[1] + 1))
            if not cv2.imwrite(osp.join(root, sub, name), img, [cv2.IMWRITE_JPEG_QUALITY, q]):
                raise OSError(f'cannot write {osp.join(root, sub, name)}')
        pairs.append((name, name))
    with open(osp.join(root, 'annotations', 'pairs_train.txt'), 'w', encoding='utf-8') as f:
        f.writelines(f'{rgb_rel} {ir_rel}\n' for rgb_rel, ir_rel in pairs)
    return pairs
