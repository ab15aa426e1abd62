# Copyright (c) mmspecgene contributors. All rights reserved.
"""Released detection weights (docs/en/method.md#checkpoint-layouts) load into the models built from the ViT-B det
configs.

Random-tensor checkpoints in the exact released layouts (:mod:`mmspecgene.testing.checkpoint_layouts`):

* det-transform init ``{'model': ...}`` (150 timm keys) -> ``RGBTViTDet`` through
  ``init_cfg=dict(type='Pretrained', checkpoint=..., src_format='auto')``: only the 24 ``rel_pos`` tables
  missing, only ``cls_token`` and the final norm unexpected; every loaded tensor arrives unchanged;
* fine-tuned KAIST / LLVIP (1 class) and FLIR (3 classes) ``state_dict``s -> strict
  ``mmengine.runner.load_checkpoint`` into the models of the ViT-B configs, zero missing and zero unexpected
  keys, every tensor arriving unchanged;
* one key removed or one tensor misshapen -> an error that names the key.

The ``load_from`` path of ``tools/test.py`` is covered in ``tests/test_tools/test_test_released_det.py``.

The docs/en/method.md#checkpoint-layouts shapes are also checked one by one against the fixture layout, so a wrong
fixture and a wrong
model cannot agree by accident.
"""
import copy
import os.path as osp
import re

import pytest
import torch

pytest.importorskip('mmdet', reason='mmdet is not installed')

from mmengine.config import Config  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from mmengine.runner import load_checkpoint  # noqa: E402

from mmspecgene.models.checkpoint import CheckpointMismatchError, detect_format, load_checkpoint_file  # noqa: E402
from mmspecgene.testing.checkpoint_layouts import (  # noqa: E402
    det_finetuned_checkpoint,
    det_finetuned_layout,
    det_transform_checkpoint,
    det_transform_layout,
)
from mmspecgene.utils import register_all_modules  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
VITDET_DIR = osp.join(REPO, 'configs', 'det', 'vitdet')
# dataset -> (ViT-B config, number of classes of the released checkpoint)
RELEASED = {
    'kaist': (osp.join(VITDET_DIR, 'vitdet_mask-rcnn_rgbt-vit-b-specgene_lsj-2xb1-25000i_kaist.py'), 1),
    'llvip': (osp.join(VITDET_DIR, 'vitdet_mask-rcnn_rgbt-vit-b-specgene_lsj-2xb1-105625i_llvip.py'), 1),
    'flir': (osp.join(VITDET_DIR, 'vitdet_mask-rcnn_rgbt-vit-b-specgene_lsj-2xb1-90000i_flir.py'), 3),
}
REL_POS_KEYS = [f'blocks.{i}.attn.rel_pos_{hw}' for i in range(12) for hw in 'hw']


def _build(config_path, part=None, backbone_init_cfg=None):
    """The det model of a config (or its ``part``, e.g. ``'backbone'``) with ``backbone.init_cfg`` replaced."""
    register_all_modules('det', init_default_scope=False)
    from mmdet.registry import MODELS
    cfg = Config.fromfile(config_path)
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.init_cfg = backbone_init_cfg
    with DefaultScope.overwrite_default_scope('mmdet'):
        return MODELS.build(model_cfg[part] if part else model_cfg)


