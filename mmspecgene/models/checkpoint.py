# Copyright (c) mmspecgene contributors. All rights reserved.
"""Checkpoint formats of M-SpecGene (docs/en/method.md#checkpoint-layouts): detection, conversion and reported loading.

Formats (:data:`FORMATS`):

=======================  ========================================================================
``released-pretrain``    mmengine checkpoint, ``state_dict`` = ``backbone.*`` (mmpretrain ViT names)
                         + released ``neck.*`` (``decoder_*``/``…2``, shared ``neck.ln1``)
``mmspecgene-pretrain``  same backbone, neck named by modality ``neck.{rgb,thermal}.*``
``det-init``             ``{'model': {...}}`` with timm / official-MAE encoder names
``seg-init``             flat encoder dict, mmpretrain names, final norm ``norm.*``
``det-finetuned``        ``state_dict`` with ``roi_head.*`` (no renaming needed)
``seg-finetuned``        ``state_dict`` with ``decode_head.*`` (no renaming needed)
=======================  ========================================================================

The *encoder state* (:func:`to_encoder_state`) is the common pivot: mmpretrain-named encoder keys
``cls_token``, ``pos_embed``, ``patch_embed.projection.*``, ``layers.{i}.*`` and the final norm
``ln1.*``, without prefix. Nothing is dropped silently: every conversion logs what it leaves out.
"""
import hashlib
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import MMLogger, print_log

from ..utils.checkpoint_loader import load_checkpoint_file
from .layers.pos_embed import resize_pos_embed_grid

FORMATS = ('released-pretrain', 'mmspecgene-pretrain', 'det-init', 'seg-init', 'det-finetuned', 'seg-finetuned')
PRETRAIN_FORMATS = ('released-pretrain', 'mmspecgene-pretrain', 'det-init', 'seg-init')
FINETUNED_FORMATS = ('det-finetuned', 'seg-finetuned')

# allowed lists of the backbone init loaders (docs/en/method.md#checkpoint-layouts), applied with ``re.match`` to
# backbone-local keys
DET_INIT_ALLOWED_MISSING = (r'blocks\.\d+\.attn\.rel_pos_[hw]$', )
DET_INIT_ALLOWED_UNEXPECTED = (r'cls_token$', r'norm\.(weight|bias)$', r'neck\.')
SEG_INIT_ALLOWED_MISSING = (r'layers\.\d+\.gamma_[12]$', r'layers\.\d+\.attn\.relative_position_bias_table$',
                            r'layers\.\d+\.attn\.relative_position_index$')
SEG_INIT_ALLOWED_UNEXPECTED = (r'norm\.(weight|bias)$', r'neck\.')
# The masker's buffers are curriculum state, not encoder weights: an encoder init keeps them at their start values.
MAE_INIT_ALLOWED_MISSING = (r'masker\.', )

_ENCODER_KEY = re.compile(r'(cls_token|pos_embed|patch_embed\.projection\.(weight|bias)|layers\.\d+\..+'
                          r'|ln1\.(weight|bias))$')

# mmpretrain encoder name -> timm / official-MAE name (first matching rule wins)
_TO_TIMM = (
    (r'patch_embed\.projection\.', 'patch_embed.proj.'),
    (r'layers\.(\d+)\.ln1\.', r'blocks.\1.norm1.'),
    (r'layers\.(\d+)\.ln2\.', r'blocks.\1.norm2.'),
    (r'layers\.(\d+)\.ffn\.layers\.0\.0\.', r'blocks.\1.mlp.fc1.'),
    (r'layers\.(\d+)\.ffn\.layers\.1\.', r'blocks.\1.mlp.fc2.'),
    (r'layers\.(\d+)\.', r'blocks.\1.'),
    (r'ln1\.', 'norm.'),
)
_FROM_TIMM = (
    (r'patch_embed\.proj\.', 'patch_embed.projection.'),
    (r'blocks\.(\d+)\.norm1\.', r'layers.\1.ln1.'),
    (r'blocks\.(\d+)\.norm2\.', r'layers.\1.ln2.'),
    (r'blocks\.(\d+)\.mlp\.fc1\.', r'layers.\1.ffn.layers.0.0.'),
    (r'blocks\.(\d+)\.mlp\.fc2\.', r'layers.\1.ffn.layers.1.'),
    (r'blocks\.(\d+)\.', r'layers.\1.'),
    (r'norm\.', 'ln1.'),
)

