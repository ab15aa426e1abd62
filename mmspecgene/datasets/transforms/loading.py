# Copyright (c) mmspecgene contributors. All rights reserved.
"""Paired RGB + thermal loading: decode both files, normalise each to H×W×3 uint8 (BGR) and stack."""
import warnings
from typing import Optional

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.fileio import get
from mmengine.registry import TRANSFORMS

MODALITY_CHANNELS = dict(rgb=(0, 3), thermal=(3, 6))
THERMAL_MODES = ('auto', 'first_channel')
RANGE_MODES = ('percentile', 'fixed', 'minmax')
SIZE_MISMATCH_MODES = ('raise', 'resize_thermal')


def read_bytes(path: str, backend_args: Optional[dict] = None) -> bytes:
    """The bytes of an image file through mmengine's file backends; errors name the file."""
    try:
        img_bytes = get(path, backend_args=backend_args)
    except FileNotFoundError:
        raise FileNotFoundError(f'image file not found: {path}') from None
    if not img_bytes:
        raise ValueError(f'image file is empty: {path}')
    return img_bytes


def decode_image(path: str, backend_args: Optional[dict] = None, img_bytes: Optional[bytes] = None) -> np.ndarray:
    """Decode an image file unchanged (any bit depth/channels); ``img_bytes`` if given, else read ``path``."""
    if img_bytes is None:
        img_bytes = read_bytes(path, backend_args)
    elif not img_bytes:
        raise ValueError(f'image file is empty: {path}')
    img = mmcv.imfrombytes(img_bytes, flag='unchanged', backend='cv2')
    if img is None:
        raise ValueError(f'cannot decode image file (corrupt or unsupported format): {path}')
    return img


def rgb_to_3ch(img: np.ndarray, path: str) -> np.ndarray:
    """RGB rule: drop alpha; replicate grey with a warning; 8-bit only."""
    if img.dtype != np.uint8:
        raise ValueError(f'RGB image must be 8-bit, got dtype {img.dtype}: {path}')
    if img.ndim == 2:
        warnings.warn(f'grey RGB image replicated to 3 channels: {path}', stacklevel=2)
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.ndim == 3 and img.shape[2] == 4:
        return np.ascontiguousarray(img[..., :3])
    if img.ndim == 3 and img.shape[2] == 3:
        return img
    raise ValueError(f'RGB image must have 1, 3 or 4 channels, got shape {img.shape}: {path}')


def scale_to_uint8(img: np.ndarray, mode: str = 'percentile', low: float = 0.5, high: float = 99.5,
                   path: str = '') -> np.ndarray:
    """Scale a radiometric (uint16/float) map to uint8: x' = round(255·clip((x-lo)/(hi-lo), 0, 1))."""
    data = img.astype(np.float64)
    if mode == 'fixed':
        lo, hi = float(low), float(high)
    elif mode == 'percentile':
        lo, hi = np.percentile(data, [low, high])
    elif mode == 'minmax':
        lo, hi = float(data.min()), float(data.max())
    else:
        raise ValueError(f'thermal_range mode must be one of {RANGE_MODES}, got {mode!r}')
    if hi <= lo:
        warnings.warn(f'thermal range is empty (hi={hi} <= lo={lo}); output set to 0: {path}', stacklevel=2)
        return np.zeros(img.shape, dtype=np.uint8)
    return np.round(255 * np.clip((data - lo) / (hi - lo), 0, 1)).astype(np.uint8)


def check_thermal_options(thermal_mode: str, thermal_range: Optional[dict]) -> None:
    """Raise a ValueError naming a ``thermal_mode`` or ``thermal_range['mode']`` the loaders do not know."""
    if thermal_mode not in THERMAL_MODES:
        raise ValueError(f'thermal_mode must be one of {THERMAL_MODES}, got {thermal_mode!r}')
    if thermal_range is not None and thermal_range.get('mode', 'percentile') not in RANGE_MODES:
        raise ValueError(f"thermal_range['mode'] must be one of {RANGE_MODES}, got {thermal_range!r}")


def thermal_to_uint8(img: np.ndarray, path: str, thermal_mode: str = 'auto', thermal_grey: bool = False,
                     thermal_range: Optional[dict] = None) -> np.ndarray:
    """The thermal rule of :class:`LoadRGBTImagePair` up to the replication: H×W uint8 (grey) or H×W×3 (BGR)."""
    if img.ndim == 3 and img.shape[2] == 4:
        img = img[..., :3]
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] != 3):
        raise ValueError(f'thermal image must have 1, 3 or 4 channels, got shape {img.shape}: {path}')
    if img.dtype != np.uint8:
        rng = dict(mode='percentile', low=0.5, high=99.5)
        rng.update(thermal_range or {})
        if img.ndim == 3:
            img = cv2.cvtColor(img.astype(np.float32), cv2.COLOR_BGR2GRAY)
        img = scale_to_uint8(img, path=path, **rng)
    if thermal_mode == 'first_channel':
        return img if img.ndim == 2 else np.ascontiguousarray(img[..., 0])
    if img.ndim == 2:
        return img
    if thermal_grey:
        return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    return np.ascontiguousarray(img)


