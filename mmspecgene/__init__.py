# Copyright (c) mmspecgene contributors. All rights reserved.
"""mmspecgene: M-SpecGene RGB-Thermal foundation model for OpenMMLab.

Importing this package imports no host (mmpretrain/mmdet/mmseg) and not even mmengine/mmcv: it only
checks their installed versions. ``import mmspecgene.pretrain``, ``mmspecgene.det`` or
``mmspecgene.seg`` registers into that host's registries.
"""
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _installed_version

from .version import __version__, version_info

MMENGINE_RANGE = ((0, 10, 0), (0, 11, 0))
MMCV_RANGE = ((2, 0, 0), (2, 2, 0))


def _version_tuple(text: str) -> tuple:
    parts = []
    for piece in text.split('.')[:3]:
        digits = ''.join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def _check_version(dist: str, bounds: tuple) -> None:
    try:
        found = _installed_version(dist)
    except PackageNotFoundError:
        return  # reported by the import that needs it
    low, high = bounds
    if not low <= _version_tuple(found) < high:
        raise ImportError(f'mmspecgene needs {dist} >= {".".join(map(str, low))}, < {".".join(map(str, high))}, '
                          f'found {found}; see requirements/mminstall.txt')


_check_version('mmengine', MMENGINE_RANGE)
_check_version('mmcv', MMCV_RANGE)

__all__ = ['__version__', 'version_info']