# released neck part -> mmspecgene part; the unsuffixed branch is thermal, suffix ``2`` is RGB
# (docs/en/method.md#checkpoint-layouts)
_NECK_PARTS = OrderedDict([('decoder_embed', 'embed'), ('mask_token', 'mask_token'),
                           ('decoder_pos_embed', 'pos_embed'), ('cross_attention', 'cross_attn'),
                           ('decoder_blocks', 'blocks'), ('decoder_pred', 'pred')])
_RELEASED_NECK_KEY = re.compile(r'neck\.(' + '|'.join(_NECK_PARTS) + r')(2?)((?:\..+)?)$')
_MMSPECGENE_NECK_KEY = re.compile(r'neck\.(rgb|thermal)\.(' + '|'.join(_NECK_PARTS.values()) + r')((?:\..+)?)$')
_RELEASED_SUFFIX = {'': 'thermal', '2': 'rgb'}


class CheckpointMismatchError(RuntimeError):
    """A checkpoint does not fit a model or layout (disallowed/missing keys, shape mismatches)."""


def _logger(logger: Optional[MMLogger]) -> MMLogger:
    return logger if logger is not None else MMLogger.get_current_instance()


def summarize_keys(keys: Iterable[str], max_groups: int = 12) -> str:
    """Group keys by their first two name components: ``'neck.decoder_blocks (64), ...'``."""
    groups: Dict[str, int] = OrderedDict()
    for key in keys:
        group = '.'.join('{i}' if part.isdigit() else part for part in key.split('.')[:2])
        groups[group] = groups.get(group, 0) + 1
    items = [f'{g} ({n})' for g, n in groups.items()]
    if len(items) > max_groups:
        items = items[:max_groups] + [f'... {len(items) - max_groups} more groups']
    return ', '.join(items)


def _as_checkpoint(ckpt: Union[str, Mapping]) -> Mapping:
    if isinstance(ckpt, (str, os.PathLike)):
        return load_checkpoint_file(ckpt)
    if not isinstance(ckpt, Mapping):
        raise TypeError(f'expected a checkpoint dict or a file path, got {type(ckpt).__name__}')
    return ckpt


def strip_wrapper_prefix(state: Mapping) -> Mapping:
    """Drop the ``module.`` prefix that (Distributed)DataParallel puts on every key of a saved model.

    The prefix is removed only when every key carries it; any other dict is returned unchanged.
    """
    keys = list(state)
    if keys and all(isinstance(k, str) and k.startswith('module.') for k in keys):
        return OrderedDict((k[len('module.'):], v) for k, v in state.items())
    return state


def _is_timm_encoder(state: Mapping) -> bool:
    return 'blocks.0.norm1.weight' in state


def _model_dict(ckpt: Mapping) -> Optional[Mapping]:
    """``ckpt['model']`` without a wrapper prefix, when it is a dict."""
    model = ckpt.get('model')
    return strip_wrapper_prefix(model) if isinstance(model, Mapping) else None


def _wrapped_state(ckpt: Mapping) -> Mapping:
    """The tensor dict of a checkpoint, without a (Distributed)DataParallel ``module.`` prefix.

    ``ckpt['state_dict']`` of an mmengine checkpoint; else ``ckpt['model']`` when it holds model keys
    (a ``{'model': state_dict}`` save) rather than timm encoder names (det-init, kept whole); else ``ckpt``
    itself (a bare state dict).
    """
    state = ckpt.get('state_dict')
    if isinstance(state, Mapping):
        return strip_wrapper_prefix(state)
    model = _model_dict(ckpt)
    if model is not None and not _is_timm_encoder(model):
        return model
    return strip_wrapper_prefix(ckpt)


