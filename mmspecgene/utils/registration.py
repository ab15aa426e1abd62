# Copyright (c) mmspecgene contributors. All rights reserved.
"""Register host-free mmspecgene classes into a host registry (never ``force=True``)."""


def register_into(registry, *classes) -> None:
    """Register each class under its own name unless this very registry already holds it.

    A different class under the same name raises (name collision), as ``register_module`` does.
    """
    for cls in classes:
        existing = registry.module_dict.get(cls.__name__)
        if existing is cls:
            continue
        registry.register_module(module=cls)
