# Copyright (c) mmspecgene contributors. All rights reserved.
"""Small synthetic RGB-thermal datasets in every on-disk layout mmspecgene reads.

The scenes are built so that a model trained for a few minutes on CPU learns something measurable, and the two
modalities disagree in ways the model can learn:

* Background: a textured RGB image (colour gradient, stripes, smooth and fine noise) over a cool, smooth thermal
  image (grey levels about 30-85, cooler at the top).
* Road (always in segmentation, often elsewhere): a lower band of grey asphalt with white or yellow lane marks in
  RGB, and a mid-warm even tone (about 95-125) in thermal, where the lane marks do not show.
* Warm objects: people (tall ellipses, or rounded rectangles with a head) and cars (wide bodies with a cabin, wheels
  and lights). In RGB they are coloured and textured; in thermal they are bright with a smooth interior
  (people about 185-240, cars about 150-185 with a hot engine spot at the front of about 235-255).
* Visibility per object (``visibility`` in the generator's records):

  * ``'both'``: seen in RGB and thermal;
  * ``'thermal_only'``: a warm object in shadow, blended into the RGB background at 4 % opacity, so its RGB contrast
    is near zero while thermal shows it bright;
  * ``'rgb_only'``: a cold object (a parked car with its engine off, a mannequin or a poster of a person): seen in
    RGB, absent from thermal, where it shows the ambient temperature of the scene behind it (and hides warm objects
    behind it).

* Night frames (every third sample of every split, ``index % 3 == 2``): the RGB image is darkened to a mean of about
  5-20 grey levels (with sensor noise; running cars keep their headlights), while thermal is unchanged (a slightly
  cooler background). Night frames hold no ``'rgb_only'`` object, which would be visible in neither modality.

Labelling rule (detection and segmentation): **every object that is present in at least one modality (RGB or
thermal) is labelled**, whatever its visibility. In detection, objects smaller than a normal pedestrian (the few
"tiny" far-away people) or more than half hidden by nearer objects are written with ``iscrowd=1`` (ignored
regions); every detection image holds at least one ``iscrowd=0`` object. Segmentation labels are 0..3 for
``SYNTHETIC_SEG_CLASSES`` with 255 (ignore) on a one-pixel ring around each object. The SOD label is the mask of
the single most salient warm object (the largest object, always warm and drawn in front); cold ``'rgb_only'``
distractors are background.

Every sample is generated from its own ``numpy.random.Generator`` seeded with ``(seed, task, split, index)``, so
output is deterministic for a seed, differs between samples and between seeds, and any sample can be regenerated
alone. RGB files are ordinary colour files (cv2 writes BGR order on disk); thermal files are single-channel grey.

Camera frames (``camera_frames=N`` in every writer, ``--camera-frames N`` in the CLI): the last ``N`` samples of each
split are drawn at real camera sizes, alternately 1280×1024 (LLVIP) and 640×512 (FLIR/KAIST-class thermal cores),
so that every test pipeline really resizes them, and their thermal image is stored as a 3-channel grey file (as
LLVIP ships its infrared JPEGs). In the pretraining layout, which pairs files by an explicit list, the 1280×1024
camera pairs also have a thermal image at its native 640×512, half the RGB resolution (load them with
``LoadRGBTImagePair(size_mismatch='resize_thermal')``).
"""
import json
import os
import os.path as osp
import shutil
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .camera_frames import camera_frame_pair
from .metainfo import (
    SOD_CLASSES,
    SOD_PALETTE,
    SYNTHETIC_DET_CLASSES,
    SYNTHETIC_DET_PALETTE,
    SYNTHETIC_SEG_CLASSES,
    SYNTHETIC_SEG_PALETTE,
)

SYNTHETIC_SOD_CLASSES = SOD_CLASSES
SYNTHETIC_SOD_PALETTE = SOD_PALETTE
SYNTHETIC_PRETRAIN_CONDITIONS = ('day', 'night')
SYNTHETIC_IGNORE_INDEX = 255
SYNTHETIC_TASKS = ('pretrain', 'det', 'seg', 'sod', 'match')
SYNTHETIC_CAMERA_SIZES = ((1280, 1024), (640, 512))
SYNTHETIC_CAMERA_THERMAL_SIZE = (640, 512)

__all__ = [
    'SYNTHETIC_DET_CLASSES', 'SYNTHETIC_DET_PALETTE', 'SYNTHETIC_SEG_CLASSES', 'SYNTHETIC_SEG_PALETTE',
    'SYNTHETIC_SOD_CLASSES', 'SYNTHETIC_SOD_PALETTE', 'SYNTHETIC_PRETRAIN_CONDITIONS', 'SYNTHETIC_IGNORE_INDEX',
    'SYNTHETIC_TASKS', 'SYNTHETIC_CAMERA_SIZES', 'SYNTHETIC_CAMERA_THERMAL_SIZE', 'make_pretrain', 'make_det',
    'make_seg', 'make_sod', 'make_match', 'make_all', 'is_night_index'
]

# Object size ranges in pixels (width, height) for an image 128 pixels high; scaled by height / 128.
_REF_HEIGHT = 128.0
_PERSON_W = (14, 40)
_PERSON_H = (30, 80)
_CAR_W = (40, 70)
_CAR_H = (20, 35)
_TINY_PERSON_H = (14, 26)
_SOD_PERSON_H = (64, 100)
_SOD_CAR_W = (64, 100)
_MIN_VISIBLE_FRACTION = 0.5
_TASK_CODES = dict(pretrain=0, det=1, seg=2, sod=3, match=4)
_SPLIT_CODES = dict(train=0, test=1, val=2)
_JPEG_PARAMS = [cv2.IMWRITE_JPEG_QUALITY, 95]
_SEG_IDS = dict(person=1, car=2)

ProgressFn = Optional[Callable[[], None]]


def is_night_index(index: int) -> bool:
    """Whether sample ``index`` (0-based, within its split) is a night frame: every third one."""
    return index % 3 == 2


# ----------------------------------------------------------------------------------------------------------------
# Drawing helpers (all images float32 while composing; RGB arrays are H×W×3 in RGB order)
# ----------------------------------------------------------------------------------------------------------------
def _grid(height: int, width: int) -> Tuple[np.ndarray, np.ndarray]:
    """Row and column coordinates, each H×W float32."""
    ys, xs = np.mgrid[0:height, 0:width]
    return ys.astype(np.float32), xs.astype(np.float32)


