# Copyright (c) mmspecgene contributors. All rights reserved.
"""mmspecgene: M-SpecGene RGB-Thermal foundation model for OpenMMLab.

Importing this package imports no host (mmpretrain/mmdet/mmseg). Import ``mmspecgene.pretrain``,
``mmspecgene.det`` or ``mmspecgene.seg`` to register into a host's registries.
"""
from .version import __version__, version_info

__all__ = ['__version__', 'version_info']
