# Copyright (c) mmspecgene contributors. All rights reserved.
"""``import mmspecgene.det`` registers the RGBT detection modules into mmdet's registries
(transforms into mmengine's root TRANSFORMS, the LN2d into the root MODELS; both are found from mmdet)."""
from mmdet.registry import METRICS, OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import MODELS as ROOT_MODELS

from ..datasets import transforms  # noqa: F401
from ..engine.optimizers import RGBTLayerDecayOptimWrapperConstructor
from ..evaluation.kaist_metric import KAISTMissRateMetric
from ..models.layers.norm import SpecGeneLN2d
from ..utils.checkpoint_loader import register_local_checkpoint_loader
from ..utils.registration import register_into
from .backbones import RGBTViTDet
from .data_preprocessor import RGBTDetDataPreprocessor
from .datasets import FLIRAlignedDataset, KAISTDataset, LLVIPDataset, RGBTCocoDataset, RGBTSyntheticDetDataset
from .hooks import RGBTDetVisualizationHook
from .metrics import RGBTCocoMetric
from .necks import RGBTSimpleFPN

register_local_checkpoint_loader()
register_into(ROOT_MODELS, SpecGeneLN2d)
register_into(OPTIM_WRAPPER_CONSTRUCTORS, RGBTLayerDecayOptimWrapperConstructor)
register_into(METRICS, KAISTMissRateMetric)

__all__ = [
    'RGBTViTDet', 'RGBTSimpleFPN', 'RGBTDetDataPreprocessor', 'RGBTCocoDataset', 'KAISTDataset', 'LLVIPDataset',
    'FLIRAlignedDataset', 'RGBTSyntheticDetDataset', 'RGBTDetVisualizationHook', 'KAISTMissRateMetric',
    'RGBTCocoMetric', 'SpecGeneLN2d', 'RGBTLayerDecayOptimWrapperConstructor'
]