def detect_format(ckpt: Mapping) -> str:
    """Detect the layout of a loaded checkpoint (docs/en/method.md#checkpoint-layouts markers).

    Beyond docs/en/method.md#checkpoint-layouts: a ``state_dict`` with ``backbone.patch_embed.projection.weight`` and
    no ``neck.*``
    (an encoder-only pretraining checkpoint) is reported as ``mmspecgene-pretrain``.

    Returns:
        str: One of :data:`FORMATS`.
    """
    if not isinstance(ckpt, Mapping):
        raise TypeError(f'expected a checkpoint dict, got {type(ckpt).__name__}')
    state = _wrapped_state(ckpt)
    if 'neck.decoder_embed2.weight' in state:
        return 'released-pretrain'
    if 'neck.rgb.embed.weight' in state:
        return 'mmspecgene-pretrain'
    if any(isinstance(k, str) and k.startswith('roi_head.') for k in state):
        return 'det-finetuned'
    if any(isinstance(k, str) and k.startswith('decode_head.') for k in state):
        return 'seg-finetuned'
    if 'backbone.patch_embed.projection.weight' in state and not any(
            isinstance(k, str) and k.startswith('neck.') for k in state):
        return 'mmspecgene-pretrain'  # encoder only (e.g. converted from det-init / seg-init)
    model = _model_dict(ckpt)
    if model is not None and _is_timm_encoder(model):
        return 'det-init'
    if 'layers.0.ln1.weight' in state and 'norm.weight' in state:
        return 'seg-init'
    top = sorted(str(k) for k in ckpt)[:12]
    found = f'Found top-level keys {top}'
    if state is not ckpt:
        found += f' and inner keys {sorted(str(k) for k in state)[:12]}'
    raise ValueError(
        'cannot detect the checkpoint format: expected state_dict with neck.decoder_embed2.weight '
        '(released-pretrain), neck.rgb.embed.weight (mmspecgene-pretrain), roi_head.* (det-finetuned) or '
        'decode_head.* (seg-finetuned); a "model" dict with blocks.0.norm1.weight (det-init); or flat '
        f'layers.0.ln1.weight + norm.weight (seg-init); keys may carry a common "module." prefix. {found}')


def _resolve_format(ckpt: Mapping, src_format: str) -> str:
    if src_format in (None, 'auto'):
        return detect_format(ckpt)
    if src_format not in FORMATS:
        raise ValueError(f'unknown src_format {src_format!r}, expected "auto" or one of {FORMATS}')
    return src_format


def get_state_dict(ckpt: Mapping, src_format: str = 'auto') -> Mapping:
    """The tensor dict of a checkpoint in its own format (``state_dict``, ``model`` or the flat dict)."""
    fmt = _resolve_format(ckpt, src_format)
    if fmt == 'det-init':
        model = _model_dict(ckpt)
        if model is None:
            raise CheckpointMismatchError('det-init checkpoint has no "model" dict')
        return model
    return _wrapped_state(ckpt)


def _rename(key: str, rules: Sequence[Tuple[str, str]]) -> Optional[str]:
    for pattern, repl in rules:
        if re.match(pattern, key):
            return re.sub('^' + pattern, repl, key, count=1)
    return None


def to_encoder_state(ckpt: Union[str, Mapping],
                     src_format: str = 'auto',
                     logger: Optional[MMLogger] = None) -> 'OrderedDict[str, torch.Tensor]':
    """Extract the mmpretrain-named encoder state from any pretraining format.

    Pretraining formats keep the ``backbone.<encoder key>`` tensors and drop (and log) the rest.
    det-init / seg-init are renamed; their non-encoder keys pass through unchanged, so the
    backbone loaders' allowed lists decide about them.

    Returns:
        OrderedDict: ``cls_token``, ``pos_embed``, ``patch_embed.projection.*``, ``layers.{i}.*``, ``ln1.*``.
    """
    ckpt = _as_checkpoint(ckpt)
    fmt = _resolve_format(ckpt, src_format)
    if fmt in FINETUNED_FORMATS:
        raise ValueError(f'{fmt} checkpoints are loaded whole (strict load_from), not as backbone init')
    state = get_state_dict(ckpt, fmt)
    encoder: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    dropped = []
    if fmt in ('released-pretrain', 'mmspecgene-pretrain'):
        for key, value in state.items():
            local = key[len('backbone.'):] if key.startswith('backbone.') else None
            if local is not None and _ENCODER_KEY.match(local):
                encoder[local] = value
            else:
                dropped.append(key)
    elif fmt == 'det-init':
        for key, value in state.items():
            new_key = _rename(key, _FROM_TIMM)
            encoder[new_key if new_key is not None else key] = value
    else:  # seg-init
        for key, value in state.items():
            encoder['ln1.' + key[len('norm.'):] if key.startswith('norm.') else key] = value
    msg = f'to_encoder_state: {len(encoder)} encoder tensors from a {fmt} checkpoint'
    if dropped:
        msg += f'; left out {len(dropped)} non-encoder tensors: {summarize_keys(dropped)}'
    print_log(msg, logger=_logger(logger))
    return encoder


