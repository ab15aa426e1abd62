# Copyright (c) mmspecgene contributors. All rights reserved.
"""Host-agnostic RGBT transforms, registered in mmengine's root TRANSFORMS (found from every scope)."""
from .geometric import RGBTPad, RGBTRandomResizedCrop
from .loading import LoadRGBTImagePair
from .modality import SelectModality
from .photometric import PairedPhotoMetricDistortion
from .wrappers import RGBOnly, ThermalOnly

__all__ = [
    'LoadRGBTImagePair', 'RGBTPad', 'RGBTRandomResizedCrop', 'PairedPhotoMetricDistortion', 'RGBOnly',
    'ThermalOnly', 'SelectModality'
]
