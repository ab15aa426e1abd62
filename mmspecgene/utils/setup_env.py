# Copyright (c) mmspecgene contributors. All rights reserved.
"""Register a task's modules and set its host as the default scope (notebooks, tests, scripts)."""
import importlib

TASK_SCOPES = dict(pretrain='mmpretrain', det='mmdet', seg='mmseg', match='mmspecgene')


def register_all_modules(task: str, init_default_scope: bool = True) -> None:
    """Import ``mmspecgene.<task>`` (registers into its host) and optionally set the host scope.

    Args:
        task (str): ``'pretrain'``, ``'det'``, ``'seg'`` or ``'match'`` (the ``mmspecgene`` scope).
        init_default_scope (bool): Also make the host the default registry scope.
    """
    if task not in TASK_SCOPES:
        raise ValueError(f'task must be one of {tuple(TASK_SCOPES)}, got {task!r}')
    importlib.import_module(f'mmspecgene.{task}')
    if init_default_scope:
        from mmengine.registry import DefaultScope
        from mmengine.registry import init_default_scope as _init
        scope = TASK_SCOPES[task]
        current = DefaultScope.get_current_instance()
        if current is None or current.scope_name != scope:
            _init(scope)


def scope_of_config(cfg) -> str:
    """The host scope a config runs in (from ``default_scope``); errors name the config."""
    scope = cfg.get('default_scope')
    if scope not in TASK_SCOPES.values():
        raise ValueError(f'config {getattr(cfg, "filename", "?")} sets default_scope={scope!r}; expected one of '
                         f'{tuple(TASK_SCOPES.values())} (set it in configs/<task>/_base_/default_runtime.py)')
    return scope
