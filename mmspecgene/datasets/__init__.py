# Copyright (c) mmspecgene contributors. All rights reserved.
"""Host-free data code: metainfo (exported here), and, imported on demand, the RGBT transforms
(:mod:`mmspecgene.datasets.transforms`, which registers them into mmengine's root TRANSFORMS and needs mmcv; the host
layers ``mmspecgene.pretrain|det|seg`` import it), annotation checks, synthetic data and the dataset converters'
library (:mod:`mmspecgene.datasets.converters`). Importing this package itself stays light (no torch or mmcv), so the
converter scripts start fast."""
from .metainfo import (
                       FLIR_CLASSES,
                       FLIR_PALETTE,
                       FMB_CLASSES,
                       KAIST_CLASSES,
                       LLVIP_CLASSES,
                       MVSEG_CLASSES,
                       PERSON_CLASSES,
                       PERSON_PALETTE,
                       SEG_PALETTE,
                       SEMANTICRT_CLASSES,
                       SOD_CLASSES,
                       SOD_PALETTE,
                       SYNTHETIC_DET_CLASSES,
                       SYNTHETIC_DET_PALETTE,
                       SYNTHETIC_SEG_CLASSES,
                       SYNTHETIC_SEG_PALETTE,
)

__all__ = [
    'FLIR_CLASSES', 'FLIR_PALETTE', 'FMB_CLASSES', 'KAIST_CLASSES', 'LLVIP_CLASSES', 'MVSEG_CLASSES',
    'PERSON_CLASSES', 'PERSON_PALETTE', 'SEG_PALETTE', 'SEMANTICRT_CLASSES', 'SOD_CLASSES', 'SOD_PALETTE',
    'SYNTHETIC_DET_CLASSES', 'SYNTHETIC_DET_PALETTE', 'SYNTHETIC_SEG_CLASSES', 'SYNTHETIC_SEG_PALETTE'
]
