# Copyright (c) mmspecgene contributors. All rights reserved.
"""RGBT segmentation backbone and UperNet base config (docs/en/method.md#checkpoint-layouts)."""
import copy
import os.path as osp
import re

import pytest
import torch

pytest.importorskip('mmseg', reason='mmseg is not installed')

import mmseg.models  # noqa: E402,F401  (registers the host modules)
from mmengine.config import Config  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from mmseg.registry import MODELS  # noqa: E402

from mmspecgene.models.checkpoint import (  # noqa: E402
    CheckpointMismatchError,
    convert_checkpoint,
    load_state_dict_with_report,
    to_encoder_state,
)
from mmspecgene.models.layers.pos_embed import resize_pos_embed_grid  # noqa: E402
from mmspecgene.seg.backbones import RGBTViTSeg  # noqa: E402
from mmspecgene.testing import checkpoint_layouts as cl  # noqa: E402
from mmspecgene.testing.config_utils import replace_type  # noqa: E402

try:  # the lead's preprocessor; the layout checks do not depend on it
    import mmspecgene.seg.data_preprocessor  # noqa: F401
    HAS_RGBT_PREPROCESSOR = 'RGBTSegDataPreProcessor' in MODELS
except ImportError:
    HAS_RGBT_PREPROCESSOR = False

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
BASE_CFG = osp.join(REPO, 'configs', 'seg', '_base_', 'models', 'upernet_rgbt-vit-b.py')
TINY = dict(embed_dims=32, num_layers=4, num_heads=2, mlp_ratio=4.)
TINY_DEC = dict(embed_dims=16, depth=1, mlp_ratio=4.)
TINY_SIZE = 64  # 4 x 4 token grid
TINY_HEADS = dict(channels=16, aux_channels=8)


def tiny_backbone(**kwargs):
    cfg = dict(arch=TINY, img_size=TINY_SIZE, out_indices=(0, 1, 2, 3))
    cfg.update(kwargs)
    return RGBTViTSeg(**cfg)


def model_cfg(num_classes, tiny):
    cfg = copy.deepcopy(Config.fromfile(BASE_CFG).model.to_dict())
    cfg['decode_head']['num_classes'] = cfg['auxiliary_head']['num_classes'] = num_classes
    if not HAS_RGBT_PREPROCESSOR:
        cfg['data_preprocessor'] = None
    if tiny:
        fused = 2 * TINY['embed_dims']
        cfg['backbone'].update(arch=TINY, img_size=TINY_SIZE, out_indices=(0, 1, 2, 3))
        cfg['neck']['embed_dim'] = fused
        cfg['decode_head'].update(in_channels=[fused] * 4, channels=TINY_HEADS['channels'])
        cfg['auxiliary_head'].update(in_channels=fused, channels=TINY_HEADS['aux_channels'])
        replace_type(cfg, 'SyncBN', 'BN')  # SyncBN needs a process group at forward time
        if cfg['data_preprocessor'] is not None:
            cfg['data_preprocessor']['size'] = (TINY_SIZE, TINY_SIZE)
        cfg['test_cfg'] = dict(mode='whole')
    return cfg


def build_model(num_classes, tiny):
    # the data preprocessor is built through mmengine's root registry: resolve names in mmseg's scope
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(model_cfg(num_classes, tiny))


def shapes(state):
    return {k: tuple(v.shape) for k, v in state.items()}


# ------------------------------------------------------------------------------------------- config / layout
def test_base_config_contents():
    cfg = Config.fromfile(BASE_CFG)
    assert 'default_scope' not in cfg
    model = cfg.model
    assert model.type == 'EncoderDecoder'
    pre = model.data_preprocessor
    assert pre.type == 'RGBTSegDataPreProcessor' and len(pre.mean) == 6 and len(pre.std) == 6
    assert tuple(pre.to_rgb) == (True, True) and tuple(pre.size) == (768, 768)
    assert pre.pad_val == 0 and pre.seg_pad_val == 255
    bb = model.backbone
    assert (bb.type, bb.arch, bb.img_size, bb.drop_path_rate, bb.layer_scale_init_value) == \
        ('RGBTViTSeg', 'base', 768, 0.1, 1.0)
    assert 'out_indices' not in bb  # the taps come from the arch: blocks 3/5/7/11 of ViT-B (checked on the model)
    assert model.neck.type == 'Feature2Pyramid' and model.neck.embed_dim == 1536
    assert list(model.neck.rescales) == [4, 2, 1, 0.5] and model.neck.norm_cfg.type == 'SyncBN'
    head, aux = model.decode_head, model.auxiliary_head
    assert head.type == 'UPerHead' and list(head.in_channels) == [1536] * 4 and head.channels == 768
    assert tuple(head.pool_scales) == (1, 2, 3, 6) and head.dropout_ratio == 0.1
    assert head.loss_decode.loss_weight == 1.0 and aux.loss_decode.loss_weight == 0.4
    assert (aux.type, aux.in_channels, aux.in_index, aux.channels, aux.num_convs, aux.concat_input) == \
        ('FCNHead', 1536, 2, 256, 1, False)
    assert model.test_cfg == dict(mode='slide', crop_size=(768, 768), stride=(341, 341))


