# Copyright (c) mmspecgene contributors. All rights reserved.
"""Host-free model components (torch + mmengine only; nothing is registered here)."""
from .cmss import canonical_cmss_variant, cmss_stats, compute_cmss
from .gmm_cmss_masking import GMMCMSSMasking, greedy_select, keep_count

__all__ = [
    'compute_cmss', 'cmss_stats', 'canonical_cmss_variant', 'GMMCMSSMasking', 'greedy_select', 'keep_count'
]
