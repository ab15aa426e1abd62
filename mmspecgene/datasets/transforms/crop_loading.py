# Copyright (c) mmspecgene contributors. All rights reserved.
"""Crop-aware paired loading: draw the RandomResizedCrop box from the JPEG headers, then decode each image at the
coarsest DCT scale that still covers the output, crop and resize there (the idea of DALI's fused random-crop decode,
on the CPU inside the mmengine pipeline)."""
import math
import warnings
from typing import NamedTuple, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmengine.registry import TRANSFORMS

from .geometric import CV2_INTERP, sample_resized_crop_box
from .jpeg import JpegInfo, dct_scale, decode_jpeg, jpeg_info
from .loading import MODALITY_CHANNELS, LoadRGBTImagePair, decode_image, read_bytes, rgb_to_3ch, thermal_to_uint8

Box = Tuple[float, float, float, float]
AREA_MIN_FACTOR = 2.0  # downscaling by this factor or more (on either axis) averages areas; below, bilinear


def resize_box(img: np.ndarray, box: Box, out_hw: Tuple[int, int], interpolation: int) -> np.ndarray:
    """Crop ``box`` = (x0, y0, x1, y1), in pixel-edge coordinates of ``img`` (fractions allowed), to out_hw.

    H×W(×C) -> out_h×out_w(×C). A box at least as large as the output on both axes is downscaled with area
    averaging (antialiased) when it is at least :data:`AREA_MIN_FACTOR` times the output on an axis, else
    bilinearly (below 2×, every source pixel already contributes; after a DCT-scaled decode this is the usual
    case and 8× cheaper than cv2's area resize at fractional factors). A smaller box is upscaled with
    ``interpolation``. A fractional box is first downscaled at the exact scale, then shifted by its sub-pixel
    offset (bilinear).
    """
    x0, y0, x1, y1 = box
    out_h, out_w = out_hw
    box_w, box_h = x1 - x0, y1 - y0
    down = box_w >= out_w and box_h >= out_h
    if down:
        factor = max(box_w / out_w, box_h / out_h)
        down_interp = cv2.INTER_AREA if factor >= AREA_MIN_FACTOR else cv2.INTER_LINEAR
    if all(float(v).is_integer() for v in box):
        region = img[int(y0):int(y1), int(x0):int(x1)]
        return cv2.resize(region, (out_w, out_h), interpolation=down_interp if down else interpolation)
    # one pixel of margin around the box, so that the sub-pixel interpolation at its edges has neighbours
    ix0, iy0 = max(int(math.floor(x0)) - 1, 0), max(int(math.floor(y0)) - 1, 0)
    region = img[iy0:min(int(math.ceil(y1)) + 1, img.shape[0]), ix0:min(int(math.ceil(x1)) + 1, img.shape[1])]
    flags = cv2.WARP_INVERSE_MAP
    if down:
        fx, fy = out_w / box_w, out_h / box_h
        region = cv2.resize(region, None, fx=fx, fy=fy, interpolation=down_interp)
        matrix = np.float32([[1, 0, (x0 - ix0) * fx], [0, 1, (y0 - iy0) * fy]])
        flags |= cv2.INTER_LINEAR
    else:  # pixel centres: output j samples x0 + (j + 0.5)·box_w/out_w - 0.5
        sx, sy = box_w / out_w, box_h / out_h
        matrix = np.float32([[sx, 0, x0 - ix0 + 0.5 * sx - 0.5], [0, sy, y0 - iy0 + 0.5 * sy - 0.5]])
        flags |= interpolation
    return cv2.warpAffine(region, matrix, (out_w, out_h), flags=flags, borderMode=cv2.BORDER_REPLICATE)