def test_vit_b_seg_model_matches_released_layout():
    """The ViT-B model built from the base config has exactly the docs/en/method.md#checkpoint-layouts seg keys and
    shapes."""
    model = build_model(num_classes=26, tiny=False)
    state = model.state_dict()
    expected = cl.seg_finetuned_layout(26)
    assert shapes(state) == dict(expected)
    assert state['backbone.layers.5.attn.relative_position_index'].dtype == torch.long
    assert model.backbone.out_indices == (3, 5, 7, 11)
    assert torch.equal(model.backbone.layers[0].gamma_1, torch.ones(768))
    assert not model.backbone.layers[0].attn.relative_position_bias_table.any()
    assert model.backbone.pos_embed.requires_grad
    assert model.backbone.layers[11].drop_path.drop_prob == pytest.approx(0.1)
    assert model.backbone.layers[0].norm1.eps == 1e-6 and model.backbone.norm is None


def test_tiny_seg_finetuned_checkpoint_loads_strictly():
    model = build_model(num_classes=5, tiny=True)
    ckpt = cl.seg_finetuned_checkpoint(5, arch=TINY, img_size=TINY_SIZE, **TINY_HEADS)
    assert set(ckpt['state_dict']) == set(model.state_dict())  # the derived head keys are the host's keys
    report = load_state_dict_with_report(model, ckpt['state_dict'])
    assert not report['missing'] and not report['unexpected']
    loaded = model.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in ckpt['state_dict'].items())
    model.load_state_dict(ckpt['state_dict'], strict=True)
    # the index buffer may be absent from a checkpoint (recomputed at build)
    no_index = {k: v for k, v in ckpt['state_dict'].items() if 'relative_position_index' not in k}
    model.load_state_dict(no_index, strict=True)

    model.eval()
    inputs = torch.randn(2, 6, TINY_SIZE, TINY_SIZE)
    with torch.no_grad():
        logits = model._forward(inputs)
    assert logits.shape == (2, 5, TINY_SIZE // 4, TINY_SIZE // 4)

    broken = dict(ckpt['state_dict'])
    del broken['decode_head.fpn_bottleneck.bn.running_var']
    with pytest.raises(CheckpointMismatchError, match=re.escape('decode_head.fpn_bottleneck.bn.running_var')):
        load_state_dict_with_report(model, broken)


# ------------------------------------------------------------------------------------------- forward
def test_forward_shapes_and_input_size():
    backbone = tiny_backbone().eval()
    outs = backbone(torch.randn(3, 6, TINY_SIZE, TINY_SIZE))
    assert len(outs) == 4 and all(o.shape == (3, 2 * TINY['embed_dims'], 4, 4) for o in outs)
    with pytest.raises(ValueError, match='interpolate_pos_embed'):
        backbone(torch.randn(1, 6, 2 * TINY_SIZE, TINY_SIZE))
    with pytest.raises(ValueError, match='out_indices'):
        tiny_backbone(out_indices=(3, 5, 7, 11))
    with pytest.raises(ValueError, match='init_cfg'):
        tiny_backbone(init_cfg=dict(type='Kaiming'))


def test_interpolate_pos_embed_runs_other_sizes_and_keeps_the_build_size_exact():
    """Whole-image inference: another grid resizes positions and every layer's BEiT bias; the build grid is
    untouched by the flag."""
    torch.manual_seed(0)
    fixed = tiny_backbone().eval()
    fixed.init_weights()
    for layer in fixed.layers:  # a non-zero bias, so the resize path is really exercised
        torch.nn.init.normal_(layer.attn.relative_position_bias_table, std=0.5)
    flexible = tiny_backbone(interpolate_pos_embed=True).eval()
    flexible.load_state_dict(fixed.state_dict())
    x = torch.randn(2, 6, TINY_SIZE, TINY_SIZE)
    with torch.no_grad():
        for a, b in zip(fixed(x), flexible(x)):
            torch.testing.assert_close(a, b)
        outs = flexible(torch.randn(2, 6, TINY_SIZE + 32, TINY_SIZE))
    assert all(o.shape == (2, 2 * TINY['embed_dims'], 6, 4) for o in outs)
    assert all(torch.isfinite(o).all() for o in outs)


def test_batch_of_two_uses_each_samples_own_thermal():
    torch.manual_seed(0)
    backbone = tiny_backbone()
    backbone.init_weights()
    with torch.no_grad():  # a non-zero bias so that the relative positions take part
        for layer in backbone.layers:
            layer.attn.relative_position_bias_table.normal_(std=0.5)
    backbone.eval()
    C = TINY['embed_dims']
    inputs = torch.randn(2, 6, TINY_SIZE, TINY_SIZE)
    with torch.no_grad():
        outs = backbone(inputs)
        for i in range(2):
            thermal_i = inputs[i:i + 1, 3:]
            # thermal image i fed through both slots: its features are what sample i's thermal half must hold
            alone = backbone(torch.cat([thermal_i, thermal_i], dim=1))
            single = backbone(inputs[i:i + 1])  # eval: B = 2 equals B = 1
            for out, ref, one in zip(outs, alone, single):
                torch.testing.assert_close(out[i, C:], ref[0, :C], rtol=1e-4, atol=1e-5)
                torch.testing.assert_close(out[i], one[0], rtol=1e-4, atol=1e-5)
        changed = inputs.clone()
        changed[1, 3:] = torch.randn(3, TINY_SIZE, TINY_SIZE)
        outs2 = backbone(changed)
    for out, out2 in zip(outs, outs2):
        torch.testing.assert_close(out2[0], out[0], rtol=1e-4, atol=1e-5)  # sample 0 untouched
        torch.testing.assert_close(out2[1, :C], out[1, :C], rtol=1e-4, atol=1e-5)  # RGB half untouched
        assert not torch.allclose(out2[1, C:], out[1, C:])


# ------------------------------------------------------------------------------------------- pretrained init
def pretrain_checkpoints():
    released = cl.released_pretrain_checkpoint(seed=3, arch=TINY, decoder=TINY_DEC)
    return {
        'released-pretrain': released,
        'mmspecgene-pretrain': convert_checkpoint(released, 'mmspecgene-pretrain'),
        'det-init': cl.det_transform_checkpoint(seed=3, arch=TINY),
        'seg-init': cl.seg_transform_checkpoint(seed=3, arch=TINY),
    }


@pytest.mark.parametrize('fmt', ['released-pretrain', 'mmspecgene-pretrain', 'det-init', 'seg-init'])
def test_init_from_every_pretraining_format(tmp_path, fmt):
    ckpt = pretrain_checkpoints()[fmt]
    path = str(tmp_path / f'{fmt}.pth')
    torch.save(ckpt, path)
    backbone = tiny_backbone(init_cfg=dict(type='Pretrained', checkpoint=path, src_format='auto'))
    backbone.init_weights()
    encoder = to_encoder_state(ckpt)
    own = backbone.state_dict()
    for key, value in encoder.items():
        if key == 'pos_embed':
            resized = resize_pos_embed_grid(value, (14, 14), (4, 4))
            torch.testing.assert_close(own[key], resized)
            assert torch.equal(own[key][:, :1], value[:, :1])
        elif not key.startswith('ln1.'):
            assert torch.equal(own[key], value), key
    for layer in backbone.layers:
        assert torch.equal(layer.gamma_1, torch.ones(TINY['embed_dims']))
        assert torch.equal(layer.gamma_2, torch.ones(TINY['embed_dims']))
        assert not layer.attn.relative_position_bias_table.any()

    report = tiny_backbone().load_pretrained(path, src_format=fmt)
    n = TINY['num_layers']
    assert sorted(report['unexpected']) == ['norm.bias', 'norm.weight']
    assert len(report['missing']) == 4 * n
    assert sum(k.endswith(('gamma_1', 'gamma_2')) for k in report['missing']) == 2 * n


@pytest.mark.parametrize('fault', ['missing', 'misshapen', 'unknown'])
def test_init_rejects_bad_checkpoints(tmp_path, fault):
    ckpt = cl.seg_transform_checkpoint(arch=TINY)
    key = 'layers.2.attn.qkv.weight'
    if fault == 'missing':
        del ckpt[key]
    elif fault == 'misshapen':
        ckpt[key] = torch.zeros(5, 5)
    else:
        key = 'layers.2.attn.extra_table'
        ckpt[key] = torch.zeros(5)
    path = str(tmp_path / 'seg_init.pth')
    torch.save(ckpt, path)
    backbone = tiny_backbone(init_cfg=dict(type='Pretrained', checkpoint=path, src_format='auto'))
    with pytest.raises(CheckpointMismatchError, match=re.escape(key)):
        backbone.init_weights()
