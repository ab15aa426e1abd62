# Copyright (c) mmspecgene contributors. All rights reserved.
from mmdet.models.data_preprocessors import DetDataPreprocessor
from mmdet.registry import MODELS

from ..models.rgbt_normalize import RGBTPreprocessorMixin


@MODELS.register_module()
class RGBTDetDataPreprocessor(RGBTPreprocessorMixin, DetDataPreprocessor):
    """mmdet preprocessor for (6, H, W) [RGB | T] inputs.

    ``mean``/``std`` take 6 values (or ``rgb_*`` + ``thermal_*``), ``to_rgb=(bool, bool)`` reverses each
    half; padding (``pad_size_divisor``, ``pad_value`` after normalisation), masks and batch augments
    (e.g. ``BatchFixedSizePad``) are the host's. Output: (B, 6, H', W') float.
    """
