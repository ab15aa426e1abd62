# Copyright (c) mmspecgene contributors. All rights reserved.
"""Keep one modality of the H×W×6 [RGB | T] stack (single-modality pipelines)."""
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.registry import TRANSFORMS

from .loading import MODALITY_CHANNELS


@TRANSFORMS.register_module()
class SelectModality(BaseTransform):
    """Reduce the H×W×6 [RGB | T] stack of ``LoadRGBTImagePair`` to the H×W×3 image of one modality (BGR).

    For single-modality models on RGBT data, e.g. the RGB-only or thermal-only MAE pretraining that initialises
    M-SpecGene. Modified keys: ``img``, ``modality_channels`` and ``channel_order`` (one modality left).

    Args:
        modality (str): ``'rgb'`` or ``'thermal'``.
    """

    def __init__(self, modality: str):
        if modality not in MODALITY_CHANNELS:
            raise ValueError(f'SelectModality: modality={modality!r}; expected one of {sorted(MODALITY_CHANNELS)}')
        self.modality = modality

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim != 3 or img.shape[2] != 6:
            raise ValueError(f'SelectModality expects an H×W×6 [RGB | T] image, got shape {img.shape} '
                             f"({results.get('img_path')})")
        start, end = MODALITY_CHANNELS[self.modality]
        results['img'] = np.ascontiguousarray(img[..., start:end])
        results['modality_channels'] = {self.modality: (0, 3)}
        results['channel_order'] = ('bgr', )
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(modality={self.modality!r})'
