# Copyright (c) mmspecgene contributors. All rights reserved.
"""The released segmentation / SOD weights fit the ViT-B configs (docs/en/method.md#checkpoint-layouts).

Random-tensor checkpoints in the exact released layouts (``mmspecgene.testing.checkpoint_layouts``):
the fine-tuned SemanticRT (13 classes), MVSeg (26), FMB (15) and VT5000 (2) files load strictly (no
missing, no unexpected key, no shape mismatch) into the models built from the matching 768 x 768 configs,
and the seg-transform file initialises the backbone through the configs' ``Pretrained`` init_cfg with
only the allowed key differences. A checkpoint with one key removed, one misshapen tensor or one extra
key fails, naming the key. The models are built at 768 (the ``pos_embed`` and relative-position-bias
table shapes depend on it), SyncBN replaced by BN; nothing runs forward.
"""
import copy
import functools
import gc
import os.path as osp
import re
from collections import OrderedDict

import pytest
import torch

pytest.importorskip('mmseg', reason='mmseg is not installed')

from mmengine.config import Config  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from mmengine.runner import load_checkpoint  # noqa: E402
from mmengine.runner.checkpoint import load_state_dict  # noqa: E402

from mmspecgene.models.checkpoint import CheckpointMismatchError  # noqa: E402
from mmspecgene.models.layers.pos_embed import resize_pos_embed_grid  # noqa: E402
from mmspecgene.testing import checkpoint_layouts as cl  # noqa: E402
from mmspecgene.testing.config_utils import replace_type  # noqa: E402
from mmspecgene.utils import register_all_modules  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
SEG_DIR = osp.join(REPO, 'configs', 'seg', 'upernet')
SOD_DIR = osp.join(REPO, 'configs', 'sod', 'upernet')
RELEASED = [  # (config, number of classes of the released fine-tuned checkpoint)
    (osp.join(SEG_DIR, 'upernet_rgbt-vit-b-specgene_2xb1-320k_semanticrt-768x768.py'), 13),
    (osp.join(SEG_DIR, 'upernet_rgbt-vit-b-specgene_2xb1-320k_mvseg-768x768.py'), 26),
    (osp.join(SEG_DIR, 'upernet_rgbt-vit-b-specgene_2xb1-320k_fmb-768x768.py'), 15),
    (osp.join(SOD_DIR, 'upernet-sod_rgbt-vit-b-specgene_2xb1-160k_vt5000-768x768.py'), 2),
]
SEG_TRANSFORM = 'checkpoints/M-SpecGene_VIT-B_seg_transform.pth'


def model_cfg_of(path):
    """The config's model (768 x 768, SyncBN -> BN) and the backbone init_cfg it declares."""
    model_cfg = copy.deepcopy(Config.fromfile(path).model)
    init_cfg = model_cfg.backbone.pop('init_cfg', None)
    replace_type(model_cfg, 'SyncBN', 'BN')
    return model_cfg, init_cfg


@functools.lru_cache(maxsize=1)
def build_model(path):
    """The model of a ViT-B config (cached: the failure tests and the first strict load share one build)."""
    register_all_modules('seg', init_default_scope=False)
    from mmseg.registry import MODELS
    gc.collect()
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(model_cfg_of(path)[0]).eval()


@functools.lru_cache(maxsize=1)
def _released_semanticrt_state():
    return cl.seg_finetuned_checkpoint(13, seed=0)['state_dict']


def released_checkpoint(num_classes):
    """A random checkpoint (mmengine dict, weights under ``state_dict``) in the released fine-tuned layout
    for ``num_classes`` (ViT-B, 768, UperNet heads). The tensors the class count does not shape are shared
    between calls (generating 195 M random values and 12 BEiT index tables takes seconds)."""
    layout = cl.seg_finetuned_layout(num_classes)
    shared = _released_semanticrt_state()
    assert list(layout) == list(shared)
    fresh = cl.random_state_dict({k: v for k, v in layout.items() if tuple(shared[k].shape) != v}, seed=num_classes)
    state = OrderedDict((k, fresh.get(k, shared[k])) for k in layout)
    assert {k: tuple(v.shape) for k, v in state.items()} == dict(layout)
    return dict(meta=dict(mmengine_version='0.10.7', iter=320000), state_dict=state)


@pytest.mark.parametrize('path, num_classes', RELEASED, ids=[osp.basename(p) for p, _ in RELEASED])
def test_config_declares_released_init_and_classes(path, num_classes):
    model_cfg, init_cfg = model_cfg_of(path)
    assert init_cfg == dict(type='Pretrained', checkpoint=SEG_TRANSFORM, src_format='auto')
    assert model_cfg.backbone.arch == 'base' and model_cfg.backbone.img_size == 768
    assert model_cfg.decode_head.num_classes == model_cfg.auxiliary_head.num_classes == num_classes
    compat = Config.fromfile(path.replace('.py', '-official-compat.py')).model
    assert compat.backbone.init_cfg == init_cfg  # the compat variant evaluates the same checkpoint


