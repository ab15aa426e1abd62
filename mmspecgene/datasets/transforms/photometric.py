# Copyright (c) mmspecgene contributors. All rights reserved.
"""Paired photometric distortion: one parameter draw applied to both halves of [RGB | T]."""
from typing import Sequence, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.registry import TRANSFORMS

THERMAL_OPS = ('brightness', 'contrast', 'saturation', 'hue')


@TRANSFORMS.register_module()
class PairedPhotoMetricDistortion(BaseTransform):
    """Brightness, contrast, saturation and hue with identical parameters on both halves.

    Each step fires with p = 0.5; contrast runs before the HSV steps with p = 0.5, otherwise after
    them; every step clips to [0, 255] uint8. The thermal half receives only ``thermal_ops``
    (default brightness and contrast; ``'all'`` reproduces the released behaviour).

    Args:
        brightness_delta (int): δ ~ U(-delta, delta).
        contrast_range (tuple): α ~ U(low, high).
        saturation_range (tuple): S multiplier ~ U(low, high).
        hue_delta (int): H shift ~ randint(-delta, delta), mod 180.
        thermal_ops (str | Sequence[str]): Steps applied to the thermal half.
    """

    def __init__(self,
                 brightness_delta: int = 32,
                 contrast_range: Sequence[float] = (0.5, 1.5),
                 saturation_range: Sequence[float] = (0.5, 1.5),
                 hue_delta: int = 18,
                 thermal_ops: Union[str, Sequence[str]] = ('brightness', 'contrast')):
        if thermal_ops == 'all':
            thermal_ops = THERMAL_OPS
        unknown = set(thermal_ops) - set(THERMAL_OPS)
        if unknown:
            raise ValueError(f'unknown thermal_ops {sorted(unknown)}; expected a subset of {THERMAL_OPS} or "all"')
        self.brightness_delta = brightness_delta
        self.contrast_range = tuple(contrast_range)
        self.saturation_range = tuple(saturation_range)
        self.hue_delta = hue_delta
        self.thermal_ops = tuple(thermal_ops)

    def _draw(self) -> dict:
        """One parameter draw (None = step skipped)."""
        rand = np.random
        return dict(
            brightness=rand.uniform(-self.brightness_delta, self.brightness_delta) if rand.randint(2) else None,
            contrast_first=bool(rand.randint(2)),
            contrast=rand.uniform(*self.contrast_range) if rand.randint(2) else None,
            saturation=rand.uniform(*self.saturation_range) if rand.randint(2) else None,
            hue=rand.randint(-self.hue_delta, self.hue_delta) if rand.randint(2) else None)

    @staticmethod
    def _apply(img: np.ndarray, params: dict, ops: Sequence[str]) -> np.ndarray:
        """Apply the drawn steps listed in ``ops`` to a H×W×3 BGR uint8 image."""
        out = img.astype(np.float32)

        def linear(x, alpha=1., beta=0.):
            return np.clip(x * alpha + beta, 0, 255)

        if 'brightness' in ops and params['brightness'] is not None:
            out = linear(out, beta=params['brightness'])
        if params['contrast_first'] and 'contrast' in ops and params['contrast'] is not None:
            out = linear(out, alpha=params['contrast'])
        do_sat = 'saturation' in ops and params['saturation'] is not None
        do_hue = 'hue' in ops and params['hue'] is not None
        if do_sat or do_hue:
            hsv = cv2.cvtColor(out.astype(np.uint8), cv2.COLOR_BGR2HSV).astype(np.float32)
            if do_sat:
                hsv[..., 1] = np.clip(hsv[..., 1] * params['saturation'], 0, 255)
            if do_hue:
                hsv[..., 0] = (hsv[..., 0] + params['hue']) % 180
            out = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2BGR).astype(np.float32)
        if not params['contrast_first'] and 'contrast' in ops and params['contrast'] is not None:
            out = linear(out, alpha=params['contrast'])
        return out.astype(np.uint8)

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim != 3 or img.shape[2] != 6 or img.dtype != np.uint8:
            raise ValueError(f'PairedPhotoMetricDistortion expects an H×W×6 uint8 [RGB | T] image, got '
                             f"{img.shape} {img.dtype} ({results.get('img_path')})")
        params = self._draw()
        rgb = self._apply(img[..., :3], params, THERMAL_OPS)
        thermal = self._apply(img[..., 3:], params, self.thermal_ops)
        results['img'] = np.concatenate([rgb, thermal], axis=2)
        results['photometric_params'] = params
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(brightness_delta={self.brightness_delta}, '
                f'contrast_range={self.contrast_range}, saturation_range={self.saturation_range}, '
                f'hue_delta={self.hue_delta}, thermal_ops={self.thermal_ops})')
