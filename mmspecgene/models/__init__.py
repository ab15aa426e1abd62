# Copyright (c) mmspecgene contributors. All rights reserved.
"""Host-free model components (torch + mmengine only; nothing is registered here)."""
from .cmss import canonical_cmss_variant, cmss_stats, compute_cmss
from .gmm_cmss_masking import GMMCMSSMasking, OverlappingGMMCMSSMasking, ReleasedGMMCMSSMasking
from .masking_ops import greedy_select, keep_count
from .random_masking import RandomRGBTMasking

__all__ = [
    'compute_cmss', 'cmss_stats', 'canonical_cmss_variant', 'GMMCMSSMasking', 'ReleasedGMMCMSSMasking',
    'OverlappingGMMCMSSMasking', 'RandomRGBTMasking', 'greedy_select', 'keep_count'
]
