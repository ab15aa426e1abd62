# Copyright (c) mmspecgene contributors. All rights reserved.
"""Host-free data code: RGBT transforms (root TRANSFORMS), metainfo, annotation checks, synthetic data and the
dataset converters' library (:mod:`mmspecgene.datasets.converters`, imported on demand)."""
from . import transforms  # noqa: F401  (registers the transforms)
from .metainfo import (FLIR_CLASSES, FLIR_PALETTE, FMB_CLASSES, KAIST_CLASSES, LLVIP_CLASSES, MVSEG_CLASSES,
                       PERSON_CLASSES, PERSON_PALETTE, SEG_PALETTE, SEMANTICRT_CLASSES, SOD_CLASSES, SOD_PALETTE,
                       SYNTHETIC_DET_CLASSES, SYNTHETIC_DET_PALETTE, SYNTHETIC_SEG_CLASSES, SYNTHETIC_SEG_PALETTE)

__all__ = [
    'FLIR_CLASSES', 'FLIR_PALETTE', 'FMB_CLASSES', 'KAIST_CLASSES', 'LLVIP_CLASSES', 'MVSEG_CLASSES',
    'PERSON_CLASSES', 'PERSON_PALETTE', 'SEG_PALETTE', 'SEMANTICRT_CLASSES', 'SOD_CLASSES', 'SOD_PALETTE',
    'SYNTHETIC_DET_CLASSES', 'SYNTHETIC_DET_PALETTE', 'SYNTHETIC_SEG_CLASSES', 'SYNTHETIC_SEG_PALETTE'
]