def _spec_det_finetuned_shapes(num_classes):
    """docs/en/method.md#checkpoint-layouts table, written out (ViT-B at 960, FPN 256, Mask R-CNN heads)."""
    shapes = {
        'backbone.pos_embed': (1, 197, 768),
        'backbone.patch_embed.proj.weight': (768, 3, 16, 16),
        'backbone.blocks.0.attn.qkv.weight': (2304, 768),
        'backbone.blocks.11.mlp.fc1.weight': (3072, 768),
        'backbone.blocks.11.mlp.fc2.weight': (768, 3072),
        'neck.fpn1.0.weight': (1536, 768, 2, 2),
        'neck.fpn1.1.weight': (768, ),
        'neck.fpn1.3.weight': (768, 384, 2, 2),
        'neck.fpn2.0.weight': (1536, 768, 2, 2),
        'rpn_head.rpn_cls.weight': (3, 256, 1, 1),
        'rpn_head.rpn_reg.weight': (12, 256, 1, 1),
        'roi_head.bbox_head.shared_fcs.0.weight': (1024, 12544),
        'roi_head.bbox_head.fc_cls.weight': (num_classes + 1, 1024),
        'roi_head.bbox_head.fc_reg.weight': (4 * num_classes, 1024),
        'roi_head.mask_head.upsample.weight': (256, 256, 2, 2),
        'roi_head.mask_head.conv_logits.weight': (num_classes, 256, 1, 1),
    }
    for i in range(12):
        length = 119 if i in (2, 5, 8, 11) else 27
        shapes[f'backbone.blocks.{i}.attn.rel_pos_h'] = shapes[f'backbone.blocks.{i}.attn.rel_pos_w'] = (length, 64)
    for i, channels in enumerate((384, 768, 1536, 1536)):
        shapes[f'neck.lateral_convs.{i}.conv.weight'] = (256, channels, 1, 1)
        shapes[f'neck.lateral_convs.{i}.norm_layer.weight'] = (256, )
        shapes[f'neck.fpn_convs.{i}.conv.weight'] = (256, 256, 3, 3)
        shapes[f'neck.fpn_convs.{i}.norm_layer.bias'] = (256, )
    for i in range(2):
        shapes[f'rpn_head.rpn_conv.{i}.conv.weight'] = (256, 256, 3, 3)
        shapes[f'rpn_head.rpn_conv.{i}.conv.bias'] = (256, )
    for i in range(4):
        shapes[f'roi_head.bbox_head.shared_convs.{i}.conv.weight'] = (256, 256, 3, 3)
        shapes[f'roi_head.bbox_head.shared_convs.{i}.norm_layer.weight'] = (256, )
        shapes[f'roi_head.mask_head.convs.{i}.conv.weight'] = (256, 256, 3, 3)
        shapes[f'roi_head.mask_head.convs.{i}.norm_layer.weight'] = (256, )
    return shapes


def test_fixture_layouts_follow_spec():
    init_layout = det_transform_layout()
    assert len(init_layout) == 150
    assert {'cls_token', 'pos_embed', 'patch_embed.proj.weight', 'norm.weight', 'blocks.11.mlp.fc2.bias'} <= set(
        init_layout)
    assert init_layout['pos_embed'] == (1, 197, 768)
    for num_classes in (1, 3):
        layout = det_finetuned_layout(num_classes)
        for key, shape in _spec_det_finetuned_shapes(num_classes).items():
            assert tuple(layout.get(key, ())) == shape, (key, layout.get(key), shape)
        # no cls token and no final norm in the fine-tuned backbone; convs under norm_layer carry no bias
        assert not [k for k in layout if k in ('backbone.cls_token', 'backbone.norm.weight')]
        assert not [k for k in layout if re.match(r'.*\.(lateral_convs|fpn_convs|shared_convs|convs)\.\d+\.conv\.bias$',
                                                  k)]


