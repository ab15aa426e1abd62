# Copyright (c) mmspecgene contributors. All rights reserved.
import pytest
import torch
import torch.nn as nn

from mmspecgene.engine.optimizers import RGBTLayerDecayOptimWrapperConstructor
from mmspecgene.models.layers.norm import SpecGeneLN2d
from mmspecgene.models.layers.transformer import FeedForward, TransformerBlock
from mmspecgene.models.vit import SpecGeneViT

BASE_LR = 1e-4
BASE_WD = 0.1


def _optim_cfg(wd=BASE_WD):
    return dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=BASE_LR, weight_decay=wd))


def _build_groups(model, **paramwise_cfg):
    constructor = RGBTLayerDecayOptimWrapperConstructor(_optim_cfg(), paramwise_cfg)
    return constructor(model).optimizer.param_groups


def _no_decay_names(groups):
    return {n for g in groups if g['weight_decay'] == 0. for n in g['param_names']}


def _lr_of(groups):
    return {n: g['lr'] for g in groups for n in g['param_names']}


class FakeHead(nn.Module):
    """Neck/head stand-in: conv with bias, channels-first LN, batch norm, a linear."""

    def __init__(self, channels=8):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, bias=False)
        self.norm_layer = SpecGeneLN2d(channels)
        self.bn = nn.BatchNorm2d(channels)
        self.fc = nn.Linear(channels, 2)


class FakeDetector(nn.Module):

    def __init__(self, arch='tiny'):
        super().__init__()
        # the RGBTViTDet options, host-free (SpecGeneViT is the core of RGBTViTDet)
        self.backbone = SpecGeneViT(
            arch=arch,
            img_size=64,
            naming='timm',
            with_cls_token=False,
            pos_embed_type='learnable',
            final_norm=False,
            window_size=2,
            global_attn_indexes=(1, ),
            rel_pos='decomposed')
        self.neck = FakeHead()
        self.rpn_head = nn.Conv2d(8, 3, 1)


