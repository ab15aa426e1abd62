# Copyright (c) mmspecgene contributors. All rights reserved.
"""Key/shape layouts of the released M-SpecGene checkpoints (docs/en/method.md#checkpoint-layouts), host-free.

A *layout* is an ``OrderedDict`` key -> shape. :func:`random_state_dict` fills a layout with random
tensors (integer buffers get valid values), and the ``*_checkpoint`` functions wrap it the way the
released file is stored. Every layout is parametrised by the ViT dims, so tiny variants can be built;
the defaults are the released ViT-B files.

The head/neck key lists of the fine-tuned layouts are derived from the host module definitions
(mmdet 3.x ``RPNHead(num_convs=2)``, ``Shared4Conv1FCBBoxHead``, ``FCNMaskHead`` with an LN2d whose
``_abbr_`` is ``norm_layer``, the ViTDet ``SimpleFPN``; mmseg 1.x ``Feature2Pyramid``, ``UPerHead``,
``FCNHead`` with BN named ``bn``); tests compare them with the built host modules where available.
"""
import math
from collections import OrderedDict
from typing import Mapping, Optional, Sequence, Tuple, Union

import torch

from mmspecgene.models.layers.attention import beit_relative_position_index
from mmspecgene.models.vit import get_arch_settings

Shape = Tuple[int, ...]
Layout = 'OrderedDict[str, Shape]'


def arch_dims(arch: Union[str, dict] = 'base') -> dict:
    """``embed_dims``, ``num_layers``, ``num_heads``, ``mlp_ratio`` (and the rest of the arch settings) of a named
    arch or a dict, through :func:`mmspecgene.models.vit.get_arch_settings`."""
    return get_arch_settings(arch)


# ------------------------------------------------------------------------------------------- building blocks
def _linear(layout, name: str, out_dims: int, in_dims: int, bias: bool = True):
    layout[f'{name}.weight'] = (out_dims, in_dims)
    if bias:
        layout[f'{name}.bias'] = (out_dims, )


def _norm(layout, name: str, dims: int):
    layout[f'{name}.weight'] = (dims, )
    layout[f'{name}.bias'] = (dims, )


def _bn(layout, name: str, dims: int):
    _norm(layout, name, dims)
    layout[f'{name}.running_mean'] = (dims, )
    layout[f'{name}.running_var'] = (dims, )
    layout[f'{name}.num_batches_tracked'] = ()


def _conv(layout, name: str, out_ch: int, in_ch: int, kernel: int, bias: bool = True):
    layout[f'{name}.weight'] = (out_ch, in_ch, kernel, kernel)
    if bias:
        layout[f'{name}.bias'] = (out_ch, )


def _deconv(layout, name: str, in_ch: int, out_ch: int, kernel: int = 2):
    layout[f'{name}.weight'] = (in_ch, out_ch, kernel, kernel)  # ConvTranspose2d stores (in, out, k, k)
    layout[f'{name}.bias'] = (out_ch, )


def _conv_module(layout, name: str, out_ch: int, in_ch: int, kernel: int, norm: Optional[str]):
    """mmcv ``ConvModule``: ``conv`` (bias only without norm) + norm named ``bn`` / ``norm_layer``."""
    _conv(layout, f'{name}.conv', out_ch, in_ch, kernel, bias=norm is None)
    if norm == 'bn':
        _bn(layout, f'{name}.bn', out_ch)
    elif norm == 'norm_layer':
        _norm(layout, f'{name}.norm_layer', out_ch)


