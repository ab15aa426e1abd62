# Copyright (c) mmspecgene contributors. All rights reserved.
"""``import mmspecgene.match`` registers visible-thermal feature matching into the ``mmspecgene`` scope
(:mod:`mmspecgene.registry`, children of mmengine's root registries; no OpenMMLab host has this task)."""
from ..engine.optimizers import RGBTLayerDecayOptimWrapperConstructor
from ..registry import OPTIM_WRAPPER_CONSTRUCTORS
from ..utils.checkpoint_loader import register_local_checkpoint_loader
from ..utils.registration import register_into
from .backbone import RGBTViTMatch
from .data_preprocessor import RGBTMatchDataPreprocessor
from .datasets import RGBTExternalMatchDataset, RGBTMatchDataset, write_homography_file
from .matcher import FineFeatureBranch, RGBTMatcher
from .metric import RGBTMatchingMetric
from .transforms import LoadRGBTMatchPair, PackRGBTMatchInputs, RGBTHomographyWarp, RGBTRandomHomographyWarp

register_local_checkpoint_loader()
register_into(OPTIM_WRAPPER_CONSTRUCTORS, RGBTLayerDecayOptimWrapperConstructor)

__all__ = [
    'RGBTViTMatch', 'RGBTMatchDataPreprocessor', 'RGBTMatcher', 'FineFeatureBranch', 'RGBTMatchDataset',
    'RGBTExternalMatchDataset', 'write_homography_file', 'RGBTMatchingMetric', 'LoadRGBTMatchPair',
    'RGBTHomographyWarp', 'RGBTRandomHomographyWarp', 'PackRGBTMatchInputs', 'RGBTLayerDecayOptimWrapperConstructor'
]