def encoder_state_for_det(state: Mapping) -> 'OrderedDict[str, torch.Tensor]':
    """Encoder state (mmpretrain names) -> timm / ViTDet names (the det-init ``model`` dict, 1×197 pos kept)."""
    out = OrderedDict()
    for key, value in state.items():
        new_key = _rename(key, _TO_TIMM) if _ENCODER_KEY.match(key) else None
        out[new_key if new_key is not None else key] = value
    return out


def _grid_of(num_tokens: int, key: str = 'pos_embed') -> Tuple[int, int]:
    side = int(round(num_tokens**0.5))
    if side * side != num_tokens:
        raise CheckpointMismatchError(f'{key}: {num_tokens} grid tokens do not form a square grid')
    return side, side


def encoder_state_for_seg(state: Mapping,
                          grid_hw: Optional[Tuple[int, int]] = None) -> 'OrderedDict[str, torch.Tensor]':
    """Encoder state -> seg names (final ``ln1`` -> ``norm``, reported as unexpected by the seg loader).

    Args:
        state (dict): Encoder state from :func:`to_encoder_state`.
        grid_hw (tuple, optional): Target token grid; ``pos_embed`` (1, 1+h*w, C) is resized once,
            bicubic with ``align_corners=False``, keeping the cls row. ``None`` keeps it.
    """
    out = OrderedDict()
    for key, value in state.items():
        out['norm.' + key[len('ln1.'):] if key.startswith('ln1.') else key] = value
    if grid_hw is not None and 'pos_embed' in out:
        pos = out['pos_embed']
        if pos.dim() != 3 or pos.shape[0] != 1:
            raise CheckpointMismatchError(f'pos_embed: expected shape (1, 1+h*w, C), got {tuple(pos.shape)}')
        src_hw = _grid_of(pos.shape[1] - 1)
        out['pos_embed'] = resize_pos_embed_grid(pos, src_hw, tuple(grid_hw), num_extra_tokens=1)
    return out


# ----------------------------------------------------------------------------------------- pretraining neck
def released_to_mmspecgene(state: Mapping,
                           shared_decoder_norm: bool = True) -> 'OrderedDict[str, torch.Tensor]':
    """Rename a released pretraining state dict to the mmspecgene layout (docs/en/method.md#checkpoint-layouts).

    ``neck.ln1`` becomes ``neck.norm`` (shared) or is duplicated into ``neck.{thermal,rgb}.norm``.
    Unknown ``neck.*`` keys raise :class:`CheckpointMismatchError`; non-neck keys pass unchanged.
    """
    out = OrderedDict()
    unknown = []
    for key, value in state.items():
        if not key.startswith('neck.'):
            out[key] = value
            continue
        if key.startswith('neck.ln1.'):
            leaf = key[len('neck.ln1.'):]
            if shared_decoder_norm:
                out[f'neck.norm.{leaf}'] = value
            else:
                out[f'neck.thermal.norm.{leaf}'] = value
                out[f'neck.rgb.norm.{leaf}'] = value.clone()
            continue
        match = _RELEASED_NECK_KEY.match(key)
        if match is None:
            unknown.append(key)
            continue
        part, suffix, rest = match.groups()
        out[f'neck.{_RELEASED_SUFFIX[suffix]}.{_NECK_PARTS[part]}{rest}'] = value
    if unknown:
        raise CheckpointMismatchError(f'released pretraining checkpoint has unknown neck keys: {unknown}')
    return out