def _mmpretrain_block(layout, prefix: str, dims: int, hidden: int, layer_scale: bool = False,
                      rel_bias: Optional[Tuple[int, int, int]] = None):
    """One block in mmpretrain/mmseg names. ``rel_bias`` = (grid_h, grid_w, heads) adds the BEiT table/index."""
    if layer_scale:
        layout[f'{prefix}.gamma_1'] = (dims, )
        layout[f'{prefix}.gamma_2'] = (dims, )
    _norm(layout, f'{prefix}.ln1', dims)
    if rel_bias is not None:
        gh, gw, heads = rel_bias
        layout[f'{prefix}.attn.relative_position_bias_table'] = ((2 * gh - 1) * (2 * gw - 1) + 3, heads)
        layout[f'{prefix}.attn.relative_position_index'] = (gh * gw + 1, gh * gw + 1)
    _linear(layout, f'{prefix}.attn.qkv', 3 * dims, dims)
    _linear(layout, f'{prefix}.attn.proj', dims, dims)
    _norm(layout, f'{prefix}.ln2', dims)
    _linear(layout, f'{prefix}.ffn.layers.0.0', hidden, dims)
    _linear(layout, f'{prefix}.ffn.layers.1', dims, hidden)


def _timm_block(layout, prefix: str, dims: int, hidden: int, rel_pos: Optional[Tuple[int, int]] = None):
    """One block in timm / ViTDet names. ``rel_pos`` = (table length, head dims) adds ``rel_pos_{h,w}``."""
    _norm(layout, f'{prefix}.norm1', dims)
    if rel_pos is not None:
        layout[f'{prefix}.attn.rel_pos_h'] = rel_pos
        layout[f'{prefix}.attn.rel_pos_w'] = rel_pos
    _linear(layout, f'{prefix}.attn.qkv', 3 * dims, dims)
    _linear(layout, f'{prefix}.attn.proj', dims, dims)
    _norm(layout, f'{prefix}.norm2', dims)
    _linear(layout, f'{prefix}.mlp.fc1', hidden, dims)
    _linear(layout, f'{prefix}.mlp.fc2', dims, hidden)


def _grid(img_size: int, patch_size: int) -> int:
    if img_size % patch_size:
        raise ValueError(f'img_size {img_size} is not divisible by patch_size {patch_size}')
    return img_size // patch_size


def encoder_layout(arch='base', img_size: int = 224, patch_size: int = 16, in_channels: int = 3,
                   naming: str = 'mmpretrain', final_norm: str = 'ln1') -> Layout:
    """Pretraining encoder (cls token, 1+grid² positions, final norm named ``final_norm``), no prefix."""
    d = arch_dims(arch)
    dims, hidden = d['embed_dims'], int(d['embed_dims'] * d['mlp_ratio'])
    grid = _grid(img_size, patch_size)
    layout = OrderedDict()
    layout['cls_token'] = (1, 1, dims)
    layout['pos_embed'] = (1, 1 + grid * grid, dims)
    conv = 'projection' if naming == 'mmpretrain' else 'proj'
    _conv(layout, f'patch_embed.{conv}', dims, in_channels, patch_size)
    for i in range(d['num_layers']):
        if naming == 'mmpretrain':
            _mmpretrain_block(layout, f'layers.{i}', dims, hidden)
        else:
            _timm_block(layout, f'blocks.{i}', dims, hidden)
    _norm(layout, final_norm, dims)
    return layout


DEFAULT_DECODER = dict(embed_dims=512, depth=4, mlp_ratio=4.)


