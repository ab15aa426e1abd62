# Copyright (c) mmspecgene contributors. All rights reserved.
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS

from ..models.rgbt_normalize import RGBTPreprocessorMixin


@MODELS.register_module()
class RGBTSegDataPreProcessor(RGBTPreprocessorMixin, SegDataPreProcessor):
    """mmseg preprocessor for (6, H, W) [RGB | T] inputs.

    The stock one accepts 6 mean values but skips the channel swap unless the input has 3 channels;
    here ``to_rgb=(bool, bool)`` is applied per half, explicitly. ``to_rgb=(False, False)`` with the
    ImageNet R,G,B statistics applied positionally is the released ``official-compat`` convention.
    Padding to ``size`` uses ``pad_val`` (after normalisation) and ``seg_pad_val``.
    """
