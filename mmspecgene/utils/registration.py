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


def get_in_scope(registry, name: str, scope: str):
    """The class registered as ``name`` in the host registry of ``scope`` (or its parents), e.g. a dataset of
    mmdet from mmengine's root ``DATASETS``; ``registry.get`` on a root registry ignores the default scope and would
    return None. A ``'scope.Name'`` prefix picks another registry, as in configs. Raises a KeyError naming the
    registry and scope when nothing is registered under ``name``."""
    with registry.switch_scope_and_registry(scope) as scoped:
        cls = scoped.get(name)
    if cls is None:
        raise KeyError(f'{name!r} is not registered in the {registry.name!r} registry of scope {scope!r} '
                       '(or its parents); is the package that registers it imported (custom_imports)?')
    return cls
