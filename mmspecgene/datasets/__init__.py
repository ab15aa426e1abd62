# Copyright (c) mmspecgene contributors. All rights reserved.
"""Host-free data code: RGBT transforms (root TRANSFORMS), metainfo, annotation checks, synthetic data."""
from . import transforms  # noqa: F401  (registers the transforms)
from .metainfo import (FMB_CLASSES, MVSEG_CLASSES, SEG_PALETTE, SEMANTICRT_CLASSES, SOD_CLASSES, SOD_PALETTE,
                       SYNTHETIC_SEG_CLASSES, SYNTHETIC_SEG_PALETTE)

__all__ = [
    'FMB_CLASSES', 'MVSEG_CLASSES', 'SEG_PALETTE', 'SEMANTICRT_CLASSES', 'SOD_CLASSES', 'SOD_PALETTE',
    'SYNTHETIC_SEG_CLASSES', 'SYNTHETIC_SEG_PALETTE'
]