def released_pretrain_layout(arch='base', img_size: int = 224, patch_size: int = 16, in_channels: int = 3,
                             decoder: Optional[dict] = None) -> Layout:
    """docs/en/method.md#checkpoint-layouts ``state_dict`` (290 tensors for ViT-B): ``backbone.*`` + released
    dual-decoder ``neck.*``."""
    d = arch_dims(arch)
    dec = dict(DEFAULT_DECODER, **(decoder or {}))
    dims, ddims = d['embed_dims'], dec['embed_dims']
    dhidden = int(ddims * dec['mlp_ratio'])
    grid = _grid(img_size, patch_size)
    encoder = encoder_layout(arch, img_size, patch_size, in_channels)
    layout = OrderedDict(('backbone.' + k, v) for k, v in encoder.items())
    for suffix in ('', '2'):  # '' = thermal branch, '2' = RGB branch
        layout[f'neck.mask_token{suffix}'] = (1, 1, ddims)
        layout[f'neck.decoder_pos_embed{suffix}'] = (1, 1 + grid * grid, ddims)
        _linear(layout, f'neck.decoder_embed{suffix}', ddims, dims)
        for j in range(dec['depth']):
            _mmpretrain_block(layout, f'neck.decoder_blocks{suffix}.{j}', ddims, dhidden)
        ca = f'neck.cross_attention{suffix}'
        _norm(layout, f'{ca}.ln1', ddims)
        for proj in ('q', 'k', 'v'):
            _linear(layout, f'{ca}.attn.{proj}', ddims, ddims, bias=False)
        layout[f'{ca}.attn.q_bias'] = (ddims, )
        layout[f'{ca}.attn.v_bias'] = (ddims, )
        _linear(layout, f'{ca}.attn.proj', ddims, ddims)
        _norm(layout, f'{ca}.ln2', ddims)
        _linear(layout, f'{ca}.ffn.layers.0.0', dhidden, ddims)
        _linear(layout, f'{ca}.ffn.layers.1', ddims, dhidden)
        _linear(layout, f'neck.decoder_pred{suffix}', patch_size * patch_size * in_channels, ddims)
    _norm(layout, 'neck.ln1', ddims)  # the single shared final decoder norm
    return layout


def det_transform_layout(arch='base', img_size: int = 224, patch_size: int = 16, in_channels: int = 3) -> Layout:
    """docs/en/method.md#checkpoint-layouts det-transform ``model`` dict (150 timm names for ViT-B)."""
    return encoder_layout(arch, img_size, patch_size, in_channels, naming='timm', final_norm='norm')


def seg_transform_layout(arch='base', img_size: int = 224, patch_size: int = 16, in_channels: int = 3) -> Layout:
    """docs/en/method.md#checkpoint-layouts seg-transform flat dict: mmpretrain names, final norm ``norm``."""
    return encoder_layout(arch, img_size, patch_size, in_channels, naming='mmpretrain', final_norm='norm')