def mmspecgene_to_released(state: Mapping,
                           norm_from: Optional[str] = None,
                           logger: Optional[MMLogger] = None) -> 'OrderedDict[str, torch.Tensor]':
    """Rename an mmspecgene pretraining state dict to the released layout (docs/en/method.md#checkpoint-layouts).

    Keeps ``backbone.<encoder key>`` and the mapped neck; everything else (e.g. curriculum buffers)
    has no place in the released layout and is left out with a warning naming it.

    Args:
        norm_from (str, optional): ``'rgb'`` or ``'thermal'``: the separate decoder norm written as
            ``neck.ln1`` when the two differ (a warning is issued). Without it, differing norms raise.
    """
    if norm_from not in (None, 'rgb', 'thermal'):
        raise ValueError(f"norm_from must be None, 'rgb' or 'thermal', got {norm_from!r}")
    inverse_parts = {v: k for k, v in _NECK_PARTS.items()}
    inverse_suffix = {v: k for k, v in _RELEASED_SUFFIX.items()}
    out = OrderedDict()
    norms = {'shared': {}, 'rgb': {}, 'thermal': {}}
    dropped, unknown = [], []
    for key, value in state.items():
        if key.startswith('backbone.'):
            if _ENCODER_KEY.match(key[len('backbone.'):]):
                out[key] = value
            else:
                dropped.append(key)
            continue
        if not key.startswith('neck.'):
            dropped.append(key)
            continue
        norm_match = re.match(r'neck\.(?:(rgb|thermal)\.)?norm\.(weight|bias)$', key)
        if norm_match:
            norms[norm_match.group(1) or 'shared'][norm_match.group(2)] = value
            continue
        match = _MMSPECGENE_NECK_KEY.match(key)
        if match is None:
            unknown.append(key)
            continue
        modality, part, rest = match.groups()
        out[f'neck.{inverse_parts[part]}{inverse_suffix[modality]}{rest}'] = value
    if unknown:
        raise CheckpointMismatchError(f'mmspecgene pretraining checkpoint has unknown neck keys: {unknown}')
    out.update(_released_decoder_norm(norms, norm_from, logger))
    if dropped:
        print_log(
            f'mmspecgene-pretrain -> released-pretrain: left out {len(dropped)} tensors without a released '
            f'counterpart: {dropped}',
            logger=_logger(logger),
            level=30)
    return out


def _released_decoder_norm(norms: Dict[str, Dict[str, torch.Tensor]], norm_from: Optional[str],
                           logger: Optional[MMLogger]) -> Dict[str, torch.Tensor]:
    """Pick the tensors written as ``neck.ln1.*`` from shared or separate decoder norms."""
    shared, rgb, thermal = norms['shared'], norms['rgb'], norms['thermal']
    if shared and (rgb or thermal):
        raise CheckpointMismatchError('checkpoint has both a shared neck.norm and separate neck.{rgb,thermal}.norm')
    if shared:
        chosen = shared
    elif rgb or thermal:
        if set(rgb) != set(thermal):
            raise CheckpointMismatchError(
                f'separate decoder norms are incomplete: rgb has {sorted(rgb)}, thermal has {sorted(thermal)}')
        equal = all(rgb[k].shape == thermal[k].shape and torch.equal(rgb[k], thermal[k]) for k in rgb)
        if equal:
            chosen = thermal
        elif norm_from is None:
            raise CheckpointMismatchError(
                'neck.rgb.norm and neck.thermal.norm differ; the released layout has one shared neck.ln1. '
                "Choose one with norm_from='rgb'|'thermal' (--norm-from)")
        else:
            print_log(
                f'neck.rgb.norm and neck.thermal.norm differ; writing neck.{norm_from}.norm as neck.ln1',
                logger=_logger(logger),
                level=30)
            chosen = rgb if norm_from == 'rgb' else thermal
    else:
        raise CheckpointMismatchError('no decoder norm (neck.norm.* or neck.{rgb,thermal}.norm.*) in the checkpoint')
    return OrderedDict((f'neck.ln1.{k}', v) for k, v in sorted(chosen.items(), key=lambda kv: kv[0] != 'weight'))


