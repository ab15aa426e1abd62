# Copyright (c) mmspecgene contributors. All rights reserved.
from .layer_decay import DECAY_EXCLUSIONS, RGBTLayerDecayOptimWrapperConstructor

__all__ = ['DECAY_EXCLUSIONS', 'RGBTLayerDecayOptimWrapperConstructor']