def snap_box(box: Box, grid: int, w: int, h: int) -> Box:
    """Round the box edges to multiples of ``grid`` inside [0, grid·floor(w/grid)] × [0, grid·floor(h/grid)]."""

    def snap(v, limit):
        return min(max(grid * math.floor(v / grid + 0.5), 0), grid * (limit // grid))

    x0, y0, x1, y1 = box
    sx0, sx1 = snap(x0, w), snap(x1, w)
    sy0, sy1 = snap(y0, h), snap(y1, h)
    if sx1 <= sx0 or sy1 <= sy0:
        return box
    return (sx0, sy0, sx1, sy1)


class _Source(NamedTuple):
    """One image of a pair: its full-resolution size and either a JPEG to decode or the decoded uint8 array."""
    hw: Tuple[int, int]
    path: str
    buf: Optional[bytes] = None
    info: Optional[JpegInfo] = None
    mode: str = 'color'  # JPEG: 'color', 'grey' (one plane) or 'first_channel' (channel 0 of the BGR decode)
    array: Optional[np.ndarray] = None  # non-JPEG: H×W (grey) or H×W×3 uint8, already normalised


@TRANSFORMS.register_module()
class LoadRGBTRandomResizedCrop(LoadRGBTImagePair):
    """Load an RGB + thermal pair and random-resized-crop it, decoding JPEGs only as finely as the crop needs.

    1. Read both sizes from the JPEG headers (no decode); other formats (PNG, 16-bit thermal) are decoded in full.
    2. Draw one RandomResizedCrop box in full-resolution RGB coordinates; a thermal image of another size
       (``size_mismatch='resize_thermal'``) gets the same box mapped exactly to its own coordinates.
    3. Decode each JPEG at the coarsest DCT scale s in (1/8, 1/4, 1/2) at which its box is still at least as large
       as the output on both axes (``dct_scaling=False``: always full resolution). The box edges are rounded to
       multiples of s (at most s - 1 full-resolution pixels), so the crop at 1/s is exact.
    4. Crop and resize each image there (:func:`resize_box`: antialiased when downscaling, ``interpolation`` when
       upscaling).
    5. Stack to out_h×out_w×6 = [RGB | T] (both BGR); a grey thermal image stays one plane until this point.

    Thermal rules are those of :class:`LoadRGBTImagePair`. A 3-channel thermal JPEG with ``thermal_grey=True``
    is decoded as its luminance plane (JPEG's Y, within a grey level of ``BGR2GRAY`` of the colour decode).

    Required keys: ``img_path``, ``ir_path`` (optional ``img_bytes``/``ir_bytes``: the files already read).
    Added keys: ``img`` (out_h×out_w×6 uint8), ``img_shape`` (output), ``ori_shape`` (full-resolution RGB),
    ``crop_bbox`` (x0, y0, x1, y1 in full-resolution RGB pixels), ``decode_scale`` ((s_rgb, s_thermal)),
    ``modality_channels``, ``channel_order``.

    Args:
        scale (int | tuple[int, int]): Output (H, W).
        crop_ratio_range (tuple[float, float]): Area fraction range of the box.
        aspect_ratio_range (tuple[float, float]): w/h range of the box.
        max_attempts (int): Tries before falling back to a centre crop.
        interpolation (str): cv2 interpolation when the box is smaller than the output (upscaling).
        dct_scaling (bool): Decode JPEGs at reduced DCT scales (default); False decodes at full resolution with the
            same box, crop and resize (the reference for the reduced decode).
        max_dct_scale (int): Coarsest scale allowed (8, 4, 2 or 1).
        to_float32, thermal_mode, thermal_grey, thermal_range, size_mismatch, backend_args: as in
            :class:`LoadRGBTImagePair`.
    """

    def __init__(self,
                 scale: Union[int, Sequence[int]] = 224,
                 crop_ratio_range: Tuple[float, float] = (0.08, 1.0),
                 aspect_ratio_range: Tuple[float, float] = (3. / 4., 4. / 3.),
                 max_attempts: int = 10,
                 interpolation: str = 'bicubic',
                 dct_scaling: bool = True,
                 max_dct_scale: int = 8,
                 **loader_kwargs):
        super().__init__(**loader_kwargs)
        self.scale = (scale, scale) if isinstance(scale, int) else tuple(scale)
        if interpolation not in CV2_INTERP:
            raise ValueError(f'interpolation must be one of {sorted(CV2_INTERP)}, got {interpolation!r}')
        if max_dct_scale not in (1, 2, 4, 8):
            raise ValueError(f'max_dct_scale must be 1, 2, 4 or 8, got {max_dct_scale!r}')
        self.crop_ratio_range = crop_ratio_range
        self.aspect_ratio_range = aspect_ratio_range
        self.max_attempts = max_attempts
        self.interpolation = interpolation
        self.dct_scaling = dct_scaling
        self.max_dct_scale = max_dct_scale if dct_scaling else 1

    # --------------------------------------------------------------------------------------------- sources
    def _source(self, buf: bytes, path: str, role: str) -> _Source:
        info = jpeg_info(buf)
        if info is not None and info.precision == 8 and info.channels in (1, 3):
            if role == 'rgb':
                if info.channels == 1:
                    warnings.warn(f'grey RGB image replicated to 3 channels: {path}', stacklevel=2)
                mode = 'grey' if info.channels == 1 else 'color'
            elif info.channels == 1 or (self.thermal_grey and self.thermal_mode == 'auto'):
                mode = 'grey'
            else:
                mode = 'first_channel' if self.thermal_mode == 'first_channel' else 'color'
            return _Source((info.height, info.width), path, buf=buf, info=info, mode=mode)
        img = decode_image(path, img_bytes=buf)
        if role == 'rgb':
            img = rgb_to_3ch(img, path)
        else:
            img = thermal_to_uint8(img, path, self.thermal_mode, self.thermal_grey, self.thermal_range)
        return _Source(img.shape[:2], path, array=img)

    def _dct_scale(self, source: _Source, box_w: float, box_h: float) -> int:
        if source.array is not None:
            return 1
        return dct_scale(box_w, box_h, self.scale[1], self.scale[0], self.max_dct_scale)

    def _crop(self, source: _Source, box: Box, scale: int) -> np.ndarray:
        if source.array is not None:
            img = source.array
        else:
            img = decode_jpeg(source.buf, source.mode == 'grey', scale, source.info, source.path)
            if source.mode == 'first_channel':
                img = np.ascontiguousarray(img[..., 0])
        scaled = tuple(v / scale for v in box)
        return resize_box(img, scaled, self.scale, CV2_INTERP[self.interpolation])

    # --------------------------------------------------------------------------------------------- geometry
    def _plan(self, rgb: _Source, thermal: _Source) -> Tuple[Box, Box, int, int]:
        """Box in RGB and thermal full-resolution coordinates and the DCT scale of each."""
        h, w = rgb.hw
        top, left, crop_h, crop_w = sample_resized_crop_box(h, w, self.crop_ratio_range, self.aspect_ratio_range,
                                                            self.max_attempts)
        box = (left, top, left + crop_w, top + crop_h)
        fx, fy = thermal.hw[1] / w, thermal.hw[0] / h
        s_rgb = self._dct_scale(rgb, crop_w, crop_h)
        s_ir = self._dct_scale(thermal, crop_w * fx, crop_h * fy)
        same_size = rgb.hw == thermal.hw
        grid = max(s_rgb, s_ir) if same_size else s_rgb
        if grid > 1:
            box = snap_box(box, grid, w, h)
            box_w, box_h = box[2] - box[0], box[3] - box[1]
            while s_rgb > 1 and (box_w < s_rgb * self.scale[1] or box_h < s_rgb * self.scale[0]):
                s_rgb //= 2
            while s_ir > 1 and (box_w * fx < s_ir * self.scale[1] or box_h * fy < s_ir * self.scale[0]):
                s_ir //= 2
        ir_box = box if same_size else (box[0] * fx, box[1] * fy, box[2] * fx, box[3] * fy)
        return box, ir_box, s_rgb, s_ir

    def transform(self, results: dict) -> dict:
        for key in ('img_path', 'ir_path'):
            if not results.get(key):
                raise KeyError(f'{type(self).__name__} needs an explicit {key!r} in the data info; got keys '
                               f'{sorted(results)}')
        rgb_path, ir_path = results['img_path'], results['ir_path']
        rgb_buf, ir_buf = results.get('img_bytes'), results.get('ir_bytes')
        rgb_buf = read_bytes(rgb_path, self.backend_args) if rgb_buf is None else rgb_buf
        ir_buf = read_bytes(ir_path, self.backend_args) if ir_buf is None else ir_buf
        for buf, path in ((rgb_buf, rgb_path), (ir_buf, ir_path)):
            if not buf:
                raise ValueError(f'image file is empty: {path}')
        rgb, thermal = self._source(rgb_buf, rgb_path, 'rgb'), self._source(ir_buf, ir_path, 'thermal')
        if rgb.hw != thermal.hw:
            if self.size_mismatch == 'raise':
                raise ValueError(f'RGB/thermal size mismatch: {rgb_path} is {rgb.hw[1]}x{rgb.hw[0]} but {ir_path} '
                                 f'is {thermal.hw[1]}x{thermal.hw[0]} (W x H); set '
                                 f"size_mismatch='resize_thermal' to map the crop box to the thermal size")
            self.num_resized += 1
        box, ir_box, s_rgb, s_ir = self._plan(rgb, thermal)
        rgb_out = self._crop(rgb, box, s_rgb)
        ir_out = self._crop(thermal, ir_box, s_ir)
        if rgb_out.ndim == 2:
            rgb_out = cv2.merge([rgb_out] * 3)
        img = cv2.merge([rgb_out] + ([ir_out] * 3 if ir_out.ndim == 2 else [ir_out]))  # out_h×out_w×6
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = rgb.hw
        results['crop_bbox'] = np.array([int(v) for v in box])
        results['decode_scale'] = (s_rgb, s_ir)
        results['modality_channels'] = dict(MODALITY_CHANNELS)
        results['channel_order'] = ('bgr', 'bgr')
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(scale={self.scale}, crop_ratio_range={self.crop_ratio_range}, '
                f'aspect_ratio_range={self.aspect_ratio_range}, interpolation={self.interpolation!r}, '
                f'dct_scaling={self.dct_scaling}, max_dct_scale={self.max_dct_scale}, '
                f'thermal_mode={self.thermal_mode!r}, thermal_grey={self.thermal_grey}, '
                f'size_mismatch={self.size_mismatch!r})')
