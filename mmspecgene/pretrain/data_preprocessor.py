# Copyright (c) mmspecgene contributors. All rights reserved.
from mmpretrain.models.utils.data_preprocessor import SelfSupDataPreprocessor
from mmpretrain.registry import MODELS

from ..models.rgbt_normalize import RGBTPreprocessorMixin


@MODELS.register_module()
class RGBTSelfSupDataPreprocessor(RGBTPreprocessorMixin, SelfSupDataPreprocessor):
    """mmpretrain self-supervised preprocessor for stacked (B, 6, H, W) [RGB | T] batches.

    Needs ``default_collate``. ``mean``/``std`` take 6 values; ``to_rgb=(bool, bool)`` per half.
    """
