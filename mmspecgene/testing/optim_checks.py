# Copyright (c) mmspecgene contributors. All rights reserved.
"""Checks of the layer-decay parameter groups a config builds for its model."""
import copy
from collections import Counter
from typing import List

import torch.nn as nn


def layer_decay_groups(model: nn.Module, optim_wrapper_cfg: dict) -> List[dict]:
    """The param groups ``RGBTLayerDecayOptimWrapperConstructor`` builds for ``model`` from a config's
    ``optim_wrapper`` (no optimizer is built, so no optimizer state is allocated)."""
    from mmspecgene.engine.optimizers import RGBTLayerDecayOptimWrapperConstructor
    cfg = copy.deepcopy(dict(optim_wrapper_cfg))
    if cfg.pop('constructor', None) != 'RGBTLayerDecayOptimWrapperConstructor':
        raise ValueError(f'optim_wrapper uses another constructor: {optim_wrapper_cfg}')
    paramwise_cfg = cfg.pop('paramwise_cfg', None)
    constructor = RGBTLayerDecayOptimWrapperConstructor(cfg, paramwise_cfg)
    groups: List[dict] = []
    constructor.add_params(groups, model)
    return groups


def check_layer_decay_groups(model: nn.Module, optim_wrapper_cfg: dict) -> List[dict]:
    """Assert that the groups cover every trainable parameter exactly once, that the layer ids run over the
    backbone's own depth (0 = embeddings, 1..L = blocks, L + 1 = the rest) and that each group's lr scale is
    ``rate ** (L + 1 - id)``; returns the groups."""
    groups = layer_decay_groups(model, optim_wrapper_cfg)
    names = Counter(name for group in groups for name in group['param_names'])
    repeated = sorted(name for name, n in names.items() if n > 1)
    assert not repeated, f'parameters in more than one layer-decay group: {repeated[:5]}'
    trainable = {name for name, param in model.named_parameters() if param.requires_grad}
    assert set(names) == trainable, (f'missing from the groups: {sorted(trainable - set(names))[:5]}, '
                                     f'not trainable: {sorted(set(names) - trainable)[:5]}')
    ids = [group['layer_id'] for group in groups]
    rate = (optim_wrapper_cfg.get('paramwise_cfg') or {}).get('layer_decay_rate', 1.0)
    backbone = getattr(model, 'backbone', None)
    if backbone is not None and hasattr(backbone, 'get_layer_depth'):
        num_layers = backbone.num_layers
        assert sorted(set(ids)) == list(range(num_layers + 2)), (
            f'layer ids {sorted(set(ids))} do not run over 0..{num_layers + 1} for {num_layers} blocks')
        for group in groups:
            expected = rate**(num_layers + 1 - group['layer_id'])
            assert abs(group['lr_scale'] - expected) <= 1e-9 * max(expected, 1e-30), (group['layer_id'], expected)
    return groups
