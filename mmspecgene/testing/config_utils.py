# Copyright (c) mmspecgene contributors. All rights reserved.
"""Config edits and queries for tests (plain dicts and mmengine ``ConfigDict`` alike)."""


def replace_type(cfg, old: str, new: str) -> None:
    """Replace every ``type=old`` in a nested config by ``new``, in place (e.g. ``SyncBN`` -> ``BN`` on the CPU)."""
    if isinstance(cfg, dict):
        if cfg.get('type') == old:
            cfg['type'] = new
        for value in cfg.values():
            replace_type(value, old, new)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            replace_type(value, old, new)


def config_arch_settings(path: str) -> dict:
    """The ViT arch settings (:func:`mmspecgene.models.vit.get_arch_settings`) of a config's backbone."""
    from mmengine.config import Config

    from mmspecgene.models.vit import get_arch_settings
    backbone = Config.fromfile(path).model.backbone
    return get_arch_settings(backbone.get('arch', 'base'))


def is_large_config(path: str, max_layers: int = 12) -> bool:
    """Whether a config's backbone is deeper than ``max_layers`` blocks (ViT-L and up): tests run its train and
    test steps only with ``--runslow``."""
    return config_arch_settings(path)['num_layers'] > max_layers