# ------------------------------------------------------------------------------------------ conversions
def convert_checkpoint(ckpt: Union[str, Mapping],
                       dst_format: str,
                       src_format: str = 'auto',
                       norm_from: Optional[str] = None,
                       shared_decoder_norm: bool = True,
                       logger: Optional[MMLogger] = None) -> dict:
    """Convert a checkpoint between the formats of docs/en/method.md#checkpoint-layouts; returns the object to save.

    Pairs: released-pretrain <-> mmspecgene-pretrain; any pretraining format -> det-init / seg-init;
    det-init / seg-init -> mmspecgene-pretrain (encoder only, under ``backbone.``); a format to itself
    (identity, e.g. before publishing).
    """
    ckpt = _as_checkpoint(ckpt)
    fmt = _resolve_format(ckpt, src_format)
    if dst_format not in FORMATS:
        raise ValueError(f'unknown dst_format {dst_format!r}, expected one of {FORMATS}')
    meta = dict(ckpt.get('meta') or {}) if isinstance(ckpt.get('meta'), Mapping) else {}
    meta['specgene_convert'] = dict(src_format=fmt, dst_format=dst_format)
    if fmt == dst_format:
        return dict(ckpt)
    if fmt == 'released-pretrain' and dst_format == 'mmspecgene-pretrain':
        state = released_to_mmspecgene(_wrapped_state(ckpt), shared_decoder_norm)
        return dict(meta=meta, state_dict=state)
    if fmt == 'mmspecgene-pretrain' and dst_format == 'released-pretrain':
        state = mmspecgene_to_released(_wrapped_state(ckpt), norm_from, logger)
        return dict(meta=meta, state_dict=state)
    if fmt in PRETRAIN_FORMATS and dst_format == 'det-init':
        return dict(model=encoder_state_for_det(to_encoder_state(ckpt, fmt, logger)))
    if fmt in PRETRAIN_FORMATS and dst_format == 'seg-init':
        return encoder_state_for_seg(to_encoder_state(ckpt, fmt, logger), grid_hw=None)
    if fmt in ('det-init', 'seg-init') and dst_format == 'mmspecgene-pretrain':
        encoder = to_encoder_state(ckpt, fmt, logger)
        state = OrderedDict(('backbone.' + k, v) for k, v in encoder.items())
        print_log(
            f'{fmt} -> mmspecgene-pretrain: the result holds the encoder only (no decoder neck)',
            logger=_logger(logger),
            level=30)
        return dict(meta=meta, state_dict=state)
    raise ValueError(f'unsupported conversion {fmt} -> {dst_format}; supported: released-pretrain <-> '
                     'mmspecgene-pretrain, any pretraining format -> det-init/seg-init, det-init/seg-init -> '
                     'mmspecgene-pretrain, and a format to itself')


# ------------------------------------------------------------------------------------------ loading
def _matches_any(key: str, patterns: Sequence[str]) -> bool:
    return any(re.match(p, key) for p in patterns)


def load_state_dict_with_report(module: nn.Module,
                                state: Mapping,
                                allowed_missing: Sequence[str] = (),
                                allowed_unexpected: Sequence[str] = (),
                                logger: Optional[MMLogger] = None) -> Dict[str, List[str]]:
    """Load ``state`` into ``module`` and report matched / missing / unexpected keys.

    Args:
        module (nn.Module): Target; keys are compared with ``module.state_dict()`` (persistent buffers included).
        state (dict): Tensors named like ``module.state_dict()``.
        allowed_missing / allowed_unexpected (Sequence[str]): Regexes applied with ``re.match``;
            missing keys they cover keep the module's values.

    Returns:
        dict: ``matched``, ``missing``, ``unexpected`` key lists.

    Raises:
        CheckpointMismatchError: naming every disallowed missing/unexpected key and every shape mismatch
            (nothing is loaded in that case).
    """
    own = module.state_dict()
    matched = [k for k in own if k in state]
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    bad_missing = [k for k in missing if not _matches_any(k, allowed_missing)]
    bad_unexpected = [k for k in unexpected if not _matches_any(k, allowed_unexpected)]
    mismatched = [
        f'{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}' for k in matched
        if tuple(state[k].shape) != tuple(own[k].shape)
    ]
    name = type(module).__name__
    lines = [
        f'checkpoint key report for {name}: matched {len(matched)}, missing {len(missing)} '
        f'({len(bad_missing)} not allowed), unexpected {len(unexpected)} ({len(bad_unexpected)} not allowed), '
        f'shape mismatches {len(mismatched)}'
    ]
    if missing:
        lines.append(f'missing keys (kept from model init): {missing}')
    if unexpected:
        lines.append(f'unexpected keys (ignored): {unexpected}')
    print_log('\n'.join(lines), logger=_logger(logger))
    if bad_missing or bad_unexpected or mismatched:
        problems = []
        if bad_missing:
            problems.append(f'missing keys not allowed: {bad_missing}')
        if bad_unexpected:
            problems.append(f'unexpected keys not allowed: {bad_unexpected}')
        if mismatched:
            problems.append(f'shape mismatches: {mismatched}')
        raise CheckpointMismatchError(f'checkpoint does not fit {name}: ' + '; '.join(problems))
    module.load_state_dict(OrderedDict((k, state[k]) for k in matched), strict=False)
    return dict(matched=matched, missing=missing, unexpected=unexpected)