def thermal_to_3ch(img: np.ndarray, path: str, thermal_mode: str = 'auto', thermal_grey: bool = False,
                   thermal_range: Optional[dict] = None) -> np.ndarray:
    """The thermal rule of :class:`LoadRGBTImagePair` -> H×W×3 uint8 (BGR)."""
    img = thermal_to_uint8(img, path, thermal_mode, thermal_grey, thermal_range)
    return grey_to_3ch(img) if img.ndim == 2 else img


def grey_to_3ch(grey: np.ndarray) -> np.ndarray:
    """H×W uint8 -> H×W×3 with identical channels (cv2 is ~10x faster than np.repeat here)."""
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)


@TRANSFORMS.register_module()
class LoadRGBTImagePair(BaseTransform):
    """Load an RGB image and its thermal partner and stack them to H×W×6 = [RGB | T] (both BGR).

    Required keys: ``img_path`` (RGB) and ``ir_path`` (thermal), explicit paths. Optional: ``img_bytes`` and
    ``ir_bytes``, the encoded files already read (e.g. from tar shards); the paths then only name them in errors.
    Added keys: ``img`` (H×W×6 uint8, float32 if ``to_float32``), ``img_shape``, ``ori_shape``,
    ``modality_channels``, ``channel_order``.

    Args:
        to_float32 (bool): Convert the stack to float32.
        thermal_mode (str): ``'auto'`` (docs/en/method.md#modality-conventions table) or ``'first_channel'`` (released
        det compat:
            channel 0 of the BGR decode replicated ×3).
        thermal_grey (bool): Convert a 3-channel thermal image to luminance and replicate.
        thermal_range (dict, optional): For uint16/float thermal: ``mode`` in ``percentile`` (default,
            ``low=0.5``, ``high=99.5``), ``fixed`` (``low``/``high`` in sensor units) or ``minmax``.
        size_mismatch (str): ``'raise'`` (default) or ``'resize_thermal'`` (bilinear to the RGB size;
            counted in ``num_resized``).
        backend_args (dict, optional): mmengine file backend arguments.
    """

    def __init__(self,
                 to_float32: bool = False,
                 thermal_mode: str = 'auto',
                 thermal_grey: bool = False,
                 thermal_range: Optional[dict] = None,
                 size_mismatch: str = 'raise',
                 backend_args: Optional[dict] = None):
        check_thermal_options(thermal_mode, thermal_range)
        if size_mismatch not in SIZE_MISMATCH_MODES:
            raise ValueError(f'size_mismatch must be one of {SIZE_MISMATCH_MODES}, got {size_mismatch!r}')
        self.to_float32 = to_float32
        self.thermal_mode = thermal_mode
        self.thermal_grey = thermal_grey
        self.thermal_range = thermal_range
        self.size_mismatch = size_mismatch
        self.backend_args = backend_args
        self.num_resized = 0

    def transform(self, results: dict) -> dict:
        for key in ('img_path', 'ir_path'):
            if not results.get(key):
                raise KeyError(f'LoadRGBTImagePair needs an explicit {key!r} in the data info; got keys '
                               f'{sorted(results)}')
        rgb_path, ir_path = results['img_path'], results['ir_path']
        rgb = rgb_to_3ch(decode_image(rgb_path, self.backend_args, results.get('img_bytes')), rgb_path)
        thermal = thermal_to_3ch(
            decode_image(ir_path, self.backend_args, results.get('ir_bytes')), ir_path, self.thermal_mode,
            self.thermal_grey, self.thermal_range)
        if rgb.shape[:2] != thermal.shape[:2]:
            if self.size_mismatch == 'raise':
                raise ValueError(f'RGB/thermal size mismatch: {rgb_path} is {rgb.shape[1]}x{rgb.shape[0]} but '
                                 f'{ir_path} is {thermal.shape[1]}x{thermal.shape[0]} (W x H); set '
                                 f"size_mismatch='resize_thermal' to resize thermal to the RGB size")
            thermal = cv2.resize(thermal, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
            self.num_resized += 1
        img = cv2.merge([rgb, thermal])  # H×W×6 [RGB | T]; faster than np.concatenate on channels
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        results['modality_channels'] = dict(MODALITY_CHANNELS)
        results['channel_order'] = ('bgr', 'bgr')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(to_float32={self.to_float32}, thermal_mode={self.thermal_mode!r}, '
                f'thermal_grey={self.thermal_grey}, thermal_range={self.thermal_range}, '
                f'size_mismatch={self.size_mismatch!r})')
