# Copyright (c) mmspecgene contributors. All rights reserved.
"""Matching pipeline: load and resize a pair, warp one modality by a homography, pack.

Every sample carries ``gt_homography``: the (3, 3) map from RGB pixels to thermal pixels in the packed frame
(pixel centres at integer coordinates, see :mod:`mmspecgene.match.geometry`).
"""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement

from ..datasets.transforms.loading import check_thermal_options, decode_image, rgb_to_3ch, thermal_to_3ch
from ..registry import TRANSFORMS
from .geometry import check_homography, check_ranges, sample_homography, scale_matrix

WARP_MODALITIES = ('thermal', 'rgb')
META_KEYS = ('sample_idx', 'img_path', 'ir_path', 'img_shape', 'gt_homography', 'warp_homography', 'warp_modality')


def sample_name(results: dict) -> str:
    """``sample <idx> (<rgb path> | <thermal path>)`` for error messages."""
    return f'sample {results.get("sample_idx", "?")} ({results.get("img_path")} | {results.get("ir_path")})'


def _resize(img: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    if (img.shape[1], img.shape[0]) == tuple(size):
        return img
    shrink = img.shape[1] > size[0] or img.shape[0] > size[1]
    return cv2.resize(img, tuple(size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


@TRANSFORMS.register_module()
class LoadRGBTMatchPair(BaseTransform):
    """Load an RGB image and its thermal partner, resize each to ``img_size`` and stack to H×W×6 [RGB | T].

    Unlike :class:`~mmspecgene.datasets.transforms.LoadRGBTImagePair` the two images may differ in size
    (unaligned benchmarks). The pair's ``gt_homography`` (original RGB pixels -> original thermal pixels; absent
    means an aligned pair, the identity in normalised coordinates) is carried into the resized frame:
    ``H' = S_t H S_rgb^-1``.

    Required keys: ``img_path``, ``ir_path``. Optional: ``gt_homography``, ``sample_idx``.
    Added keys: ``img`` (H×W×6 uint8), ``img_shape``, ``ori_shape`` (RGB), ``ir_ori_shape``, ``gt_homography``.

    Args:
        img_size (tuple[int, int]): Output (width, height), multiples of the patch size.
        thermal_mode, thermal_grey, thermal_range: as in ``LoadRGBTImagePair``.
        backend_args (dict, optional): mmengine file backend arguments.
    """

    def __init__(self, img_size: Sequence[int], thermal_mode: str = 'auto', thermal_grey: bool = False,
                 thermal_range: Optional[dict] = None, backend_args: Optional[dict] = None):
        if len(img_size) != 2 or min(img_size) < 1:
            raise ValueError(f'img_size must be (width, height), got {img_size!r}')
        check_thermal_options(thermal_mode, thermal_range)
        self.img_size = (int(img_size[0]), int(img_size[1]))
        self.thermal_mode = thermal_mode
        self.thermal_grey = thermal_grey
        self.thermal_range = thermal_range
        self.backend_args = backend_args

    def _decode(self, results: dict, key: str, what: str) -> np.ndarray:
        path = results.get(key)
        if not path:
            raise KeyError(f'LoadRGBTMatchPair: {sample_name(results)} has no {key!r} ({what} image path)')
        try:
            return decode_image(path, self.backend_args)
        except (FileNotFoundError, ValueError) as err:
            raise type(err)(f'matching {sample_name(results)}: {what} image: {err}') from None

    def transform(self, results: dict) -> dict:
        rgb = rgb_to_3ch(self._decode(results, 'img_path', 'RGB'), results['img_path'])
        thermal = thermal_to_3ch(
            self._decode(results, 'ir_path', 'thermal'), results['ir_path'], self.thermal_mode, self.thermal_grey,
            self.thermal_range)
        rgb_size, ir_size = (rgb.shape[1], rgb.shape[0]), (thermal.shape[1], thermal.shape[0])
        given = results.get('gt_homography')
        if given is None:  # aligned pair: the same normalised position in both images
            H = np.linalg.inv(scale_matrix(ir_size, rgb_size))
        else:
            H = check_homography(given, rgb_size, f'matching {sample_name(results)}: gt_homography', dst_size=ir_size)
        H = scale_matrix(ir_size, self.img_size) @ H @ np.linalg.inv(scale_matrix(rgb_size, self.img_size))
        results['img'] = cv2.merge([_resize(rgb, self.img_size), _resize(thermal, self.img_size)])
        results['img_shape'] = (self.img_size[1], self.img_size[0])
        results['ori_shape'] = (rgb_size[1], rgb_size[0])
        results['ir_ori_shape'] = (ir_size[1], ir_size[0])
        results['gt_homography'] = H / H[2, 2]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(img_size={self.img_size}, thermal_mode={self.thermal_mode!r})'


@TRANSFORMS.register_module()
class RGBTHomographyWarp(BaseTransform):
    """Warp one modality of a loaded pair by the sample's own ``warp_homography`` (fixed evaluation warps).

    Required keys: ``img`` (H×W×6), ``gt_homography``, ``warp_homography`` (3×3, packed-frame pixels) and
    ``warp_modality`` (``'thermal'``: thermal' = W(thermal), H' = W H; ``'rgb'``: RGB' = W(RGB), H' = H W^-1).
    Optional: ``warp_img_size`` (width, height) the warp was drawn for; a loaded frame of another size raises.
    Pixels that come from outside the source image are 0. A degenerate warp raises, naming the sample.
    """

    def warp(self, results: dict, warp: np.ndarray, modality: str) -> dict:
        if modality not in WARP_MODALITIES:
            raise ValueError(f'{type(self).__name__}: {sample_name(results)} has warp_modality={modality!r}, '
                             f'expected one of {WARP_MODALITIES}')
        img = results['img']
        height, width = img.shape[:2]
        warp = check_homography(warp, (width, height), f'matching {sample_name(results)}: warp_homography')
        half = slice(3, 6) if modality == 'thermal' else slice(0, 3)
        warped = cv2.warpPerspective(np.ascontiguousarray(img[..., half]), warp, (width, height),
                                     flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        img = img.copy()
        img[..., half] = warped
        H = results['gt_homography']
        H = warp @ H if modality == 'thermal' else H @ np.linalg.inv(warp)
        results['img'] = img
        results['gt_homography'] = H / H[2, 2]
        results['warp_homography'] = warp
        results['warp_modality'] = modality
        return results

    def transform(self, results: dict) -> dict:
        for key in ('warp_homography', 'warp_modality'):
            if key not in results:
                raise KeyError(f'{type(self).__name__}: {sample_name(results)} has no {key!r}; evaluation datasets '
                               'set it from their homography_file (RGBTMatchDataset(homography_file=...))')
        drawn_for = results.get('warp_img_size')
        height, width = results['img'].shape[:2]
        if drawn_for is not None and tuple(drawn_for) != (width, height):
            raise ValueError(f'{type(self).__name__}: {sample_name(results)}: the fixed warp was drawn for '
                             f'{drawn_for[0]}x{drawn_for[1]} frames (the dataset\'s img_size), but the pipeline loaded '
                             f'{width}x{height}; set the same img_size in RGBTMatchDataset and LoadRGBTMatchPair')
        return self.warp(results, results['warp_homography'], results['warp_modality'])


@TRANSFORMS.register_module()
class RGBTRandomHomographyWarp(RGBTHomographyWarp):
    """Warp one modality by a homography drawn from :func:`~mmspecgene.match.geometry.sample_homography`.

    Args:
        ranges (dict, optional): ``rotation`` (degrees), ``scale`` (low, high), ``perspective``, ``translation``
            (fractions of the image size); defaults :data:`~mmspecgene.match.geometry.DEFAULT_HOMOGRAPHY_RANGES`.
        swap_prob (float): Probability of warping RGB instead of thermal (swapped roles).
    """

    def __init__(self, ranges: Optional[dict] = None, swap_prob: float = 0.5):
        self.ranges = check_ranges(ranges)
        if not 0 <= swap_prob <= 1:
            raise ValueError(f'swap_prob must be in [0, 1], got {swap_prob}')
        self.swap_prob = swap_prob

    def transform(self, results: dict) -> dict:
        # numpy's global state is seeded per worker by mmengine (randomness.seed), so runs are reproducible
        rng = np.random.default_rng(np.random.randint(0, 2**31 - 1))
        height, width = results['img'].shape[:2]
        warp = sample_homography(rng, (width, height), self.ranges)
        modality = 'rgb' if rng.random() < self.swap_prob else 'thermal'
        return self.warp(results, warp, modality)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(ranges={self.ranges}, swap_prob={self.swap_prob})'


@TRANSFORMS.register_module()
class PackRGBTMatchInputs(BaseTransform):
    """Pack ``img`` (H×W×6) into a (6, H, W) uint8 tensor and the metainfo into a ``BaseDataElement``.

    The data sample's metainfo holds ``gt_homography`` (float64 (3, 3)) and the ``meta_keys`` present.
    """

    def __init__(self, meta_keys: Sequence[str] = META_KEYS):
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        if 'gt_homography' not in results:
            raise KeyError(f'{type(self).__name__}: {sample_name(results)} has no gt_homography; load it with '
                           'LoadRGBTMatchPair')
        img = np.ascontiguousarray(results['img'].transpose(2, 0, 1))
        sample = BaseDataElement(metainfo={k: results[k] for k in self.meta_keys if k in results})
        return dict(inputs=torch.from_numpy(img), data_samples=sample)