# ------------------------------------------------------------------------------------------ layout checks
# model keys that a valid file may lack: the pretraining masker's curriculum state (absent from released files)
OPTIONAL_MODEL_KEYS = (r'backbone\.masker\.', r'data_preprocessor\.')


def reference_state(model_state: Mapping, fmt: str) -> Mapping:
    """The tensors a ``fmt`` file should hold, from the ``state_dict()`` of the model built from its config.

    Fine-tuned formats are that (det / seg) model's state itself; the pretraining formats are the state of the
    pretraining model converted to ``fmt`` (e.g. its encoder in timm names for det-init).
    """
    if fmt not in FORMATS:
        raise ValueError(f'unknown format {fmt!r}, expected one of {FORMATS}')
    model_fmt = detect_format(dict(state_dict=model_state))
    wanted = fmt if fmt in FINETUNED_FORMATS else 'mmspecgene-pretrain'
    if model_fmt != wanted:
        raise ValueError(f'a {fmt} file is checked against a model whose state_dict is {wanted}, but the config '
                         f'builds one whose state_dict is {model_fmt}: use a '
                         f'{"pretraining" if wanted == "mmspecgene-pretrain" else wanted[:3]} config')
    if fmt in FINETUNED_FORMATS or fmt == 'mmspecgene-pretrain':
        return model_state
    quiet = MMLogger.get_instance('mmspecgene_reference_state', log_level='ERROR')
    converted = convert_checkpoint(dict(state_dict=model_state), fmt, 'mmspecgene-pretrain', norm_from='thermal',
                                   logger=quiet)
    return get_state_dict(converted, fmt)


def compare_with_reference(state: Mapping, reference: Mapping,
                           optional: Sequence[str] = OPTIONAL_MODEL_KEYS) -> Dict[str, List[str]]:
    """Keys of ``reference`` absent from ``state`` (``missing``, except ``optional`` regexes), keys only in
    ``state`` (``unexpected``) and, per key, ``'key: file (shape) vs model (shape)'`` (``mismatched``)."""
    return dict(
        missing=[k for k in reference if k not in state and not _matches_any(k, optional)],
        unexpected=[k for k in state if k not in reference],
        mismatched=[
            f'{k}: file {tuple(state[k].shape)} vs model {tuple(reference[k].shape)}' for k in reference
            if k in state and tuple(state[k].shape) != tuple(reference[k].shape)
        ])


# ------------------------------------------------------------------------------------------ publishing
def publish(ckpt: Union[str, Mapping],
            out_file: str,
            keep_keys: Sequence[str] = ('meta', 'state_dict'),
            logger: Optional[MMLogger] = None) -> str:
    """Save a release copy: mmengine checkpoints keep only ``keep_keys`` (optimizer, message_hub,
    schedulers are stripped); the file name gets the first 8 hex digits of its sha256.

    Returns:
        str: The final path ``<out_stem>-<sha8><ext>``.
    """
    ckpt = dict(_as_checkpoint(ckpt))
    if isinstance(ckpt.get('state_dict'), Mapping):
        for key in [k for k in ckpt if k not in keep_keys]:
            print_log(f'publish: removing {key!r} from the checkpoint', logger=_logger(logger))
            ckpt.pop(key)
    out_file = os.fspath(out_file)
    out_dir = osp.dirname(osp.abspath(out_file))
    os.makedirs(out_dir, exist_ok=True)
    torch.save(ckpt, out_file)
    sha = hashlib.sha256()
    with open(out_file, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            sha.update(chunk)
    stem, ext = osp.splitext(out_file)
    final_file = f'{stem}-{sha.hexdigest()[:8]}{ext or ".pth"}'
    os.replace(out_file, final_file)
    print_log(f'publish: wrote {final_file}', logger=_logger(logger))
    return final_file
