# Copyright (c) mmspecgene contributors. All rights reserved.
from mmengine.model import ImgDataPreprocessor

from ..models.rgbt_normalize import RGBTPreprocessorMixin
from ..registry import MODELS


@MODELS.register_module()
class RGBTMatchDataPreprocessor(RGBTPreprocessorMixin, ImgDataPreprocessor):
    """mmengine image preprocessor for (B, 6, H, W) [RGB | T] matching batches.

    ``mean``/``std`` take 6 values (or ``rgb_*`` + ``thermal_*``); ``to_rgb=(bool, bool)`` per half. No padding:
    the matching pipeline resizes every pair to one size, and padding would move no pixel anyway (bottom/right).
    """
