# Copyright (c) mmspecgene contributors. All rights reserved.
"""Config edits for tests (plain dicts and mmengine ``ConfigDict`` alike)."""


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
