# Copyright (c) mmspecgene contributors. All rights reserved.
"""Geometric transforms that are safe on the H×W×6 [RGB | T] stack."""
import math
from typing import Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.registry import TRANSFORMS
from PIL import Image

CV2_INTERP = dict(nearest=cv2.INTER_NEAREST, bilinear=cv2.INTER_LINEAR, bicubic=cv2.INTER_CUBIC,
                  area=cv2.INTER_AREA, lanczos=cv2.INTER_LANCZOS4)
PIL_INTERP = dict(nearest=Image.NEAREST, bilinear=Image.BILINEAR, bicubic=Image.BICUBIC, lanczos=Image.LANCZOS)


def pad_array(arr: np.ndarray, out_hw: Tuple[int, int], value) -> np.ndarray:
    """Pad bottom/right with a per-channel constant using numpy (cv2 fills >4 channels wrongly)."""
    h, w = arr.shape[:2]
    out_h, out_w = out_hw
    if out_h < h or out_w < w:
        raise ValueError(f'pad target {out_hw} is smaller than the array {(h, w)}')
    out = np.empty((out_h, out_w) + arr.shape[2:], dtype=arr.dtype)
    out[...] = np.asarray(value, dtype=arr.dtype)
    out[:h, :w] = arr
    return out


@TRANSFORMS.register_module()
class RGBTPad(BaseTransform):
    """Pad the image (and segmentation map / masks) on the bottom/right to a size or a divisor.

    Args:
        size (tuple[int, int] | int, optional): Target (H, W) (an int means square).
        size_divisor (int, optional): Pad H and W up to multiples of it.
        pad_to_square (bool): Pad to a square of the longer side.
        pad_val (dict): ``img``: a scalar or one value per channel (6 for [RGB | T]); ``seg``: label fill.

    Sets ``pad_shape``; ``img_shape`` stays the valid image size (mmdet convention).
    """

    def __init__(self,
                 size: Optional[Union[int, Tuple[int, int]]] = None,
                 size_divisor: Optional[int] = None,
                 pad_to_square: bool = False,
                 pad_val: Union[int, float, dict, None] = None):
        if isinstance(size, int):
            size = (size, size)
        if size is None and size_divisor is None and not pad_to_square:
            raise ValueError('RGBTPad needs size, size_divisor or pad_to_square')
        if pad_val is None:
            pad_val = dict(img=0, seg=255)
        elif not isinstance(pad_val, dict):
            pad_val = dict(img=pad_val, seg=255)
        self.size = tuple(size) if size is not None else None
        self.size_divisor = size_divisor
        self.pad_to_square = pad_to_square
        self.pad_val = {**dict(img=0, seg=255), **pad_val}

    def _img_fill(self, channels: int):
        val = self.pad_val['img']
        if np.isscalar(val):
            return [val] * channels
        val = list(val)
        if len(val) != channels:
            raise ValueError(f"RGBTPad pad_val['img'] has {len(val)} values but the image has {channels} "
                             f'channels; give a scalar or one value per channel')
        return val

    def _target_hw(self, h: int, w: int) -> Tuple[int, int]:
        if self.pad_to_square:
            h = w = max(h, w)
        if self.size is not None:
            if self.size[0] < h or self.size[1] < w:
                raise ValueError(f'RGBTPad size {self.size} is smaller than the image ({h}, {w})')
            h, w = self.size
        if self.size_divisor:
            d = self.size_divisor
            h, w = int(math.ceil(h / d)) * d, int(math.ceil(w / d)) * d
        return h, w

    def transform(self, results: dict) -> dict:
        img = results['img']
        out_hw = self._target_hw(*img.shape[:2])
        channels = img.shape[2] if img.ndim == 3 else 1
        results['img'] = pad_array(img, out_hw, self._img_fill(channels) if img.ndim == 3 else self.pad_val['img'])
        # img_shape keeps the valid (pre-pad) size, as in mmdet's Pad: predictions are clipped to it
        results['pad_shape'] = out_hw
        results['pad_fixed_size'] = self.size
        results['pad_size_divisor'] = self.size_divisor
        if results.get('gt_seg_map') is not None:
            results['gt_seg_map'] = pad_array(results['gt_seg_map'], out_hw, self.pad_val['seg'])
        if results.get('gt_masks') is not None:
            results['gt_masks'] = results['gt_masks'].pad(out_hw, pad_val=self.pad_val.get('masks', 0))
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(size={self.size}, size_divisor={self.size_divisor}, '
                f'pad_to_square={self.pad_to_square}, pad_val={self.pad_val})')