class FakeSegmentor(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = SpecGeneViT(
            arch='tiny',
            img_size=32,
            naming='mmpretrain',
            pos_embed_type='learnable',
            final_norm=False,
            layer_scale_init_value=1.0,
            rel_pos='bias')
        self.decode_head = FakeHead()


def test_layer_scales_vit_base():
    model = FakeDetector(arch='base')
    rate = 0.7
    groups = _build_groups(model, layer_decay_rate=rate, decay_exclusion='vitdet')
    lrs = _lr_of(groups)
    assert lrs['backbone.patch_embed.proj.weight'] == pytest.approx(BASE_LR * rate**13)
    assert lrs['backbone.pos_embed'] == pytest.approx(BASE_LR * rate**13)
    for i in range(12):
        assert lrs[f'backbone.blocks.{i}.attn.qkv.weight'] == pytest.approx(BASE_LR * rate**(12 - i))
        assert lrs[f'backbone.blocks.{i}.attn.rel_pos_h'] == pytest.approx(BASE_LR * rate**(12 - i))
    for name in ('neck.conv.weight', 'neck.norm_layer.weight', 'rpn_head.bias'):
        assert lrs[name] == pytest.approx(BASE_LR)
    # every trainable parameter is in exactly one group
    names = [n for g in groups for n in g['param_names']]
    assert sorted(names) == sorted(n for n, p in model.named_parameters() if p.requires_grad)
    assert all(g['lr_scale'] == pytest.approx(g['lr'] / BASE_LR) for g in groups)


def test_rate_one_is_off():
    groups = _build_groups(FakeDetector(), layer_decay_rate=1.0, decay_exclusion='vitdet')
    assert {g['lr'] for g in groups} == {BASE_LR}


def test_vitdet_exclusion_equals_released_rule():
    model = FakeDetector()
    groups = _build_groups(model, layer_decay_rate=0.7, decay_exclusion='vitdet')
    released = {
        n
        for n, _ in model.named_parameters() if (n.startswith('backbone.blocks') and 'norm' in n) or 'pos_embed' in n
    }
    assert _no_decay_names(groups) == released
    decayed = {n for g in groups if g['weight_decay'] == BASE_WD for n in g['param_names']}
    # biases and neck/head norms are decayed in this preset
    assert {'backbone.blocks.0.attn.qkv.bias', 'neck.norm_layer.weight', 'neck.bn.bias', 'rpn_head.bias'} <= decayed


def test_mmseg_exclusion_equals_released_rule():
    model = FakeSegmentor()
    groups = _build_groups(model, layer_decay_rate=0.65, decay_exclusion='mmseg')
    released = {n for n, p in model.named_parameters() if p.ndim == 1 or n.endswith('.bias')}
    no_decay = _no_decay_names(groups)
    assert no_decay == released
    # the release's name check never matched the prefixed names: pos_embed and cls_token are decayed
    assert 'backbone.pos_embed' not in no_decay and 'backbone.cls_token' not in no_decay
    assert 'backbone.layers.0.gamma_1' in no_decay
    assert 'backbone.layers.0.attn.relative_position_bias_table' not in no_decay
    lrs = _lr_of(groups)
    num_ids = model.backbone.num_layers + 2
    assert lrs['backbone.cls_token'] == pytest.approx(BASE_LR * 0.65**(num_ids - 1))
    assert lrs['backbone.layers.2.ln1.weight'] == pytest.approx(BASE_LR * 0.65**(num_ids - 1 - 3))
    assert lrs['decode_head.fc.weight'] == pytest.approx(BASE_LR)


class FakeCrossAttention(nn.Module):
    """Layout of one released decoder cross-attention layer (docs/en/method.md#pretraining-model)."""

    def __init__(self, dims=16):
        super().__init__()
        self.ln1 = nn.LayerNorm(dims)
        self.ln2 = nn.LayerNorm(dims)
        self.attn = nn.Module()
        self.attn.q = nn.Linear(dims, dims, bias=False)
        self.attn.k = nn.Linear(dims, dims, bias=False)
        self.attn.v = nn.Linear(dims, dims, bias=False)
        self.attn.q_bias = nn.Parameter(torch.zeros(dims))
        self.attn.v_bias = nn.Parameter(torch.zeros(dims))
        self.attn.proj = nn.Linear(dims, dims)
        self.ffn = FeedForward(dims, 2 * dims)


class FakeDecoderBranch(nn.Module):

    def __init__(self, enc_dims, dims=16):
        super().__init__()
        self.embed = nn.Linear(enc_dims, dims)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dims))
        self.pos_embed = nn.Parameter(torch.zeros(1, 17, dims), requires_grad=False)
        self.cross_attn = FakeCrossAttention(dims)
        self.blocks = nn.ModuleList(TransformerBlock(dims, 2) for _ in range(2))
        self.pred = nn.Linear(dims, 48)


class FakePretrainModel(nn.Module):
    """mmspecgene pretraining names: backbone as docs/en/method.md#checkpoint-layouts, neck.rgb.* / neck.thermal.* as
    docs/en/method.md#checkpoint-layouts."""

    def __init__(self):
        super().__init__()
        self.backbone = SpecGeneViT(arch='tiny', img_size=64)
        self.neck = nn.Module()
        self.neck.rgb = FakeDecoderBranch(self.backbone.embed_dims)
        self.neck.thermal = FakeDecoderBranch(self.backbone.embed_dims)
        self.neck.norm = nn.LayerNorm(16)


def _released_name(name):
    """mmspecgene pretraining name -> released name (docs/en/method.md#checkpoint-layouts)."""
    parts = name.split('.')
    if parts[0] != 'neck' or parts[1] not in ('rgb', 'thermal'):
        return 'neck.ln1.' + parts[-1] if name.startswith('neck.norm.') else name
    suffix = '2' if parts[1] == 'rgb' else ''
    released = dict(
        embed=f'decoder_embed{suffix}',
        mask_token=f'mask_token{suffix}',
        pos_embed=f'decoder_pos_embed{suffix}',
        cross_attn=f'cross_attention{suffix}',
        blocks=f'decoder_blocks{suffix}',
        pred=f'decoder_pred{suffix}')[parts[2]]
    return '.'.join(['neck', released] + parts[3:])


