# Copyright (c) mmspecgene contributors. All rights reserved.
"""Read a field of a data sample that may be a dict (after ``to_dict()``) or an mmengine data element."""
from typing import Any, Mapping

_REQUIRED = object()


def get_field(sample: Any, name: str, default: Any = _REQUIRED, where: str = 'data sample', hint: str = '') -> Any:
    """``sample[name]`` for mappings, ``sample.name`` for data elements.

    Args:
        sample: a dict or a data element (``DetDataSample``, ``SegDataSample``, ``PixelData``, ...).
        name: field name.
        default: returned when the field is absent; without it an absent field raises.
        where: how the error message names ``sample``.
        hint: appended to the error message (what was expected).

    Raises:
        KeyError: the field is absent and no ``default`` is given.
    """
    if isinstance(sample, Mapping):
        if name in sample:
            return sample[name]
    elif hasattr(sample, name):
        return getattr(sample, name)
    if default is not _REQUIRED:
        return default
    raise KeyError(f'{where} has no {name!r}{hint}')
