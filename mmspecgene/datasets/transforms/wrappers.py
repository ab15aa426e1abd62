# Copyright (c) mmspecgene contributors. All rights reserved.
"""Run 3-channel (photometric) transforms on one half of the H×W×6 [RGB | T] stack."""
from typing import List, Union

import numpy as np
from mmcv.transforms import BaseTransform, Compose
from mmengine.registry import TRANSFORMS


class _ModalityView(BaseTransform):
    """Apply ``transforms`` to a 3-channel view of one modality and write it back.

    Only photometric transforms may be wrapped: the view holds the image and the sample's metadata but no
    annotations (``gt_*``), and a wrapped transform that changes the view's shape or sets or replaces any key but
    ``img`` (a flip, resize, crop or pad records what it did) is an error naming the keys, before the pair
    could lose its alignment.
    """
    channels = (0, 3)
    modality = ''

    def __init__(self, transforms: Union[dict, List[dict]]):
        self.transforms = Compose(transforms if isinstance(transforms, list) else [transforms])

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim != 3 or img.shape[2] != 6:
            raise ValueError(f'{type(self).__name__} expects an H×W×6 [RGB | T] image, got shape {img.shape} '
                             f"({results.get('img_path')})")
        start, end = self.channels
        view = {key: value for key, value in results.items() if not key.startswith('gt_')}
        before = dict(view)
        view['img'] = np.ascontiguousarray(img[..., start:end])
        out = self.transforms(view)
        if out is None:
            return None
        new = out['img']
        changed = sorted(key for key in out if key != 'img' and (key not in before or out[key] is not before[key]))
        if new.shape != img.shape[:2] + (3, ) or changed:
            found = f'set {changed}' if changed else f'changed the shape to {new.shape}'
            raise ValueError(f'{type(self).__name__}: a wrapped transform {found} in the {self.modality} view '
                             f"({results.get('img_path')}); only photometric transforms may be wrapped "
                             '(geometric ones must run on all 6 channels)')
        merged = img.astype(new.dtype, copy=True) if new.dtype != img.dtype else img.copy()
        merged[..., start:end] = new
        results['img'] = merged
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(transforms={self.transforms})'


@TRANSFORMS.register_module()
class RGBOnly(_ModalityView):
    """Apply wrapped transforms to the RGB half (channels 0-2) only."""
    channels = (0, 3)
    modality = 'RGB'


@TRANSFORMS.register_module()
class ThermalOnly(_ModalityView):
    """Apply wrapped transforms to the thermal half (channels 3-5) only."""
    channels = (3, 6)
    modality = 'thermal'