def test_det_transform_init_through_init_cfg(tmp_path):
    ckpt = det_transform_checkpoint(seed=1)
    assert list(ckpt) == ['model'] and len(ckpt['model']) == 150
    assert detect_format(ckpt) == 'det-init'
    path = str(tmp_path / 'M-SpecGene_VIT-B_det_transform.pth')
    torch.save(ckpt, path)
    state = ckpt['model']

    # the config path: the KAIST config's backbone with init_cfg=Pretrained, initialised by init_weights()
    backbone = _build(RELEASED['kaist'][0], 'backbone', dict(type='Pretrained', checkpoint=path, src_format='auto'))
    assert type(backbone).__name__ == 'RGBTViTDet'
    backbone.init_weights()
    loaded = backbone.state_dict()
    for key, value in loaded.items():
        if key in REL_POS_KEYS:
            assert not value.any(), f'{key} must stay zero-initialised'
        else:
            torch.testing.assert_close(value, state[key], rtol=0, atol=0, msg=key)
    assert loaded['pos_embed'].shape == (1, 197, 768)  # stored as released; resized at every forward

    report = backbone.load_pretrained(path, 'auto')  # the loader init_weights() calls, returning its report
    assert sorted(report['missing']) == sorted(REL_POS_KEYS)
    assert sorted(report['unexpected']) == ['cls_token', 'norm.bias', 'norm.weight']
    assert len(report['matched']) == 147

    # a key removed, a tensor misshapen, a key the allowed lists do not cover: errors name the key
    cases = {
        'removed': ('blocks.4.attn.proj.weight', lambda s: s.pop('blocks.4.attn.proj.weight')),
        'misshapen': ('blocks.7.mlp.fc1.bias', lambda s: s.__setitem__('blocks.7.mlp.fc1.bias', torch.zeros(3071))),
        'extra': ('blocks.0.attn.q_bias', lambda s: s.__setitem__('blocks.0.attn.q_bias', torch.zeros(768))),
    }
    for _name, (key, edit) in cases.items():
        broken = copy.copy(state)
        edit(broken)
        torch.save(dict(model=broken), path)
        with pytest.raises(CheckpointMismatchError, match=re.escape(key)):
            backbone.load_pretrained(path, 'auto')


@pytest.fixture(scope='module')
def finetuned_files(tmp_path_factory):
    """One released-layout fine-tuned checkpoint per class count: {num_classes: (path, state_dict)}."""
    root = tmp_path_factory.mktemp('released_det')
    files = {}
    for num_classes in (1, 3):
        ckpt = det_finetuned_checkpoint(num_classes, seed=num_classes)
        path = str(root / f'det_finetuned_{num_classes}cls.pth')
        torch.save(ckpt, path)
        files[num_classes] = (path, ckpt['state_dict'])
    return files


@pytest.mark.parametrize('dataset', list(RELEASED))
def test_finetuned_checkpoint_loads_strictly(dataset, finetuned_files, tmp_path):
    config_path, num_classes = RELEASED[dataset]
    path, state = finetuned_files[num_classes]
    assert detect_format(load_checkpoint_file(path)) == 'det-finetuned'
    model = _build(config_path)
    own = model.state_dict()
    assert sorted(set(own) - set(state)) == [], 'keys of the model missing from the released layout'
    assert sorted(set(state) - set(own)) == [], 'keys of the released layout unknown to the model'
    assert {k: tuple(v.shape) for k, v in state.items() if v.shape != own[k].shape} == {}
    assert any(k.startswith('roi_head.mask_head.') for k in state)

    load_checkpoint(model, path, map_location='cpu', strict=True)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=0, msg=key)


def test_finetuned_checkpoint_with_one_bad_key_fails(finetuned_files, tmp_path):
    """One key removed or one tensor misshapen: strict loading fails and names the key."""
    path, state = finetuned_files[1]
    model = _build(RELEASED['kaist'][0])
    removed = 'roi_head.mask_head.conv_logits.weight'
    broken = {k: v for k, v in state.items() if k != removed}
    torch.save(dict(meta=dict(), state_dict=broken), str(tmp_path / 'removed.pth'))
    with pytest.raises(RuntimeError, match=re.escape(removed)):
        load_checkpoint(model, str(tmp_path / 'removed.pth'), map_location='cpu', strict=True)
    misshapen = 'backbone.blocks.5.attn.rel_pos_h'
    broken = dict(state)
    broken[misshapen] = torch.zeros(27, 64)  # a windowed-block table where the global one belongs
    torch.save(dict(meta=dict(), state_dict=broken), str(tmp_path / 'misshapen.pth'))
    with pytest.raises(RuntimeError, match=re.escape(misshapen)):
        load_checkpoint(model, str(tmp_path / 'misshapen.pth'), map_location='cpu', strict=True)
