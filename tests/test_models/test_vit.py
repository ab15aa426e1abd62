# Copyright (c) mmspecgene contributors. All rights reserved.
"""The ViT model family: one arch table drives every size-dependent value of every task.

Arch table and depth rules (host-free), then for each task and each of ViT-S/B/L: a config exists, its backbone
names the arch, and every width it must state (fused [RGB | T] channels of the necks and heads, the MAE decoder's
input width) equals what the arch gives. The models of these configs are built in tests/test_configs.py (with the
layer-decay group check) and stepped in the det / seg / pretrain config-step tests.
"""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmspecgene.models.vit import (
    ARCH_ALIASES,
    ARCH_SETTINGS,
    SpecGeneViT,
    default_global_attn_indexes,
    default_out_indices,
    get_arch_settings,
)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FAMILY = dict(small='s', base='b', large='l')
# (task folder, glob of the family's configs; {a} = s/b/l, {arch} = small/base/large)
TASK_CONFIGS = dict(
    pretrain='configs/pretrain/specgene/specgene_vit-{arch}-p16_*_rgbt550k.py',
    det='configs/det/vitdet/vitdet_mask-rcnn_rgbt-vit-{a}-specgene_*_kaist.py',
    seg='configs/seg/upernet/upernet_rgbt-vit-{a}-specgene_*_semanticrt-768x768.py',
    sod='configs/sod/upernet/upernet-sod_rgbt-vit-{a}-specgene_*_vt5000-768x768.py')


def family_config(task, arch):
    pattern = TASK_CONFIGS[task].format(a=FAMILY[arch], arch=arch)
    found = glob.glob(osp.join(REPO, pattern))
    assert len(found) == 1, (pattern, found)
    return found[0]


def test_arch_table():
    assert {k: (v['embed_dims'], v['num_layers'], v['num_heads']) for k, v in ARCH_SETTINGS.items()} == dict(
        small=(384, 12, 6), base=(768, 12, 12), large=(1024, 24, 16), tiny=(192, 4, 3))
    assert ARCH_SETTINGS['large']['global_attn_indexes'] == (5, 11, 17, 23)
    assert ARCH_SETTINGS['large']['out_indices'] == (7, 11, 15, 23)
    for name in FAMILY:  # the table's ViT-S/B/L entries are the depth rules
        settings = ARCH_SETTINGS[name]
        assert settings['global_attn_indexes'] == default_global_attn_indexes(settings['num_layers'])
        assert settings['out_indices'] == default_out_indices(settings['num_layers'])
    for alias, name in ARCH_ALIASES.items():
        assert get_arch_settings(alias) == ARCH_SETTINGS[name] == get_arch_settings(name.upper())
    # a returned copy: editing it leaves the table alone
    get_arch_settings('base')['num_layers'] = 1
    assert ARCH_SETTINGS['base']['num_layers'] == 12


def test_arch_dicts_and_errors():
    custom = get_arch_settings(dict(embed_dims=64, num_layers=24, num_heads=4, mlp_ratio=4.))
    assert custom['global_attn_indexes'] == (5, 11, 17, 23) and custom['out_indices'] == (7, 11, 15, 23)
    assert default_out_indices(4) == (0, 1, 2, 3) and default_out_indices(2) == (0, 1)
    assert default_global_attn_indexes(32) == (7, 15, 23, 31)
    given = get_arch_settings(dict(embed_dims=64, num_layers=4, num_heads=4, mlp_ratio=2., out_indices=(1, 3)))
    assert given['out_indices'] == (1, 3)
    with pytest.raises(KeyError, match="unknown arch 'huge'"):
        get_arch_settings('huge')
    with pytest.raises(KeyError, match='num_heads'):
        get_arch_settings(dict(embed_dims=64, num_layers=2, mlp_ratio=4.))
    with pytest.raises(ValueError, match='not divisible'):
        get_arch_settings(dict(embed_dims=64, num_layers=2, num_heads=5, mlp_ratio=4.))
    with pytest.raises(KeyError, match='unknown arch'):
        SpecGeneViT(arch='vit-xl')


@pytest.mark.parametrize('arch', ['small', 'large'])
def test_core_follows_the_table(arch):
    """A shallow stand-in for the depth (blocks are identical), full width and heads of the arch."""
    settings = dict(get_arch_settings(arch), num_layers=2)
    vit = SpecGeneViT(arch=settings, img_size=32)
    assert (vit.embed_dims, vit.num_heads, len(vit.layers)) == (settings['embed_dims'], settings['num_heads'], 2)
    assert vit.layers[0].attn.num_heads == settings['num_heads']
    x, _ = vit.run_layers(torch.zeros(1, 5, vit.embed_dims))
    assert x.shape == (1, 5, settings['embed_dims'])


@pytest.mark.parametrize('arch', list(FAMILY))
@pytest.mark.parametrize('task', list(TASK_CONFIGS))
def test_family_config_widths_follow_the_arch(task, arch):
    cfg = Config.fromfile(family_config(task, arch))
    model = cfg.model
    assert model.backbone.arch == arch
    settings = get_arch_settings(arch)
    dims, fused = settings['embed_dims'], 2 * settings['embed_dims']
    # the depth-dependent settings are not restated: they come from the arch table
    assert 'global_attn_indexes' not in model.backbone and 'out_indices' not in model.backbone
    assert 'num_layers' not in (cfg.optim_wrapper.get('paramwise_cfg') or {})
    if task == 'pretrain':
        assert model.neck.embed_dim == dims
        assert (model.neck.decoder_embed_dim, model.neck.decoder_depth) == (512, 4)  # one decoder for every size
    elif task == 'det':
        assert model.neck.backbone_channel == fused and 'in_channels' not in model.neck
    else:
        assert model.neck.embed_dim == fused
        assert list(model.decode_head.in_channels) == [fused] * 4 and model.auxiliary_head.in_channels == fused
        assert model.decode_head.channels == dims
    if arch == 'large' and task != 'pretrain':
        assert cfg.optim_wrapper.paramwise_cfg.layer_decay_rate == 0.8
