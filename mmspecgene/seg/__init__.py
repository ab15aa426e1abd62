# Copyright (c) mmspecgene contributors. All rights reserved.
"""``import mmspecgene.seg`` registers the RGBT segmentation and SOD modules into mmseg's registries
(transforms into mmengine's root TRANSFORMS, found from mmseg)."""
from mmseg.registry import METRICS, OPTIM_WRAPPER_CONSTRUCTORS

from ..datasets import transforms  # noqa: F401
from ..engine.optimizers import RGBTLayerDecayOptimWrapperConstructor
from ..evaluation.sod_metric import SODMetric
from ..utils.checkpoint_loader import register_local_checkpoint_loader
from ..utils.registration import register_into
from .backbones import RGBTViTSeg
from .data_preprocessor import RGBTSegDataPreProcessor
from .datasets import (
                       FMBDataset,
                       MVSegDataset,
                       RGBTSegDataset,
                       RGBTSODDataset,
                       RGBTSyntheticSegDataset,
                       RGBTSyntheticSODDataset,
                       SemanticRTDataset,
                       VIRGBT1500Dataset,
                       VT821Dataset,
                       VT1000Dataset,
                       VT5000Dataset,
)
from .hooks import RGBTSegVisualizationHook
from .metrics import RGBTIoUMetric

register_local_checkpoint_loader()
register_into(OPTIM_WRAPPER_CONSTRUCTORS, RGBTLayerDecayOptimWrapperConstructor)
register_into(METRICS, SODMetric)

__all__ = [
    'RGBTViTSeg', 'RGBTSegDataPreProcessor', 'RGBTSegDataset', 'SemanticRTDataset', 'MVSegDataset', 'FMBDataset',
    'RGBTSyntheticSegDataset', 'RGBTSODDataset', 'VT5000Dataset', 'VT1000Dataset', 'VT821Dataset',
    'VIRGBT1500Dataset', 'RGBTSyntheticSODDataset', 'RGBTSegVisualizationHook', 'RGBTIoUMetric', 'SODMetric',
    'RGBTLayerDecayOptimWrapperConstructor'
]
