# Copyright (c) mmspecgene contributors. All rights reserved.
"""``import mmspecgene.pretrain`` registers the RGBT pretraining modules into mmpretrain's registries
(transforms into mmengine's root TRANSFORMS, found from mmpretrain)."""
from mmpretrain.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

from ..datasets import transforms  # noqa: F401
from ..engine.optimizers import RGBTLayerDecayOptimWrapperConstructor
from ..models.gmm_cmss_masking import GMMCMSSMasking, OverlappingGMMCMSSMasking, ReleasedGMMCMSSMasking
from ..models.mae_decoder import RGBTMAEDecoder, RGBTMAEPlainDecoder
from ..models.mae_head import RGBTMAEHead
from ..models.random_masking import RandomRGBTMasking
from ..utils.checkpoint_loader import register_local_checkpoint_loader
from ..utils.registration import register_into
from .algorithms import RGBTMAEViT, SpecGeneMAE
from .data_preprocessor import RGBTSelfSupDataPreprocessor
from .datasets import RGBTPairDataset, RGBTTarPairDataset
from .hooks import RGBTMaskingHook

register_local_checkpoint_loader()
register_into(MODELS, GMMCMSSMasking, ReleasedGMMCMSSMasking, OverlappingGMMCMSSMasking, RandomRGBTMasking,
              RGBTMAEDecoder, RGBTMAEPlainDecoder, RGBTMAEHead)
register_into(OPTIM_WRAPPER_CONSTRUCTORS, RGBTLayerDecayOptimWrapperConstructor)

__all__ = [
    'SpecGeneMAE', 'RGBTMAEViT', 'RGBTMAEDecoder', 'RGBTMAEPlainDecoder', 'RGBTMAEHead', 'GMMCMSSMasking',
    'ReleasedGMMCMSSMasking', 'OverlappingGMMCMSSMasking', 'RandomRGBTMasking', 'RGBTMaskingHook',
    'RGBTSelfSupDataPreprocessor', 'RGBTPairDataset', 'RGBTTarPairDataset', 'RGBTLayerDecayOptimWrapperConstructor'
]
