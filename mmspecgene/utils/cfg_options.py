# Copyright (c) mmspecgene contributors. All rights reserved.
"""Catch typos in ``--cfg-options`` keys: mmengine merges an unknown key path silently as a new key."""
import argparse
import difflib
import logging
from typing import Iterator, List, Mapping, Optional, Tuple

from mmengine.config import Config, DictAction
from mmengine.logging import print_log


def _children(node) -> Iterator[Tuple[str, object]]:
    if isinstance(node, Config):
        node = node._cfg_dict
    if isinstance(node, Mapping):
        yield from ((str(k), v) for k, v in node.items())
    elif isinstance(node, (list, tuple)):
        yield from ((str(i), v) for i, v in enumerate(node))


def _key_paths(node, prefix: str = '') -> Iterator[str]:
    """Every dotted key path of a config, intermediate ones included (list items by index)."""
    for key, value in _children(node):
        path = f'{prefix}{key}'
        yield path
        yield from _key_paths(value, path + '.')


def _exists(cfg, key: str) -> bool:
    node = cfg
    for part in key.split('.'):
        children = dict(_children(node))
        if part not in children:
            return False
        node = children[part]
    return True


def unknown_cfg_option_keys(cfg, options: Optional[Mapping]) -> List[Tuple[str, Optional[str]]]:
    """The keys of ``options`` (``--cfg-options`` as parsed by ``DictAction``) whose path does not exist in ``cfg``,
    each with the closest existing key path (``difflib``) or None."""
    missing = [key for key in (options or {}) if not _exists(cfg, key)]
    if not missing:
        return []
    paths = list(_key_paths(cfg))
    return [(key, next(iter(difflib.get_close_matches(key, paths, n=1, cutoff=0.8)), None)) for key in missing]


def check_cfg_options(cfg, options: Optional[Mapping], strict: bool = False) -> List[str]:
    """Warn (mmengine logger, WARNING) about every ``--cfg-options`` key path that is not in ``cfg`` before merging,
    naming the closest existing key; with ``strict`` raise a KeyError listing them instead. mmengine still merges
    new keys as usual (sometimes they are intended, e.g. an ``init_cfg`` the config lacks).

    Returns:
        list[str]: One message per unknown key.
    """
    messages = []
    for key, closest in unknown_cfg_option_keys(cfg, options):
        hint = f'; did you mean {closest!r}?' if closest else ''
        messages.append(f'--cfg-options key {key!r} is not in the config {getattr(cfg, "filename", "")}{hint}')
    if messages and strict:
        raise KeyError('\n'.join(messages) + '\n(--strict-cfg-options: unknown keys are errors)')
    for message in messages:
        print_log(message + '. It is merged as a new key: fine for a new argument, otherwise a typo '
                  '(--strict-cfg-options makes it an error).', logger='current', level=logging.WARNING)
    return messages


def add_cfg_options_arguments(parser: argparse.ArgumentParser,
                              help: str = 'override config settings (key=value, lists as [a,b])') -> None:
    """Add ``--cfg-options`` (mmengine ``DictAction``) and ``--strict-cfg-options`` to a tool's parser."""
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help=help)
    parser.add_argument('--strict-cfg-options', action='store_true',
                        help='make a --cfg-options key that is not in the config an error (default: a warning)')


def merge_cfg_options(cfg: Config, args: argparse.Namespace) -> Config:
    """Check (:func:`check_cfg_options`) and merge a tool's ``--cfg-options`` into ``cfg``; returns ``cfg``."""
    options = getattr(args, 'cfg_options', None)
    if options:
        check_cfg_options(cfg, options, strict=getattr(args, 'strict_cfg_options', False))
        cfg.merge_from_dict(options)
    return cfg
