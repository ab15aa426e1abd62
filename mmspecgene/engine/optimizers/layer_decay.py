# Copyright (c) mmspecgene contributors. All rights reserved.
"""One layer-wise lr decay constructor for pretraining, detection and segmentation.

The layer id of every parameter comes from the backbone itself (``get_layer_depth``), never from
parsing block names or switching on class names, so the same constructor serves every naming
(``backbone.layers.i`` and ``backbone.blocks.i``) and every host.
"""
from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Tuple

import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.model import is_model_wrapper
from mmengine.optim import DefaultOptimWrapperConstructor

DECAY_EXCLUSIONS = ('vitdet', 'mmseg', 'by_role')
PARAMWISE_KEYS = ('layer_decay_rate', 'decay_exclusion', 'num_layers')

# Norm layers by type (SpecGeneLN2d subclasses nn.LayerNorm; _NormBase covers batch and instance norms).
NORM_TYPES: Tuple[type, ...] = (nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm, nn.modules.batchnorm._NormBase)
if hasattr(nn, 'RMSNorm'):
    NORM_TYPES += (nn.RMSNorm, )


def _is_norm(module: nn.Module) -> bool:
    return isinstance(module, NORM_TYPES)


def _no_decay_vitdet(name: str, leaf: str, param: nn.Parameter, owner: nn.Module, in_block: bool) -> bool:
    """Released ViTDet rule (docs/en/method.md#detection): norms inside backbone blocks and the position embedding."""
    return (in_block and _is_norm(owner)) or 'pos_embed' in leaf


def _no_decay_mmseg(name: str, leaf: str, param: nn.Parameter, owner: nn.Module, in_block: bool) -> bool:
    """Released mmseg rule (docs/en/method.md#segmentation-and-sod): 1-D parameters and biases; pos_embed/cls_token
    stay decayed."""
    return param.ndim == 1 or name.endswith('.bias')


def _no_decay_by_role(name: str, leaf: str, param: nn.Parameter, owner: nn.Module, in_block: bool) -> bool:
    """mmspecgene rule (docs/en/method.md#pretraining-model): norm weights and biases, every bias (incl.
    ``q_bias``/``v_bias``),
    learned tokens (``cls_token``, ``mask_token``) and absolute position embeddings."""
    return (_is_norm(owner) or leaf == 'bias' or leaf.endswith('_bias') or leaf.endswith('token')
            or leaf.endswith('pos_embed'))


_NO_DECAY_RULES: Dict[str, Callable[..., bool]] = dict(
    vitdet=_no_decay_vitdet, mmseg=_no_decay_mmseg, by_role=_no_decay_by_role)


class RGBTLayerDecayOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Layer-wise lr decay with a selectable weight-decay exclusion preset.

    Every trainable parameter gets lr = base_lr * rate^(num_ids - 1 - id), where
    ``(id, num_ids) = model.backbone.get_layer_depth(name, 'backbone.')`` (id 0 = patch/position
    embeddings, i + 1 = block i, num_ids - 1 = everything else incl. neck and heads), and
    weight decay 0 or the optimizer's ``weight_decay`` according to ``decay_exclusion``.
    Frozen parameters (``requires_grad=False``) are left out of the optimizer.

    ``paramwise_cfg`` keys:

    * ``layer_decay_rate`` (float): rate in (0, 1]; 1.0 switches layer decay off.
    * ``decay_exclusion`` (str): ``'vitdet'`` (only backbone-block norms and ``pos_embed`` are
      excluded), ``'mmseg'`` (1-D parameters and biases are excluded) or ``'by_role'``
      (default: norms, biases, tokens and absolute position embeddings).
    * ``num_layers`` (int, optional): only checked: must equal the backbone's block count. The configs leave it
      out: the depth (12 blocks for ViT-S/B, 24 for ViT-L) always comes from the backbone's arch.

    Example::

        optim_wrapper = dict(
            type='AmpOptimWrapper',
            optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.1),
            constructor='RGBTLayerDecayOptimWrapperConstructor',
            paramwise_cfg=dict(layer_decay_rate=0.7, decay_exclusion='vitdet'))
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None):
        given = dict(paramwise_cfg or {})
        unknown = sorted(set(given) - set(PARAMWISE_KEYS))
        if unknown:
            raise ValueError(f'RGBTLayerDecayOptimWrapperConstructor: unknown paramwise_cfg keys {unknown}, '
                             f'expected a subset of {PARAMWISE_KEYS}')
        cfg = dict(layer_decay_rate=1.0, decay_exclusion='by_role')
        cfg.update(given)
        rate = cfg['layer_decay_rate']
        if not isinstance(rate, (int, float)) or not 0 < rate <= 1:
            raise ValueError(f'paramwise_cfg.layer_decay_rate must be in (0, 1], got {rate!r}')
        num_layers = cfg.get('num_layers')
        if num_layers is not None and (not isinstance(num_layers, int) or num_layers < 1):
            raise ValueError(f'paramwise_cfg.num_layers must be a positive int, got {num_layers!r}')
        if cfg['decay_exclusion'] not in DECAY_EXCLUSIONS:
            raise ValueError(f'paramwise_cfg.decay_exclusion must be one of {DECAY_EXCLUSIONS}, '
                             f'got {cfg["decay_exclusion"]!r}')
        # a non-empty paramwise_cfg makes the base class call add_params
        super().__init__(optim_wrapper_cfg, cfg)

    def add_params(self, params: List[dict], module: nn.Module, prefix: str = '', **kwargs) -> None:
        """Append one param group per (layer id, decay / no decay) to ``params``.

        Each group carries ``lr``, ``weight_decay``, ``lr_scale``, ``layer_id`` and ``param_names``.
        """
        model = module.module if is_model_wrapper(module) else module
        if self.base_lr is None:
            raise ValueError('RGBTLayerDecayOptimWrapperConstructor needs optimizer.lr in the optim_wrapper config')
        rate = float(self.paramwise_cfg['layer_decay_rate'])
        exclusion = self.paramwise_cfg['decay_exclusion']
        no_decay_rule = _NO_DECAY_RULES[exclusion]
        num_layers = self.paramwise_cfg.get('num_layers')
        depth_fn = self._layer_depth_fn(model, rate, exclusion if num_layers is None else 'num_layers')

        owners = {}
        for _, sub in model.named_modules():
            for leaf, param in sub.named_parameters(recurse=False):
                owners.setdefault(id(param), (sub, leaf))

        groups: Dict[str, dict] = OrderedDict()
        num_frozen = 0
        for name, param in model.named_parameters():
            if not param.requires_grad:
                num_frozen += 1
                continue
            owner, leaf = owners[id(param)]
            layer_id, num_ids = depth_fn(name)
            if num_layers is not None and num_ids != num_layers + 2:
                raise ValueError(f'paramwise_cfg.num_layers={num_layers} but the backbone has {num_ids - 2} blocks '
                                 f'(get_layer_depth({name!r}) -> {(layer_id, num_ids)})')
            in_block = 0 < layer_id < num_ids - 1
            no_decay = no_decay_rule(name, leaf, param, owner, in_block)
            group_name = f'layer_{layer_id}_{"no_decay" if no_decay else "decay"}'
            if group_name not in groups:
                scale = rate**(num_ids - 1 - layer_id)
                group = dict(params=[], param_names=[], lr=self.base_lr * scale, lr_scale=scale, layer_id=layer_id)
                if no_decay:
                    group['weight_decay'] = 0.
                elif self.base_wd is not None:
                    group['weight_decay'] = self.base_wd
                groups[group_name] = group
            groups[group_name]['params'].append(param)
            groups[group_name]['param_names'].append(name)
        groups = OrderedDict(sorted(groups.items(), key=lambda item: (item[1]['layer_id'], item[0])))
        params.extend(groups.values())
        self._log_summary(groups, rate, exclusion, num_frozen)

    @staticmethod
    def _layer_depth_fn(model: nn.Module, rate: float, exclusion: str) -> Callable[[str], Tuple[int, int]]:
        backbone = getattr(model, 'backbone', None)
        if backbone is not None and callable(getattr(backbone, 'get_layer_depth', None)):
            return lambda name: backbone.get_layer_depth(name, 'backbone.')
        if rate != 1.0 or exclusion in ('vitdet', 'num_layers'):
            raise TypeError(f'layer_decay_rate={rate} / {exclusion!r} needs model.backbone with '
                            f'get_layer_depth(param_name, prefix); {type(model).__name__} has none')
        return lambda name: (0, 1)

    @staticmethod
    def _log_summary(groups: Dict[str, dict], rate: float, exclusion: str, num_frozen: int) -> None:
        logger = MMLogger.get_current_instance()
        lines = [
            f'RGBTLayerDecayOptimWrapperConstructor: layer_decay_rate={rate}, decay_exclusion={exclusion!r}, '
            f'{len(groups)} groups, {num_frozen} frozen parameters left out',
            f'{"group":<22}{"lr_scale":>12}{"lr":>12}{"wd":>10}{"tensors":>9}{"elements":>12}'
        ]
        for group_name, group in groups.items():
            numel = sum(p.numel() for p in group['params'])
            wd = group.get('weight_decay', '-')
            lines.append(f'{group_name:<22}{group["lr_scale"]:>12.4g}{group["lr"]:>12.4g}{wd!s:>10}'
                         f'{len(group["params"]):>9}{numel:>12}')
        logger.info('\n'.join(lines))