def det_finetuned_layout(num_classes: int,
                         arch='base',
                         img_size: int = 960,
                         patch_size: int = 16,
                         in_channels: int = 3,
                         pretrain_img_size: int = 224,
                         window_size: int = 14,
                         global_attn_indexes: Sequence[int] = (2, 5, 8, 11),
                         fpn_channels: int = 256,
                         num_anchors: int = 3,
                         rpn_convs: int = 2,
                         roi_conv_channels: int = 256,
                         roi_fc_channels: int = 1024,
                         roi_size: int = 7,
                         mask_convs: int = 4) -> Layout:
    """docs/en/method.md#checkpoint-layouts det fine-tuned ``state_dict``: ViTDet backbone, SimpleFPN, Mask R-CNN heads
    (C classes)."""
    d = arch_dims(arch)
    dims, hidden = d['embed_dims'], int(d['embed_dims'] * d['mlp_ratio'])
    head_dims = dims // d['num_heads']
    grid, pre_grid = _grid(img_size, patch_size), _grid(pretrain_img_size, patch_size)
    layout = OrderedDict()
    layout['backbone.pos_embed'] = (1, 1 + pre_grid * pre_grid, dims)
    _conv(layout, 'backbone.patch_embed.proj', dims, in_channels, patch_size)
    for i in range(d['num_layers']):
        size = grid if (window_size <= 0 or i in global_attn_indexes) else window_size
        _timm_block(layout, f'backbone.blocks.{i}', dims, hidden, rel_pos=(2 * size - 1, head_dims))
    fused = 2 * dims
    _deconv(layout, 'neck.fpn1.0', fused, fused // 2)
    _norm(layout, 'neck.fpn1.1', fused // 2)
    _deconv(layout, 'neck.fpn1.3', fused // 2, fused // 4)
    _deconv(layout, 'neck.fpn2.0', fused, fused // 2)
    for i, in_ch in enumerate((fused // 4, fused // 2, fused, fused)):
        _conv_module(layout, f'neck.lateral_convs.{i}', fpn_channels, in_ch, 1, 'norm_layer')
    for i in range(4):
        _conv_module(layout, f'neck.fpn_convs.{i}', fpn_channels, fpn_channels, 3, 'norm_layer')
    for i in range(rpn_convs):
        _conv_module(layout, f'rpn_head.rpn_conv.{i}', fpn_channels, fpn_channels, 3, None)
    _conv(layout, 'rpn_head.rpn_cls', num_anchors, fpn_channels, 1)
    _conv(layout, 'rpn_head.rpn_reg', num_anchors * 4, fpn_channels, 1)
    bbox = 'roi_head.bbox_head'
    for i in range(4):
        _conv_module(layout, f'{bbox}.shared_convs.{i}', roi_conv_channels, fpn_channels if i == 0 else
                     roi_conv_channels, 3, 'norm_layer')
    _linear(layout, f'{bbox}.shared_fcs.0', roi_fc_channels, roi_conv_channels * roi_size * roi_size)
    _linear(layout, f'{bbox}.fc_cls', num_classes + 1, roi_fc_channels)
    _linear(layout, f'{bbox}.fc_reg', 4 * num_classes, roi_fc_channels)
    mask = 'roi_head.mask_head'
    for i in range(mask_convs):
        _conv_module(layout, f'{mask}.convs.{i}', fpn_channels, fpn_channels, 3, 'norm_layer')
    _deconv(layout, f'{mask}.upsample', fpn_channels, fpn_channels)
    _conv(layout, f'{mask}.conv_logits', num_classes, fpn_channels, 1)
    return layout


def seg_backbone_layout(arch='base', img_size: int = 768, patch_size: int = 16, in_channels: int = 3) -> Layout:
    """``RGBTViTSeg`` keys without prefix: layer scale, BEiT bias in every layer, no final norm."""
    d = arch_dims(arch)
    dims, hidden = d['embed_dims'], int(d['embed_dims'] * d['mlp_ratio'])
    grid = _grid(img_size, patch_size)
    layout = OrderedDict()
    layout['cls_token'] = (1, 1, dims)
    layout['pos_embed'] = (1, 1 + grid * grid, dims)
    _conv(layout, 'patch_embed.projection', dims, in_channels, patch_size)
    for i in range(d['num_layers']):
        _mmpretrain_block(layout, f'layers.{i}', dims, hidden, layer_scale=True, rel_bias=(grid, grid, d['num_heads']))
    return layout


def seg_finetuned_layout(num_classes: int,
                         arch='base',
                         img_size: int = 768,
                         patch_size: int = 16,
                         in_channels: int = 3,
                         channels: int = 768,
                         aux_channels: int = 256,
                         num_pool_scales: int = 4,
                         num_ins: int = 4,
                         aux_convs: int = 1) -> Layout:
    """docs/en/method.md#checkpoint-layouts seg/SOD fine-tuned ``state_dict``: RGBTViTSeg, Feature2Pyramid, UPerHead,
    FCNHead (C classes)."""
    layout = OrderedDict(
        ('backbone.' + k, v) for k, v in seg_backbone_layout(arch, img_size, patch_size, in_channels).items())
    fused = 2 * arch_dims(arch)['embed_dims']
    _deconv(layout, 'neck.upsample_4x.0', fused, fused)
    _bn(layout, 'neck.upsample_4x.1', fused)
    _deconv(layout, 'neck.upsample_4x.3', fused, fused)
    _deconv(layout, 'neck.upsample_2x.0', fused, fused)
    head = 'decode_head'
    _conv(layout, f'{head}.conv_seg', num_classes, channels, 1)
    for k in range(num_pool_scales):
        _conv_module(layout, f'{head}.psp_modules.{k}.1', channels, fused, 1, 'bn')
    _conv_module(layout, f'{head}.bottleneck', channels, fused + num_pool_scales * channels, 3, 'bn')
    for i in range(num_ins - 1):
        _conv_module(layout, f'{head}.lateral_convs.{i}', channels, fused, 1, 'bn')
    for i in range(num_ins - 1):
        _conv_module(layout, f'{head}.fpn_convs.{i}', channels, channels, 3, 'bn')
    _conv_module(layout, f'{head}.fpn_bottleneck', channels, num_ins * channels, 3, 'bn')
    aux = 'auxiliary_head'
    _conv(layout, f'{aux}.conv_seg', num_classes, aux_channels, 1)
    for i in range(aux_convs):
        _conv_module(layout, f'{aux}.convs.{i}', aux_channels, fused if i == 0 else aux_channels, 3, 'bn')
    return layout


# ------------------------------------------------------------------------------------------- tensors
def random_state_dict(layout: Mapping[str, Shape], seed: int = 0) -> 'OrderedDict[str, torch.Tensor]':
    """Random float32 tensors for a layout; BEiT indices are the real index, BN statistics valid."""
    gen = torch.Generator().manual_seed(seed)
    state = OrderedDict()
    for key, shape in layout.items():
        if key.endswith('relative_position_index'):
            side = int(round(math.sqrt(shape[0] - 1)))
            state[key] = beit_relative_position_index((side, side))
        elif key.endswith('num_batches_tracked'):
            state[key] = torch.tensor(int(torch.randint(0, 1000, (), generator=gen)), dtype=torch.long)
        elif key.endswith('running_var'):
            state[key] = torch.rand(shape, generator=gen) + 0.5
        else:
            state[key] = torch.randn(shape, generator=gen) * 0.02
    return state


def _mmengine_checkpoint(state, with_optimizer: bool) -> dict:
    ckpt = dict(meta=dict(mmengine_version='0.10.7', epoch=1, iter=1), state_dict=state)
    if with_optimizer:
        ckpt['optimizer'] = dict(state={}, param_groups=[dict(lr=1e-4)])
        ckpt['message_hub'] = dict(log_scalars={}, runtime_info=dict(iter=1))
        ckpt['param_schedulers'] = [dict(last_step=1)]
    return ckpt


def released_pretrain_checkpoint(seed: int = 0, with_optimizer: bool = True, **layout_kwargs) -> dict:
    """Full mmengine checkpoint like ``M-SpecGene_VIT-B.pth`` (weights under ``state_dict``)."""
    return _mmengine_checkpoint(random_state_dict(released_pretrain_layout(**layout_kwargs), seed), with_optimizer)


def det_transform_checkpoint(seed: int = 0, **layout_kwargs) -> dict:
    """``{'model': OrderedDict}`` like ``M-SpecGene_VIT-B_det_transform.pth``."""
    return dict(model=random_state_dict(det_transform_layout(**layout_kwargs), seed))


def seg_transform_checkpoint(seed: int = 0, **layout_kwargs) -> 'OrderedDict[str, torch.Tensor]':
    """Flat dict like ``M-SpecGene_VIT-B_seg_transform.pth``."""
    return random_state_dict(seg_transform_layout(**layout_kwargs), seed)


def det_finetuned_checkpoint(num_classes: int, seed: int = 0, with_optimizer: bool = False, **layout_kwargs) -> dict:
    """mmengine checkpoint with a docs/en/method.md#checkpoint-layouts det ``state_dict``."""
    return _mmengine_checkpoint(
        random_state_dict(det_finetuned_layout(num_classes, **layout_kwargs), seed), with_optimizer)


def seg_finetuned_checkpoint(num_classes: int, seed: int = 0, with_optimizer: bool = False, **layout_kwargs) -> dict:
    """mmengine checkpoint with a docs/en/method.md#checkpoint-layouts seg/SOD ``state_dict``."""
    return _mmengine_checkpoint(
        random_state_dict(seg_finetuned_layout(num_classes, **layout_kwargs), seed), with_optimizer)
