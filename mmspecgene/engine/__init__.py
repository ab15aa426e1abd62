# Copyright (c) mmspecgene contributors. All rights reserved.
"""Host-free training utilities; the host packages register them into their registries."""
from .optimizers import DECAY_EXCLUSIONS, RGBTLayerDecayOptimWrapperConstructor

__all__ = ['DECAY_EXCLUSIONS', 'RGBTLayerDecayOptimWrapperConstructor']