def resize_channels(img: np.ndarray, size: Tuple[int, int], interpolation: int) -> np.ndarray:
    """``cv2.resize`` for any channel count, H×W×C → h×w×C with ``size`` = (w, h).

    OpenCV vectorises resizing for 1-4 channels only; a 6-channel [RGB | T] image is split into planes, each
    plane resized on the fast path, and merged back (values within 1 grey level of a 6-channel ``cv2.resize``).
    A plane equal to the one before it (a grey thermal image replicated to 3 channels) reuses its result.
    """
    if img.ndim == 2 or img.shape[2] <= 4:
        return cv2.resize(img, size, interpolation=interpolation)
    planes = cv2.split(img)
    resized = []
    for index, plane in enumerate(planes):
        if index and np.array_equal(plane, planes[index - 1]):
            resized.append(resized[-1])
        else:
            resized.append(cv2.resize(plane, size, interpolation=interpolation))
    return cv2.merge(resized)


def sample_resized_crop_box(h: int, w: int, crop_ratio_range: Tuple[float, float],
                            aspect_ratio_range: Tuple[float, float],
                            max_attempts: int = 10) -> Tuple[int, int, int, int]:
    """Draw a RandomResizedCrop box in an h×w image with ``np.random``; returns (top, left, crop_h, crop_w).

    ``crop_ratio_range`` bounds the box area as a fraction of h·w, ``aspect_ratio_range`` its w/h; after
    ``max_attempts`` failed draws, a centre crop clamped to the aspect ratio range.
    """
    area = h * w
    log_ratio = (math.log(aspect_ratio_range[0]), math.log(aspect_ratio_range[1]))
    for _ in range(max_attempts):
        target = np.random.uniform(*crop_ratio_range) * area
        ratio = math.exp(np.random.uniform(*log_ratio))
        cw, ch = int(round(math.sqrt(target * ratio))), int(round(math.sqrt(target / ratio)))
        if 0 < cw <= w and 0 < ch <= h:
            return np.random.randint(0, h - ch + 1), np.random.randint(0, w - cw + 1), ch, cw
    in_ratio = w / h
    if in_ratio < min(aspect_ratio_range):
        cw, ch = w, int(round(w / min(aspect_ratio_range)))
    elif in_ratio > max(aspect_ratio_range):
        ch, cw = h, int(round(h * max(aspect_ratio_range)))
    else:
        cw, ch = w, h
    return (h - ch) // 2, (w - cw) // 2, ch, cw


@TRANSFORMS.register_module()
class RGBTRandomResizedCrop(BaseTransform):
    """One random box for both halves, resized to ``scale`` (MAE-style RandomResizedCrop).

    Args:
        scale (int | tuple[int, int]): Output (H, W).
        crop_ratio_range (tuple[float, float]): Area fraction range of the box.
        aspect_ratio_range (tuple[float, float]): w/h range of the box.
        max_attempts (int): Tries before falling back to a centre crop.
        interpolation (str): ``bicubic`` by default.
        backend (str): ``'cv2'`` (:func:`resize_channels`, one plane at a time); ``'pillow'`` resizes each
            3-channel half separately (the released behaviour).
    """

    def __init__(self,
                 scale: Union[int, Sequence[int]] = 224,
                 crop_ratio_range: Tuple[float, float] = (0.08, 1.0),
                 aspect_ratio_range: Tuple[float, float] = (3. / 4., 4. / 3.),
                 max_attempts: int = 10,
                 interpolation: str = 'bicubic',
                 backend: str = 'cv2'):
        self.scale = (scale, scale) if isinstance(scale, int) else tuple(scale)
        if backend not in ('cv2', 'pillow'):
            raise ValueError(f"backend must be 'cv2' or 'pillow', got {backend!r}")
        if interpolation not in (CV2_INTERP if backend == 'cv2' else PIL_INTERP):
            raise ValueError(f'unsupported interpolation {interpolation!r} for backend {backend!r}')
        self.crop_ratio_range = crop_ratio_range
        self.aspect_ratio_range = aspect_ratio_range
        self.max_attempts = max_attempts
        self.interpolation = interpolation
        self.backend = backend

    def _sample_box(self, h: int, w: int) -> Tuple[int, int, int, int]:
        return sample_resized_crop_box(h, w, self.crop_ratio_range, self.aspect_ratio_range, self.max_attempts)

    def _resize(self, crop: np.ndarray) -> np.ndarray:
        out_h, out_w = self.scale
        if self.backend == 'cv2':
            return resize_channels(crop, (out_w, out_h), CV2_INTERP[self.interpolation])
        halves = [
            np.asarray(Image.fromarray(np.ascontiguousarray(crop[..., i:i + 3])).resize(
                (out_w, out_h), PIL_INTERP[self.interpolation])) for i in range(0, crop.shape[2], 3)
        ]
        return np.concatenate(halves, axis=2)

    def transform(self, results: dict) -> dict:
        img = results['img']
        top, left, ch, cw = self._sample_box(*img.shape[:2])
        results['img'] = self._resize(img[top:top + ch, left:left + cw])
        results['img_shape'] = self.scale
        results['crop_bbox'] = np.array([left, top, left + cw, top + ch])
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(scale={self.scale}, crop_ratio_range={self.crop_ratio_range}, '
                f'aspect_ratio_range={self.aspect_ratio_range}, interpolation={self.interpolation!r}, '
                f'backend={self.backend!r})')
