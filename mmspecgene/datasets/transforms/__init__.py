# Copyright (c) mmspecgene contributors. All rights reserved.
"""Host-agnostic RGBT transforms, registered in mmengine's root TRANSFORMS (found from every scope)."""
from .crop_loading import LoadRGBTRandomResizedCrop
from .geometric import RGBTPad, RGBTRandomResizedCrop
from .loading import LoadRGBTImagePair
from .modality import SelectModality
from .modality_dropout import (
                               CopyFillModalityDropout,
                               MeanFillModalityDropout,
                               NoiseFillModalityDropout,
                               add_missing_modality,
                               modality_dropout_cfg,
)
from .photometric import PairedPhotoMetricDistortion
from .wrappers import RGBOnly, ThermalOnly

__all__ = [
    'LoadRGBTImagePair', 'LoadRGBTRandomResizedCrop', 'RGBTPad', 'RGBTRandomResizedCrop',
    'PairedPhotoMetricDistortion', 'RGBOnly', 'ThermalOnly', 'SelectModality', 'MeanFillModalityDropout',
    'CopyFillModalityDropout', 'NoiseFillModalityDropout', 'add_missing_modality', 'modality_dropout_cfg'
]