def test_by_role_exclusion_equals_released_rule():
    model = FakePretrainModel()
    groups = _build_groups(model, decay_exclusion='by_role')  # layer decay off, as in pretraining
    assert {g['lr'] for g in groups} == {BASE_LR}
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert _released_name('neck.rgb.blocks.1.ffn.layers.0.0.bias') == 'neck.decoder_blocks2.1.ffn.layers.0.0.bias'
    assert _released_name('neck.norm.weight') == 'neck.ln1.weight'
    released = {
        n
        for n in trainable
        if any(key in _released_name(n) for key in ('ln', 'bias', 'pos_embed', 'mask_token', 'cls_token'))
    }
    no_decay = _no_decay_names(groups)
    assert no_decay == released
    for name in ('neck.rgb.cross_attn.attn.q_bias', 'neck.thermal.cross_attn.attn.v_bias', 'neck.rgb.mask_token',
                 'backbone.cls_token', 'neck.norm.weight', 'backbone.ln1.bias'):
        assert name in no_decay
    # frozen (fixed sin-cos) position embeddings are left out of the optimizer
    all_names = {n for g in groups for n in g['param_names']}
    assert all_names == set(trainable)
    assert 'backbone.pos_embed' not in all_names and 'neck.rgb.pos_embed' not in all_names


def test_by_role_on_detector_excludes_head_norms_and_biases():
    model = FakeDetector()
    no_decay = _no_decay_names(_build_groups(model, layer_decay_rate=0.7))  # default preset: by_role
    assert {'neck.norm_layer.weight', 'neck.bn.weight', 'rpn_head.bias', 'backbone.blocks.0.attn.qkv.bias',
            'backbone.pos_embed'} <= no_decay
    assert 'neck.conv.weight' not in no_decay and 'backbone.blocks.0.attn.rel_pos_h' not in no_decay


def test_groups_are_split_by_layer_and_decay():
    groups = _build_groups(FakeDetector(), layer_decay_rate=0.7, decay_exclusion='vitdet')
    keys = [(g['layer_id'], g['weight_decay']) for g in groups]
    assert len(keys) == len(set(keys))


def test_bad_config_raises():
    with pytest.raises(ValueError, match='unknown paramwise_cfg keys'):
        RGBTLayerDecayOptimWrapperConstructor(_optim_cfg(), dict(decay_rate=0.7))
    with pytest.raises(ValueError, match='decay_exclusion'):
        RGBTLayerDecayOptimWrapperConstructor(_optim_cfg(), dict(decay_exclusion='beit'))
    with pytest.raises(ValueError, match='layer_decay_rate'):
        RGBTLayerDecayOptimWrapperConstructor(_optim_cfg(), dict(layer_decay_rate=1.5))
    constructor = RGBTLayerDecayOptimWrapperConstructor(_optim_cfg(), dict(layer_decay_rate=0.7))
    with pytest.raises(TypeError, match='get_layer_depth'):
        constructor(nn.Sequential(nn.Linear(2, 2)))


def test_no_backbone_rate_one_works():
    model = nn.Sequential(nn.Linear(2, 2), nn.LayerNorm(2))
    groups = _build_groups(model, decay_exclusion='by_role')
    assert _no_decay_names(groups) == {'0.bias', '1.weight', '1.bias'}


def test_num_layers_is_checked_against_the_backbone():
    model = FakeDetector()  # tiny: 4 blocks
    groups = _build_groups(model, num_layers=4, layer_decay_rate=0.9, decay_exclusion='vitdet')
    assert _lr_of(groups)['backbone.patch_embed.proj.weight'] == pytest.approx(BASE_LR * 0.9**5)
    with pytest.raises(ValueError, match='num_layers=12'):
        _build_groups(model, num_layers=12, layer_decay_rate=0.9)
    with pytest.raises(ValueError, match='num_layers'):
        RGBTLayerDecayOptimWrapperConstructor(_optim_cfg(), dict(num_layers=0))
