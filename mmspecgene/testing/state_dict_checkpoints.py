# Copyright (c) mmspecgene contributors. All rights reserved.
"""State_dict-only checkpoints of a config's model, as most shared checkpoints look (no ``meta``, no optimiser)."""
import copy
import os
import os.path as osp
from typing import Optional

import torch


def save_state_dict_only(config, path: str, wrapped: bool = False, seed: int = 0,
                         cfg_options: Optional[dict] = None) -> str:
    """Build the model of a det/seg/SOD/pretraining ``config`` (path or ``Config``) with seeded random weights and
    save only its weights to ``path``.

    Args:
        wrapped (bool): ``{'state_dict': ...}`` (no ``meta``) instead of the bare ``OrderedDict``.

    Returns:
        str: ``path``.
    """
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope

    from mmspecgene.utils import scope_of_config
    cfg = Config.fromfile(config) if isinstance(config, str) else copy.deepcopy(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(scope_of_config(cfg))
    model_cfg = copy.deepcopy(cfg.model)
    if 'backbone' in model_cfg:
        model_cfg.backbone.pop('init_cfg', None)
    torch.manual_seed(seed)
    model = MODELS.build(model_cfg)
    model.init_weights()
    state_dict = model.state_dict()
    if osp.dirname(path):
        os.makedirs(osp.dirname(path), exist_ok=True)
    torch.save(dict(state_dict=state_dict) if wrapped else state_dict, path)
    return path
