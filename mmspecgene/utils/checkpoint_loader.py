# Copyright (c) mmspecgene contributors. All rights reserved.
"""Local checkpoint loading for torch >= 2.6 (``weights_only=True`` by default).

mmengine 0.10.x calls ``torch.load`` without ``weights_only``; checkpoints that mmengine itself saves
hold ``HistoryBuffer`` and numpy objects, so resume, ``load_from`` and ``init_cfg=Pretrained`` fail.
We register a loader scheme for local paths that loads trusted local files with
``weights_only=False``. It is registered when a task package is imported.
"""
import os.path as osp

import torch
from mmengine.runner.checkpoint import CheckpointLoader

_REGISTERED = False


def load_local_checkpoint(filename: str, map_location=None, logger=None) -> dict:
    """Load a local (trusted) checkpoint file."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file not found: {filename}')
    return torch.load(filename, map_location=map_location, weights_only=False)


def register_local_checkpoint_loader() -> None:
    """Make mmengine's default ('' prefix) scheme load local files with ``weights_only=False``."""
    global _REGISTERED
    if not _REGISTERED:
        # the '' prefix is mmengine's own local loader: replacing it needs force=True by design
        CheckpointLoader.register_scheme(prefixes='', force=True)(load_local_checkpoint)
        _REGISTERED = True