@pytest.mark.parametrize('fault', ['missing', 'misshapen', 'unexpected'])
def test_broken_finetuned_checkpoint_fails_naming_the_key(fault):
    path, num_classes = RELEASED[0]
    model = build_model(path)
    state = dict(released_checkpoint(num_classes)['state_dict'])
    if fault == 'missing':
        key = 'decode_head.fpn_bottleneck.bn.running_var'
        del state[key]
        pattern = rf'missing keys in source state_dict: .*{re.escape(key)}'
    elif fault == 'misshapen':  # the pretraining-size (224) table instead of the 768 one
        key = 'backbone.layers.3.attn.relative_position_bias_table'
        assert state[key].shape == (95 * 95 + 3, 12)
        state[key] = torch.zeros(27 * 27 + 3, 12)
        pattern = rf'size mismatch for {re.escape(key)}'
    else:
        key = 'backbone.norm.weight'
        state[key] = torch.ones(768)
        pattern = rf'unexpected key in source state_dict: .*{re.escape(key)}'
    with pytest.raises(RuntimeError, match=pattern):
        load_state_dict(model, state, strict=True)


@pytest.mark.parametrize('path, num_classes', RELEASED, ids=[osp.basename(p) for p, _ in RELEASED])
def test_released_finetuned_checkpoint_loads_strictly(path, num_classes, tmp_path):
    model = build_model(path)
    ckpt = released_checkpoint(num_classes)
    state = ckpt['state_dict']
    own = model.state_dict()
    assert set(state) == set(own)  # zero missing, zero unexpected
    mismatched = [k for k in state if state[k].shape != own[k].shape]
    assert not mismatched, mismatched
    assert state['decode_head.conv_seg.weight'].shape[0] == num_classes
    file = tmp_path / 'released_finetuned.pth'
    try:
        torch.save(ckpt, str(file))
        loaded = load_checkpoint(model, str(file), map_location='cpu', strict=True)
    finally:
        file.unlink(missing_ok=True)  # 0.8 GB: do not leave it in pytest's kept tmp folders
    assert set(loaded) >= {'meta', 'state_dict'}
    own = model.state_dict()
    different = [k for k, v in state.items() if not torch.equal(own[k], v)]
    assert not different, different


def test_seg_transform_init_through_config_init_cfg(tmp_path):
    register_all_modules('seg', init_default_scope=False)
    from mmseg.registry import MODELS
    path = RELEASED[0][0]
    backbone_cfg = copy.deepcopy(Config.fromfile(path).model.backbone)
    checkpoint = cl.seg_transform_checkpoint(seed=5)  # flat dict, 224 positions, final norm 'norm'
    file = tmp_path / 'M-SpecGene_VIT-B_seg_transform.pth'
    assert backbone_cfg.init_cfg.checkpoint.endswith(file.name)
    backbone_cfg.init_cfg.checkpoint = str(file)
    with DefaultScope.overwrite_default_scope('mmseg'):
        backbone = MODELS.build(backbone_cfg)
    try:
        torch.save(checkpoint, str(file))
        backbone.init_weights()
    finally:
        file.unlink(missing_ok=True)
    own = backbone.state_dict()
    assert own['pos_embed'].shape == (1, 1 + 48 * 48, 768)
    torch.testing.assert_close(own['pos_embed'], resize_pos_embed_grid(checkpoint['pos_embed'], (14, 14), (48, 48)))
    assert torch.equal(own['pos_embed'][:, :1], checkpoint['pos_embed'][:, :1])
    for key, value in checkpoint.items():
        if key not in ('pos_embed', 'norm.weight', 'norm.bias'):
            assert torch.equal(own[key], value), key
    for layer in backbone.layers:  # not in the file: keep their init
        assert torch.equal(layer.gamma_1, torch.ones(768)) and torch.equal(layer.gamma_2, torch.ones(768))
        assert not layer.attn.relative_position_bias_table.any()

    report = backbone.load_pretrained(checkpoint, src_format='auto')
    assert sorted(report['unexpected']) == ['norm.bias', 'norm.weight']
    suffixes = ('gamma_1', 'gamma_2', 'attn.relative_position_bias_table', 'attn.relative_position_index')
    assert sorted(report['missing']) == sorted(f'layers.{i}.{s}' for i in range(12) for s in suffixes)

    for fault, key in (('missing', 'layers.7.attn.qkv.weight'), ('misshapen', 'layers.2.ffn.layers.1.weight'),
                       ('unknown', 'layers.4.attn.extra_table')):
        broken = dict(checkpoint)
        if fault == 'missing':
            del broken[key]
        elif fault == 'misshapen':
            broken[key] = torch.zeros(768, 768)
        else:
            broken[key] = torch.zeros(3)
        with pytest.raises(CheckpointMismatchError, match=re.escape(key)):
            backbone.load_pretrained(broken, src_format='auto')