def _smooth_noise(rng: np.random.Generator, height: int, width: int, cells: int) -> np.ndarray:
    """Low-frequency noise, H×W float32 of roughly unit amplitude, from a ``cells``-wide random grid."""
    coarse = rng.standard_normal((cells + 1, cells + 1)).astype(np.float32)
    return cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)


def _fill_ellipse(canvas: np.ndarray, x1: float, y1: float, x2: float, y2: float) -> None:
    """Fill the ellipse inscribed in the pixel box [x1, x2]×[y1, y2] (inclusive) with 1, at half-pixel precision."""
    center = (int(round(x1 + x2)), int(round(y1 + y2)))
    axes = (max(int(round(x2 - x1)), 0), max(int(round(y2 - y1)), 0))
    cv2.ellipse(canvas, center, axes, 0, 0, 360, 1, -1, lineType=cv2.LINE_8, shift=1)


def _fill_rounded_rect(canvas: np.ndarray, x1: int, y1: int, x2: int, y2: int, radius: int) -> None:
    """Fill the pixel box [x1, x2]×[y1, y2] (inclusive) with rounded corners of ``radius`` with 1."""
    radius = int(max(0, min(radius, (x2 - x1) // 2, (y2 - y1) // 2)))
    cv2.rectangle(canvas, (x1 + radius, y1), (x2 - radius, y2), 1, -1)
    cv2.rectangle(canvas, (x1, y1 + radius), (x2, y2 - radius), 1, -1)
    for cx, cy in ((x1 + radius, y1 + radius), (x2 - radius, y1 + radius), (x1 + radius, y2 - radius),
                   (x2 - radius, y2 - radius)):
        cv2.circle(canvas, (cx, cy), radius, 1, -1)


def _gaussian_blob(ys: np.ndarray, xs: np.ndarray, cy: float, cx: float, sy: float, sx: float) -> np.ndarray:
    """Unit-peak Gaussian over the grid, H×W float32."""
    return np.exp(-0.5 * (((ys - cy) / sy)**2 + ((xs - cx) / sx)**2)).astype(np.float32)


class _Canvas:
    """A scene being composed: RGB (H×W×3 float, RGB order), thermal (H×W float), instance ids (H×W int32)."""

    def __init__(self, rng: np.random.Generator, width: int, height: int, night: bool, with_road: bool):
        self.width, self.height, self.night = width, height, night
        self.scale = height / _REF_HEIGHT
        ys, xs = _grid(height, width)
        self.ys, self.xs = ys, xs
        self.rgb = self._rgb_background(rng, ys, xs)
        self.thermal = self._thermal_background(rng, ys, xs, night)
        self.instance_ids = np.zeros((height, width), np.int32)
        self.road = np.zeros((height, width), bool)
        self.road_top = None
        self.horizon = float(height * rng.uniform(0.3, 0.45))
        self.light_masks: List[np.ndarray] = []
        self.objects: List[dict] = []
        if with_road:
            self._add_road(rng, ys, xs)
        self.ambient_thermal = self.thermal.copy()

    @staticmethod
    def _rgb_background(rng, ys, xs) -> np.ndarray:
        height, width = ys.shape
        angle = rng.uniform(0, 2 * np.pi)
        proj = xs * np.cos(angle) + ys * np.sin(angle)
        ramp = (proj - proj.min()) / max(float(np.ptp(proj)), 1e-6)
        colour_start, colour_end = rng.uniform(35, 225, (2, 3)).astype(np.float32)
        rgb = colour_start * (1 - ramp)[..., None] + colour_end * ramp[..., None]
        stripe_angle = rng.uniform(0, np.pi)
        stripe_period = rng.uniform(5, 24)
        stripes = np.sin(2 * np.pi * (xs * np.cos(stripe_angle) + ys * np.sin(stripe_angle)) / stripe_period +
                         rng.uniform(0, 2 * np.pi))
        rgb += rng.uniform(6, 24) * stripes[..., None] * rng.uniform(0.3, 1.0, 3).astype(np.float32)
        rgb += (rng.uniform(8, 20) * _smooth_noise(rng, height, width, 6)[..., None] *
                rng.uniform(0.5, 1.0, 3).astype(np.float32))
        rgb += rng.uniform(2, 6) * rng.standard_normal(rgb.shape, dtype=np.float32)
        return rgb.astype(np.float32)

    @staticmethod
    def _thermal_background(rng, ys, xs, night: bool) -> np.ndarray:
        height, width = ys.shape
        level = rng.uniform(45, 80) - (10 if night else 0)
        thermal = level + rng.uniform(-15, 3) * (1 - ys / max(height - 1, 1))
        thermal = thermal + rng.uniform(2, 6) * _smooth_noise(rng, height, width, 4)
        return thermal.astype(np.float32)

    def _add_road(self, rng, ys, xs) -> None:
        height, width = ys.shape
        top = height * rng.uniform(0.58, 0.75)
        slope = rng.uniform(-0.08, 0.08)
        edge = top + slope * (xs - width / 2)
        self.road = ys >= edge
        self.road_top = float(top + abs(slope) * width / 2)
        asphalt = rng.uniform(60, 110) + rng.uniform(-6, 6, 3).astype(np.float32)
        road_rgb = (asphalt + 6 * _smooth_noise(rng, height, width, 8)[..., None] +
                    5 * rng.standard_normal((height, width, 3), dtype=np.float32))
        # Dashed lane mark along the middle of the band and a solid line along its top edge (RGB only).
        lane_y = (edge + height) / 2
        period = rng.uniform(14, 24) * self.scale
        dash = period * rng.uniform(0.45, 0.65)
        thickness = max(1.0, 1.2 * self.scale)
        dashes = (np.abs(ys - lane_y) <= thickness) & (np.mod(xs + rng.uniform(0, period), period) < dash)
        edge_line = np.abs(ys - edge - 2 * self.scale) <= 0.6 * thickness
        paint = (rng.uniform(215, 240), rng.uniform(215, 240), 225.0) if rng.random() < 0.6 else (235.0, 200.0, 60.0)
        road_rgb[dashes | edge_line] = np.asarray(paint, np.float32)
        self.rgb[self.road] = road_rgb[self.road]
        road_thermal = rng.uniform(95, 125) + 3 * _smooth_noise(rng, height, width, 5)
        road_thermal[dashes] -= 4
        self.thermal[self.road] = road_thermal[self.road]

    def add_object(self, rng: np.random.Generator, label: str, x0: int, y0: int, width: int, height: int,
                   visibility: str, tiny: bool = False) -> dict:
        """Draw one object with its top-left corner at (x0, y0) over what is already drawn; returns its record."""
        if label == 'person':
            shape, rgb_local, thermal_local, light_local = _draw_person(rng, width, height)
        else:
            shape, rgb_local, thermal_local, light_local = _draw_car(rng, width, height)
        region = (slice(y0, y0 + height), slice(x0, x0 + width))
        rgb_region = self.rgb[region]
        background_rgb = rgb_region[shape].mean(axis=0)
        if visibility == 'thermal_only':
            rgb_region[shape] = 0.04 * rgb_local[shape] + 0.96 * rgb_region[shape]
        else:
            object_rgb = rgb_local[shape]
            if np.abs(object_rgb.mean(axis=0) - background_rgb).mean() < 40:
                # Too close to the background colour: push the object away from it so it stays visible in RGB.
                object_rgb = object_rgb + (-70.0 if background_rgb.mean() > 127 else 70.0)
            rgb_region[shape] = object_rgb
        if visibility == 'rgb_only':
            # A cold object hides what is behind it and shows the ambient (background) temperature.
            self.thermal[region][shape] = self.ambient_thermal[region][shape] + rng.uniform(-3, 3)
        else:
            self.thermal[region][shape] = thermal_local[shape]
        index = len(self.objects) + 1
        self.instance_ids[region][shape] = index
        mask = np.zeros((self.height, self.width), bool)
        mask[region] = shape
        if label == 'car' and visibility != 'rgb_only' and light_local.any():
            light = np.zeros((self.height, self.width), bool)
            light[region] = light_local & shape
            self.light_masks.append(light)
        rows, cols = np.nonzero(shape)
        box = (x0 + int(cols.min()), y0 + int(rows.min()), x0 + int(cols.max()) + 1, y0 + int(rows.max()) + 1)
        record = dict(label=label, visibility=visibility, tiny=tiny, mask=mask, box=box, index=index)
        self.objects.append(record)
        return record

    def finish(self, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
        """Apply lighting and sensor effects; returns RGB (H×W×3 uint8, RGB order) and thermal (H×W uint8)."""
        height, width = self.height, self.width
        if self.night:
            rgb = self.rgb * rng.uniform(0.05, 0.12) + np.asarray([0, 1, 4], np.float32)
            for light in self.light_masks:
                glow = cv2.GaussianBlur(light.astype(np.float32), (0, 0), 2.5 * self.scale)
                glow = np.minimum(glow / max(float(glow.max()), 1e-6), 1.0)
                rgb += glow[..., None] * np.asarray([200, 190, 150], np.float32)
                rgb[light] = np.asarray([250, 245, 220], np.float32)
            rgb += rng.uniform(1.0, 2.5) * rng.standard_normal(rgb.shape, dtype=np.float32)
        else:
            rgb = self.rgb * rng.uniform(0.9, 1.1) + rng.uniform(-10, 10)
            rgb += 2.0 * rng.standard_normal(rgb.shape, dtype=np.float32)
        thermal = cv2.GaussianBlur(self.thermal, (0, 0), 0.8)
        thermal = thermal + rng.uniform(1.0, 2.5) * rng.standard_normal((height, width), dtype=np.float32)
        return (np.clip(np.rint(rgb), 0, 255).astype(np.uint8), np.clip(np.rint(thermal), 0, 255).astype(np.uint8))

    def visible_fraction(self, record: dict) -> float:
        """Fraction of the object's pixels not hidden by objects drawn after it."""
        return float((self.instance_ids[record['mask']] == record['index']).mean())


def _draw_person(rng: np.random.Generator, width: int,
                 height: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A person in a width×height box: shape (h×w bool), RGB (h×w×3), thermal (h×w), light mask (h×w bool)."""
    ys, xs = _grid(height, width)
    shape = np.zeros((height, width), np.uint8)
    if rng.random() < 0.35:
        _fill_ellipse(shape, 0, 0, width - 1, height - 1)
        head_rows = 0
    else:
        head_radius = max(2, int(round(min(0.3 * width, 0.12 * height))))
        center_x = (width - 1) / 2
        _fill_ellipse(shape, center_x - head_radius, 0, center_x + head_radius, 2 * head_radius)
        _fill_rounded_rect(shape, 0, 2 * head_radius - 1, width - 1, height - 1, width // 3)
        head_rows = 2 * head_radius
    shape = shape.astype(bool)

    shirt, trousers = rng.uniform(20, 235, (2, 3)).astype(np.float32)
    waist = height * rng.uniform(0.45, 0.6)
    upper = (ys < waist)[..., None]
    rgb = np.where(upper, shirt, trousers).astype(np.float32)
    period = rng.uniform(3, 8)
    if rng.random() < 0.5:
        pattern = np.sign(np.sin(2 * np.pi * ys / period))
    else:
        pattern = np.sign(np.sin(2 * np.pi * xs / period) * np.sin(2 * np.pi * ys / period))
    rgb += rng.uniform(15, 40) * pattern[..., None] * upper
    if head_rows:
        rgb[:head_rows] = rng.uniform((90, 60, 40), (235, 195, 165)).astype(np.float32)
    half_width = max((width - 1) / 2, 1.0)
    rgb *= (0.7 + 0.4 * (1 - np.abs(xs - (width - 1) / 2) / half_width))[..., None]
    rgb += 5 * rng.standard_normal(rgb.shape, dtype=np.float32)

    radial = ((xs - (width - 1) / 2) / max(width / 2, 1))**2 + ((ys - (height - 1) / 2) / max(height / 2, 1))**2
    thermal = rng.uniform(185, 225) + 12 * (1 - np.clip(radial, 0, 1))
    if head_rows:
        thermal[:head_rows] += rng.uniform(5, 12)
    return shape, rgb, thermal.astype(np.float32), np.zeros_like(shape)


def _draw_car(rng: np.random.Generator, width: int,
              height: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A car in a width×height box: shape, RGB, thermal and headlight mask (as :func:`_draw_person`)."""
    ys, xs = _grid(height, width)
    facing_right = rng.random() < 0.5
    body_top, body_bottom = int(round(0.38 * height)), int(round(0.82 * height))
    wheel_radius = max(2, int(round(0.18 * height)))
    shape = np.zeros((height, width), np.uint8)
    _fill_rounded_rect(shape, 0, body_top, width - 1, body_bottom, max(1, height // 8))
    cabin_x = np.array([0.16, 0.3, 0.72, 0.86]) * (width - 1)
    glass_x = np.array([0.22, 0.33, 0.69, 0.8]) * (width - 1)
    if not facing_right:
        cabin_x, glass_x = (width - 1) - cabin_x[::-1], (width - 1) - glass_x[::-1]
    cabin = np.stack([cabin_x, [body_top, 0, 0, body_top]], axis=1)
    glass = np.stack([glass_x, [body_top - 1, 0.25 * body_top, 0.25 * body_top, body_top - 1]], axis=1)
    cv2.fillPoly(shape, [np.rint(cabin).astype(np.int32)], 1)
    wheels = np.zeros((height, width), np.uint8)
    for center_x in (0.22 * (width - 1), 0.78 * (width - 1)):
        _fill_ellipse(wheels, center_x - wheel_radius, height - 1 - 2 * wheel_radius, center_x + wheel_radius,
                      height - 1)
    glass_mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(glass_mask, [np.rint(glass).astype(np.int32)], 1)
    shape = (shape | wheels).astype(bool)
    wheels, glass_mask = wheels.astype(bool), glass_mask.astype(bool) & shape

    light_width = max(2, int(round(0.07 * width)))
    light_rows = (ys >= body_top + 0.15 * height) & (ys <= body_top + 0.3 * height)
    front_cols = xs >= width - light_width if facing_right else xs < light_width
    rear_cols = xs < light_width if facing_right else xs >= width - light_width
    headlight, taillight = light_rows & front_cols & shape, light_rows & rear_cols & shape

    paint = rng.uniform(20, 235, 3).astype(np.float32)
    rgb = paint * (0.8 + 0.4 * (1 - ys / max(height - 1, 1)))[..., None]
    rgb[glass_mask] = (np.asarray([50, 60, 80], np.float32) + (60 * ys / max(height - 1, 1))[glass_mask][:, None])
    rgb[wheels] = 25.0
    rgb[headlight] = np.asarray([245, 235, 190], np.float32)
    rgb[taillight] = np.asarray([200, 30, 30], np.float32)
    rgb += 4 * rng.standard_normal(rgb.shape, dtype=np.float32)

    body_temperature = rng.uniform(150, 185)
    thermal = np.full((height, width), body_temperature, np.float32)
    thermal[glass_mask] -= 20
    thermal[wheels] += 25
    engine_x = (width - 1) * (0.82 if facing_right else 0.18)
    exhaust_x = (width - 1) * (0.04 if facing_right else 0.96)
    thermal += (rng.uniform(240, 255) - body_temperature) * _gaussian_blob(ys, xs, 0.6 * height, engine_x, 0.2 * height,
                                                                            0.14 * width)
    thermal += 50 * _gaussian_blob(ys, xs, 0.78 * height, exhaust_x, 0.08 * height, 0.05 * width)
    return shape, rgb, np.minimum(thermal, 255), headlight


# ----------------------------------------------------------------------------------------------------------------
# Scene layouts
# ----------------------------------------------------------------------------------------------------------------
def _sample_visibility(rng: np.random.Generator, label: str, night: bool) -> str:
    """'both', 'thermal_only' (warm, near-zero RGB contrast) or 'rgb_only' (cold); night frames only hold warm ones."""
    draw = rng.random()
    if night:
        return 'both'
    thermal_only, rgb_only = (0.15, 0.12) if label == 'person' else (0.1, 0.3)
    if draw < thermal_only:
        return 'thermal_only'
    if draw < thermal_only + rgb_only:
        return 'rgb_only'
    return 'both'


def _sample_size(rng: np.random.Generator, label: str, scale: float, canvas: _Canvas,
                 tiny: bool = False) -> Tuple[int, int]:
    """Object (width, height) in pixels for an image scaled by ``scale`` from 128 pixels high."""
    if label == 'person':
        height = rng.uniform(*(_TINY_PERSON_H if tiny else _PERSON_H))
        width = height * rng.uniform(0.35, 0.55)
        if not tiny:
            width = np.clip(width, *_PERSON_W)
    else:
        width = rng.uniform(*_CAR_W)
        height = np.clip(width * rng.uniform(0.4, 0.55), *_CAR_H)
    width = int(np.clip(round(width * scale), 3, canvas.width - 2))
    height = int(np.clip(round(height * scale), 6, canvas.height - 2))
    return width, height


def _box_iou(box: Sequence[float], others: Sequence[Sequence[float]]) -> float:
    """Largest IoU between ``box`` (x1, y1, x2, y2) and any of ``others``; 0 when there are none."""
    best = 0.0
    for other in others:
        inter_w = min(box[2], other[2]) - max(box[0], other[0])
        inter_h = min(box[3], other[3]) - max(box[1], other[1])
        if inter_w > 0 and inter_h > 0:
            inter = inter_w * inter_h
            union = ((box[2] - box[0]) * (box[3] - box[1]) + (other[2] - other[0]) * (other[3] - other[1]) - inter)
            best = max(best, inter / union)
    return best


def _place(rng: np.random.Generator, canvas: _Canvas, label: str, width: int, height: int,
           placed: List[Tuple[int, int, int, int]], max_iou: float) -> Tuple[int, int]:
    """Top-left corner for an object standing on the ground (cars on the road when there is one)."""
    if label == 'car' and canvas.road_top is not None:
        bottom_low = canvas.road_top + 0.4 * height
    else:
        bottom_low = canvas.horizon + 0.3 * height
    bottom_low = int(np.clip(round(bottom_low), height, canvas.height))
    x0 = y0 = 0
    for _ in range(30):
        bottom = int(rng.integers(bottom_low, canvas.height + 1))
        x0, y0 = int(rng.integers(0, canvas.width - width + 1)), bottom - height
        if _box_iou((x0, y0, x0 + width, y0 + height), placed) < max_iou:
            break
    placed.append((x0, y0, x0 + width, y0 + height))
    return x0, y0


def _street_scene(rng: np.random.Generator, width: int, height: int, night: bool, num_objects: int,
                  road_prob: float, tiny_prob: float) -> Tuple[_Canvas, np.ndarray, np.ndarray]:
    """A street scene with ``num_objects`` normal objects (plus maybe one tiny far person), drawn far to near."""
    canvas = _Canvas(rng, width, height, night, with_road=rng.random() < road_prob)
    specs, placed = [], []
    labels = ['person' if rng.random() < 0.6 else 'car' for _ in range(num_objects)]
    if rng.random() < tiny_prob:
        labels.append('tiny')
    for label in labels:
        tiny = label == 'tiny'
        label = 'person' if tiny else label
        obj_width, obj_height = _sample_size(rng, label, canvas.scale, canvas, tiny=tiny)
        x0, y0 = _place(rng, canvas, label, obj_width, obj_height, placed, max_iou=0.3)
        specs.append((y0 + obj_height, label, x0, y0, obj_width, obj_height, tiny,
                      _sample_visibility(rng, label, night)))
    for _, label, x0, y0, obj_width, obj_height, tiny, visibility in sorted(specs, key=lambda spec: spec[0]):
        canvas.add_object(rng, label, x0, y0, obj_width, obj_height, visibility, tiny=tiny)
    rgb, thermal = canvas.finish(rng)
    return canvas, rgb, thermal


def _sod_scene(rng: np.random.Generator, width: int, height: int,
               night: bool) -> Tuple[_Canvas, np.ndarray, np.ndarray, np.ndarray]:
    """One large warm object in front, 0-2 cold distractors; returns canvas, RGB, thermal, 0/1 mask (H×W uint8)."""
    canvas = _Canvas(rng, width, height, night, with_road=rng.random() < 0.4)
    label = 'person' if rng.random() < 0.5 else 'car'
    if label == 'person':
        obj_height = rng.uniform(*_SOD_PERSON_H)
        obj_width = obj_height * rng.uniform(0.35, 0.5)
    else:
        obj_width = rng.uniform(*_SOD_CAR_W)
        obj_height = obj_width * rng.uniform(0.4, 0.55)
    scale = canvas.scale
    obj_width = int(np.clip(round(obj_width * scale), 4, width - 2))
    obj_height = int(np.clip(round(obj_height * scale), 8, height - 2))
    center_x = width * rng.uniform(0.3, 0.7)
    center_y = height * rng.uniform(0.4, 0.65)
    x0 = int(np.clip(round(center_x - obj_width / 2), 0, width - obj_width))
    y0 = int(np.clip(round(center_y - obj_height / 2), 0, height - obj_height))
    main_box = (x0, y0, x0 + obj_width, y0 + obj_height)
    num_distractors = 0 if night else int(rng.integers(0, 3))
    placed = [main_box]
    for _ in range(num_distractors):
        distractor = 'person' if rng.random() < 0.5 else 'car'
        d_width, d_height = _sample_size(rng, distractor, scale, canvas)
        d_x0, d_y0 = _place(rng, canvas, distractor, d_width, d_height, placed, max_iou=0.05)
        canvas.add_object(rng, distractor, d_x0, d_y0, d_width, d_height, 'rgb_only')
    record = canvas.add_object(rng, label, x0, y0, obj_width, obj_height, 'both')
    rgb, thermal = canvas.finish(rng)
    return canvas, rgb, thermal, record['mask'].astype(np.uint8)


# ----------------------------------------------------------------------------------------------------------------
# Writers
# ----------------------------------------------------------------------------------------------------------------
def _check_count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f'{name} must be a positive int, got {value!r}')
    return int(value)


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f'seed must be a non-negative int, got {seed!r}')
    return int(seed)


def _check_size(size) -> Tuple[int, int]:
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 32 for v in size)):
        raise ValueError(f'size must be (width, height) with two ints >= 32, got {size!r}')
    return int(size[0]), int(size[1])


def _sample_rng(seed: int, task: str, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, _TASK_CODES[task], _SPLIT_CODES[split], index])


def _prepare_root(root: str, overwrite: bool) -> str:
    """Create ``root``; an existing non-empty one is an error unless ``overwrite`` (then it is deleted first)."""
    root = osp.abspath(root)
    if osp.exists(root):
        if not osp.isdir(root):
            raise NotADirectoryError(f'{root} exists and is not a directory')
        if os.listdir(root):
            if not overwrite:
                raise FileExistsError(f'{root} exists and is not empty; pass overwrite=True '
                                      '(CLI: --overwrite) to replace it')
            shutil.rmtree(root)
    os.makedirs(root, exist_ok=True)
    return root


def _imwrite(path: str, image: np.ndarray, params: Optional[list] = None) -> None:
    """Write an image with cv2; RGB (H×W×3, RGB order) goes to disk in cv2's BGR order, grey (H×W) as grey."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    data = image[..., ::-1] if image.ndim == 3 else image
    if not cv2.imwrite(path, np.ascontiguousarray(data), params or []):
        raise OSError(f'cv2.imwrite failed to write {path}')


def _write_pair_list(path: str, lines: Sequence[str]) -> None:
    """Write ``"<rel_rgb> <rel_ir>\\n"`` lines to ``path``, creating its folder."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.writelines(lines)


def _tick(progress: ProgressFn) -> None:
    if progress is not None:
        progress()


def _split_sizes(**splits: int) -> Dict[str, int]:
    return {split: _check_count(f'num_{split}', num) for split, num in splits.items()}


def _check_camera_frames(camera_frames) -> int:
    if isinstance(camera_frames, bool) or not isinstance(camera_frames, (int, np.integer)) or camera_frames < 0:
        raise ValueError(f'camera_frames must be a non-negative int, got {camera_frames!r}')
    return int(camera_frames)


def _camera_index(index: int, num: int, camera_frames: int) -> Optional[int]:
    """Position of sample ``index`` among the last ``camera_frames`` samples of a split of ``num``; None before."""
    first = num - min(camera_frames, num)
    return index - first if index >= first else None


def _frame_size(index: int, num: int, camera_frames: int, size: Tuple[int, int]) -> Tuple[int, int]:
    """(width, height) of sample ``index``: ``size``, or a camera size for the last ``camera_frames`` samples."""
    camera = _camera_index(index, num, camera_frames)
    return size if camera is None else SYNTHETIC_CAMERA_SIZES[camera % len(SYNTHETIC_CAMERA_SIZES)]


def _thermal_file(thermal: np.ndarray, camera: bool) -> np.ndarray:
    """The thermal image as stored: grey (H×W), or for camera frames 3-channel grey (H×W×3, equal channels)."""
    return np.repeat(thermal[..., None], 3, axis=2) if camera else thermal


_VISIBILITY_KEYS = ('objects_both', 'objects_thermal_only', 'objects_rgb_only', 'objects_night')


def _object_stats(canvas: _Canvas, stats: Dict[str, int]) -> None:
    """Count objects by visibility (``objects_night`` for every object of a night frame)."""
    for record in canvas.objects:
        key = 'night' if canvas.night else record['visibility']
        stats[f'objects_{key}'] += 1


def make_pretrain(out_dir: str,
                  num: int = 64,
                  seed: int = 0,
                  size: Tuple[int, int] = (128, 128),
                  progress: ProgressFn = None,
                  overwrite: bool = False,
                  camera_frames: int = 0) -> dict:
    """Write ``num`` unlabelled pairs (one night frame in three) for pretraining.

    Layout: ``<out>/pretrain/{visible,infrared}/{day,night}/<6-digit>.jpg`` (thermal as a grey jpg) and
    ``<out>/pretrain/annotations/pairs_train.txt`` with lines ``"<rel_rgb> <rel_ir>"``.

    Args:
        out_dir (str): Output root; the task folder ``pretrain`` is created inside it.
        num (int): Number of pairs.
        seed (int): Non-negative seed.
        size (tuple[int, int]): Image (width, height).
        progress (callable, optional): Called once per written pair.
        overwrite (bool): Replace an existing non-empty ``<out>/pretrain``.
        camera_frames (int): The last ``camera_frames`` pairs at camera sizes with 3-channel grey thermal; the
            1280×1024 ones with a 640×512 thermal image (see the module docstring).

    Returns:
        dict: ``task``, ``root``, ``pair_list``, ``num_pairs``, ``num_day``, ``num_night``, ``size``,
        ``num_camera``, ``num_size_mismatch``.
    """
    num, seed = _check_count('num', num), _check_seed(seed)
    camera_frames = _check_camera_frames(camera_frames)
    width, height = _check_size(size)
    root = _prepare_root(osp.join(out_dir, 'pretrain'), overwrite)
    lines, num_night, num_mismatch = [], 0, 0
    for index in range(num):
        rng = _sample_rng(seed, 'pretrain', 'train', index)
        night = is_night_index(index)
        num_night += night
        frame_w, frame_h = _frame_size(index, num, camera_frames, (width, height))
        _, rgb, thermal = _street_scene(
            rng, frame_w, frame_h, night, int(rng.integers(0, 5)), road_prob=0.6, tiny_prob=0.2)
        camera = _camera_index(index, num, camera_frames) is not None
        if camera and (frame_w, frame_h) != SYNTHETIC_CAMERA_THERMAL_SIZE:
            thermal = cv2.resize(thermal, SYNTHETIC_CAMERA_THERMAL_SIZE, interpolation=cv2.INTER_AREA)
            num_mismatch += 1
        rel = f"{'night' if night else 'day'}/{index + 1:06d}.jpg"
        _imwrite(osp.join(root, 'visible', rel), rgb, _JPEG_PARAMS)
        _imwrite(osp.join(root, 'infrared', rel), _thermal_file(thermal, camera), _JPEG_PARAMS)
        lines.append(f'{rel} {rel}\n')
        _tick(progress)
    pair_list = osp.join(root, 'annotations', 'pairs_train.txt')
    _write_pair_list(pair_list, lines)
    return dict(task='pretrain', root=root, pair_list=pair_list, num_pairs=num, num_day=num - num_night,
                num_night=num_night, size=(width, height), num_camera=min(camera_frames, num),
                num_size_mismatch=num_mismatch)


def make_det(out_dir: str,
             num_train: int = 48,
             num_test: int = 16,
             seed: int = 0,
             size: Tuple[int, int] = (160, 128),
             progress: ProgressFn = None,
             overwrite: bool = False,
             camera_frames: int = 0) -> dict:
    """Write a person/car detection set with COCO annotations.

    Layout: ``<out>/det/{visible,infrared}/{train,test}/<6-digit>.jpg`` (numbered across splits from 000001) and
    ``<out>/det/annotations/synthetic_{train,test}.json``; categories ``person`` (1) and ``car`` (2); boxes are
    tight ``[x, y, w, h]`` around each whole object with their rectangle polygon as ``segmentation``. Each image
    holds 1-4 normal objects, sometimes a tiny far person; tiny or more than half occluded objects get ``iscrowd=1``.
    Objects present in RGB or thermal (or both) are labelled, see the module docstring.

    Args:
        out_dir (str): Output root; the task folder ``det`` is created inside it.
        num_train (int): Train images. num_test (int): Test images.
        seed (int): Non-negative seed.
        size (tuple[int, int]): Image (width, height).
        progress (callable, optional): Called once per written image.
        overwrite (bool): Replace an existing non-empty ``<out>/det``.
        camera_frames (int): The last ``camera_frames`` images of each split at camera sizes, with 3-channel
            grey thermal JPEGs (see the module docstring).

    Returns:
        dict: ``task``, ``root``, ``classes``, ``size`` and ``splits`` (per split: ``ann_file``, ``num_images``,
        ``num_instances``, ``num_crowd``, ``num_night``, ``num_camera``, ``objects_<visibility>`` counts).
    """
    splits = _split_sizes(train=num_train, test=num_test)
    camera_frames = _check_camera_frames(camera_frames)
    seed = _check_seed(seed)
    width, height = _check_size(size)
    root = _prepare_root(osp.join(out_dir, 'det'), overwrite)
    categories = [dict(id=i + 1, name=name) for i, name in enumerate(SYNTHETIC_DET_CLASSES)]
    summary = dict(task='det', root=root, classes=SYNTHETIC_DET_CLASSES, size=(width, height), splits={})
    number = 0
    for split, num_images in splits.items():
        images, annotations = [], []
        stats = dict(num_images=num_images, num_instances=0, num_crowd=0, num_night=0,
                     num_camera=min(camera_frames, num_images))
        stats.update(dict.fromkeys(_VISIBILITY_KEYS, 0))
        for index in range(num_images):
            number += 1
            rng = _sample_rng(seed, 'det', split, index)
            night = is_night_index(index)
            frame_w, frame_h = _frame_size(index, num_images, camera_frames, (width, height))
            camera = _camera_index(index, num_images, camera_frames) is not None
            canvas, rgb, thermal = _street_scene(
                rng, frame_w, frame_h, night, int(rng.integers(1, 5)), road_prob=0.6, tiny_prob=0.25)
            file_name = f'{split}/{number:06d}.jpg'
            _imwrite(osp.join(root, 'visible', file_name), rgb, _JPEG_PARAMS)
            _imwrite(osp.join(root, 'infrared', file_name), _thermal_file(thermal, camera), _JPEG_PARAMS)
            images.append(dict(id=number, file_name=file_name, width=frame_w, height=frame_h))
            num_kept = 0
            for record in canvas.objects:
                x1, y1, x2, y2 = (float(v) for v in record['box'])
                crowd = int(record['tiny'] or canvas.visible_fraction(record) < _MIN_VISIBLE_FRACTION)
                num_kept += 1 - crowd
                annotations.append(
                    dict(
                        id=len(annotations) + 1,
                        image_id=number,
                        category_id=SYNTHETIC_DET_CLASSES.index(record['label']) + 1,
                        bbox=[x1, y1, x2 - x1, y2 - y1],
                        area=(x2 - x1) * (y2 - y1),
                        iscrowd=crowd,
                        segmentation=[[x1, y1, x2, y1, x2, y2, x1, y2]]))
                stats['num_crowd'] += crowd
            if num_kept == 0:
                raise RuntimeError(f'synthetic det image {file_name} has no iscrowd=0 object (seed {seed})')
            stats['num_instances'] += len(canvas.objects)
            stats['num_night'] += night
            _object_stats(canvas, stats)
            _tick(progress)
        ann_file = osp.join(root, 'annotations', f'synthetic_{split}.json')
        os.makedirs(osp.dirname(ann_file), exist_ok=True)
        with open(ann_file, 'w') as f:
            json.dump(dict(images=images, annotations=annotations, categories=categories), f)
        summary['splits'][split] = dict(ann_file=ann_file, **stats)
    return summary


def make_seg(out_dir: str,
             num_train: int = 48,
             num_val: int = 16,
             seed: int = 0,
             size: Tuple[int, int] = (128, 128),
             progress: ProgressFn = None,
             overwrite: bool = False,
             camera_frames: int = 0) -> dict:
    """Write a 4-class segmentation set (``SYNTHETIC_SEG_CLASSES``) of street scenes, always with a road.

    Layout: ``<out>/seg/{visible,infrared,labels}/{train,val}/<6-digit>.png``; RGB is a colour png, thermal a grey
    png, labels uint8 0..3 with 255 on a one-pixel ring around each object. Objects present in RGB or thermal are
    labelled, see the module docstring.

    Args:
        out_dir (str): Output root; the task folder ``seg`` is created inside it.
        num_train (int): Train images. num_val (int): Validation images.
        seed (int): Non-negative seed.
        size (tuple[int, int]): Image (width, height).
        progress (callable, optional): Called once per written image.
        overwrite (bool): Replace an existing non-empty ``<out>/seg``.
        camera_frames (int): The last ``camera_frames`` images of each split at camera sizes, with 3-channel
            grey thermal (see the module docstring).

    Returns:
        dict: ``task``, ``root``, ``classes``, ``size`` and ``splits`` (per split: ``num_images``, ``num_night``,
        ``num_camera``, ``pixel_counts`` per class name plus ``ignore``, ``objects_<visibility>`` counts).
    """
    splits = _split_sizes(train=num_train, val=num_val)
    camera_frames = _check_camera_frames(camera_frames)
    seed = _check_seed(seed)
    width, height = _check_size(size)
    root = _prepare_root(osp.join(out_dir, 'seg'), overwrite)
    summary = dict(task='seg', root=root, classes=SYNTHETIC_SEG_CLASSES, size=(width, height), splits={})
    kernel = np.ones((3, 3), np.uint8)
    number = 0
    for split, num_images in splits.items():
        stats = dict(num_images=num_images, num_night=0, num_camera=min(camera_frames, num_images))
        stats.update(dict.fromkeys(_VISIBILITY_KEYS, 0))
        pixel_counts = np.zeros(256, np.int64)
        for index in range(num_images):
            number += 1
            rng = _sample_rng(seed, 'seg', split, index)
            night = is_night_index(index)
            frame_w, frame_h = _frame_size(index, num_images, camera_frames, (width, height))
            camera = _camera_index(index, num_images, camera_frames) is not None
            canvas, rgb, thermal = _street_scene(
                rng, frame_w, frame_h, night, int(rng.integers(1, 6)), road_prob=1.0, tiny_prob=0.0)
            label = np.where(canvas.road, SYNTHETIC_SEG_CLASSES.index('Road'), 0).astype(np.uint8)
            for record in canvas.objects:
                label[canvas.instance_ids == record['index']] = _SEG_IDS[record['label']]
            instance_ids = canvas.instance_ids.astype(np.uint8)
            dilated = cv2.dilate(instance_ids, kernel)
            label[(dilated != instance_ids) & (dilated > 0)] = SYNTHETIC_IGNORE_INDEX
            name = f'{split}/{number:06d}.png'
            _imwrite(osp.join(root, 'visible', name), rgb)
            _imwrite(osp.join(root, 'infrared', name), _thermal_file(thermal, camera))
            _imwrite(osp.join(root, 'labels', name), label)
            pixel_counts += np.bincount(label.ravel(), minlength=256)
            stats['num_night'] += night
            _object_stats(canvas, stats)
            _tick(progress)
        stats['pixel_counts'] = {name: int(pixel_counts[i]) for i, name in enumerate(SYNTHETIC_SEG_CLASSES)}
        stats['pixel_counts']['ignore'] = int(pixel_counts[SYNTHETIC_IGNORE_INDEX])
        summary['splits'][split] = stats
    return summary


def make_sod(out_dir: str,
             num_train: int = 48,
             num_test: int = 16,
             seed: int = 0,
             size: Tuple[int, int] = (128, 128),
             progress: ProgressFn = None,
             overwrite: bool = False,
             camera_frames: int = 0) -> dict:
    """Write a salient-object set: the salient object is the single large warm object of each scene.

    Layout: ``<out>/sod/synthetic/{visible,infrared,labels}/{train,test}/<6-digit>.png``; labels uint8 0/1. Day
    scenes add 0-2 cold (RGB-only) distractors, labelled 0.

    Args:
        out_dir (str): Output root; the folder ``sod/synthetic`` is created inside it.
        num_train (int): Train images. num_test (int): Test images.
        seed (int): Non-negative seed.
        size (tuple[int, int]): Image (width, height).
        progress (callable, optional): Called once per written image.
        overwrite (bool): Replace an existing non-empty ``<out>/sod/synthetic``.
        camera_frames (int): The last ``camera_frames`` images of each split at camera sizes, with 3-channel
            grey thermal (see the module docstring).

    Returns:
        dict: ``task``, ``root``, ``classes``, ``size`` and ``splits`` (per split: ``num_images``, ``num_night``,
        ``num_camera``, ``num_distractors``, ``salient_fraction`` (mean share of salient pixels)).
    """
    splits = _split_sizes(train=num_train, test=num_test)
    camera_frames = _check_camera_frames(camera_frames)
    seed = _check_seed(seed)
    width, height = _check_size(size)
    root = _prepare_root(osp.join(out_dir, 'sod', 'synthetic'), overwrite)
    summary = dict(task='sod', root=root, classes=SYNTHETIC_SOD_CLASSES, size=(width, height), splits={})
    number = 0
    for split, num_images in splits.items():
        stats = dict(num_images=num_images, num_night=0, num_distractors=0,
                     num_camera=min(camera_frames, num_images))
        salient_fraction = 0.0
        for index in range(num_images):
            number += 1
            rng = _sample_rng(seed, 'sod', split, index)
            night = is_night_index(index)
            frame_w, frame_h = _frame_size(index, num_images, camera_frames, (width, height))
            camera = _camera_index(index, num_images, camera_frames) is not None
            canvas, rgb, thermal, mask = _sod_scene(rng, frame_w, frame_h, night)
            name = f'{split}/{number:06d}.png'
            _imwrite(osp.join(root, 'visible', name), rgb)
            _imwrite(osp.join(root, 'infrared', name), _thermal_file(thermal, camera))
            _imwrite(osp.join(root, 'labels', name), mask)
            salient_fraction += float(mask.mean())
            stats['num_night'] += night
            stats['num_distractors'] += len(canvas.objects) - 1
            _tick(progress)
        stats['salient_fraction'] = round(salient_fraction / num_images, 4)
        summary['splits'][split] = stats
    return summary


def make_match(out_dir: str,
               num_train: int = 48,
               num_test: int = 16,
               seed: int = 0,
               size: Tuple[int, int] = (320, 256),
               progress: ProgressFn = None,
               overwrite: bool = False,
               camera_frames: int = 0) -> dict:
    """Write aligned, textured pairs for visible-thermal matching (the matching configs warp them).

    The street scenes of the other tasks are mostly flat sky and road, where no matcher finds a homography. These
    pairs are :func:`mmspecgene.datasets.camera_frames.camera_frame_pair` scenes: many overlapping objects with
    sharp edges and their own textures on a 1/f background, whose thermal image shows the same objects as smooth
    regions of unrelated brightness (so edges agree across modalities, intensities do not).

    Layout: ``<out>/match/{visible,infrared}/{train,test}/<6-digit>.jpg`` (thermal grey; camera frames 3-channel
    grey) and ``<out>/match/annotations/pairs_{train,test}.txt`` with lines ``"<rel_rgb> <rel_ir>"`` (relative to
    the visible and infrared roots).

    Args:
        out_dir (str): Output root; the task folder ``match`` is created inside it.
        num_train (int), num_test (int): Pairs per split.
        seed (int): Non-negative seed.
        size (tuple[int, int]): Image (width, height).
        progress (callable, optional): Called once per written pair.
        overwrite (bool): Replace an existing non-empty ``<out>/match``.
        camera_frames (int): The last ``camera_frames`` pairs of each split at camera sizes, 3-channel grey thermal.

    Returns:
        dict: ``task``, ``root``, ``size``, ``splits`` (per split: ``pair_list``, ``num_pairs``, ``num_camera``).
    """
    seed = _check_seed(seed)
    camera_frames = _check_camera_frames(camera_frames)
    width, height = _check_size(size)
    splits = _split_sizes(train=num_train, test=num_test)
    root = _prepare_root(osp.join(out_dir, 'match'), overwrite)
    summary = dict(task='match', root=root, size=(width, height), splits={})
    for split, num in splits.items():
        lines = []
        for index in range(num):
            rng = _sample_rng(seed, 'match', split, index)
            frame_w, frame_h = _frame_size(index, num, camera_frames, (width, height))
            rgb_bgr, thermal = camera_frame_pair(rng, (frame_h, frame_w))
            camera = _camera_index(index, num, camera_frames) is not None
            rel = f'{split}/{index + 1:06d}.jpg'
            _imwrite(osp.join(root, 'visible', rel), rgb_bgr[..., ::-1], _JPEG_PARAMS)
            _imwrite(osp.join(root, 'infrared', rel), _thermal_file(thermal, camera), _JPEG_PARAMS)
            lines.append(f'{rel} {rel}\n')
            _tick(progress)
        pair_list = osp.join(root, 'annotations', f'pairs_{split}.txt')
        _write_pair_list(pair_list, lines)
        summary['splits'][split] = dict(pair_list=pair_list, num_pairs=num,
                                        num_camera=min(camera_frames, num))
    return summary


def make_all(out_dir: str,
             num_pretrain: int = 64,
             num_train: int = 48,
             num_test: int = 16,
             seed: int = 0,
             progress: ProgressFn = None,
             overwrite: bool = False,
             camera_frames: int = 0) -> Dict[str, dict]:
    """Write all five tasks under ``out_dir`` with their default image sizes.

    ``num_test`` sizes the det, SOD and matching test splits and the seg val split; ``camera_frames`` is passed to
    every writer. Returns the five summaries by task name.
    """
    common = dict(progress=progress, overwrite=overwrite, camera_frames=camera_frames)
    return dict(
        pretrain=make_pretrain(out_dir, num_pretrain, seed, **common),
        det=make_det(out_dir, num_train, num_test, seed, **common),
        seg=make_seg(out_dir, num_train, num_test, seed, **common),
        sod=make_sod(out_dir, num_train, num_test, seed, **common),
        match=make_match(out_dir, num_train, num_test, seed, **common))
