# Copyright (c) mmspecgene contributors. All rights reserved.
"""Checkpoint formats (docs/en/method.md#checkpoint-layouts): layouts, auto-detection, conversions, reported loading,
publishing."""
import hashlib
import os.path as osp
import re

import pytest
import torch
import torch.nn as nn

from mmspecgene.models.checkpoint import (
    DET_INIT_ALLOWED_MISSING,
    DET_INIT_ALLOWED_UNEXPECTED,
    CheckpointMismatchError,
    compare_with_reference,
    convert_checkpoint,
    detect_format,
    encoder_state_for_det,
    encoder_state_for_seg,
    get_state_dict,
    load_checkpoint_file,
    load_state_dict_with_report,
    mmspecgene_to_released,
    publish,
    reference_state,
    released_to_mmspecgene,
    to_encoder_state,
)
from mmspecgene.models.layers.pos_embed import resize_pos_embed_grid
from mmspecgene.models.vit import SpecGeneViT
from mmspecgene.testing import checkpoint_layouts as cl

TINY = dict(embed_dims=32, num_layers=4, num_heads=2, mlp_ratio=4.)
TINY_DEC = dict(embed_dims=16, depth=1, mlp_ratio=4.)


def released_tiny(seed=0):
    return cl.released_pretrain_checkpoint(seed=seed, arch=TINY, decoder=TINY_DEC)


def meta_state(layout):
    """Shape-only tensors for ViT-B layout checks (no memory)."""
    return {k: torch.empty(v, device='meta') for k, v in layout.items()}


def shapes(state):
    return {k: tuple(v.shape) for k, v in state.items()}


# ------------------------------------------------------------------------------------------- layouts
def test_released_vit_b_layout_counts():
    released = cl.released_pretrain_layout()
    assert len(released) == 290
    assert sum(k.startswith('backbone.') for k in released) == 150
    assert sum(k.startswith('neck.') for k in released) == 140
    assert released['backbone.pos_embed'] == (1, 197, 768)
    assert released['neck.decoder_pos_embed2'] == (1, 197, 512)
    assert released['neck.cross_attention.attn.q.weight'] == (512, 512)
    assert 'neck.cross_attention.attn.q.bias' not in released
    assert released['neck.decoder_pred2.weight'] == (768, 512)
    det = cl.det_transform_layout()
    assert len(det) == 150 and det['patch_embed.proj.weight'] == (768, 3, 16, 16) and 'norm.weight' in det
    seg = cl.seg_transform_layout()
    assert len(seg) == 150 and seg['pos_embed'] == (1, 197, 768) and 'norm.bias' in seg


def test_finetuned_vit_b_layout_shapes():
    det = cl.det_finetuned_layout(num_classes=3)
    for i in range(12):
        length = 119 if i in (2, 5, 8, 11) else 27
        assert det[f'backbone.blocks.{i}.attn.rel_pos_h'] == (length, 64)
    assert det['backbone.pos_embed'] == (1, 197, 768)
    assert 'backbone.cls_token' not in det and 'backbone.norm.weight' not in det
    assert det['neck.fpn1.0.weight'] == (1536, 768, 2, 2) and det['neck.fpn1.3.weight'] == (768, 384, 2, 2)
    assert [det[f'neck.lateral_convs.{i}.conv.weight'][1] for i in range(4)] == [384, 768, 1536, 1536]
    assert 'neck.lateral_convs.0.conv.bias' not in det and 'neck.lateral_convs.0.norm_layer.weight' in det
    assert det['rpn_head.rpn_cls.weight'] == (3, 256, 1, 1) and det['rpn_head.rpn_reg.weight'] == (12, 256, 1, 1)
    assert det['roi_head.bbox_head.shared_fcs.0.weight'] == (1024, 12544)
    assert det['roi_head.bbox_head.fc_cls.weight'] == (4, 1024) and det['roi_head.bbox_head.fc_reg.weight'] == (12,
                                                                                                            1024)
    assert det['roi_head.mask_head.conv_logits.weight'] == (3, 256, 1, 1)
    seg = cl.seg_finetuned_layout(num_classes=13)
    assert seg['backbone.pos_embed'] == (1, 2305, 768)
    assert seg['backbone.layers.0.attn.relative_position_bias_table'] == (9028, 12)
    assert seg['backbone.layers.11.attn.relative_position_index'] == (2305, 2305)
    assert seg['decode_head.bottleneck.conv.weight'] == (768, 4608, 3, 3)
    assert seg['decode_head.fpn_bottleneck.conv.weight'] == (768, 3072, 3, 3)
    assert seg['auxiliary_head.convs.0.conv.weight'] == (256, 1536, 3, 3)
    assert seg['decode_head.conv_seg.weight'] == (13, 768, 1, 1)
    assert not any(k.startswith('backbone.norm') or k.startswith('backbone.ln1') for k in seg)


@pytest.mark.parametrize('fmt', ['released-pretrain', 'mmspecgene-pretrain', 'det-init', 'seg-init'])
def test_reference_state_of_a_pretraining_model(fmt):
    """The reference of each pretraining format, derived from a pretraining model's state, is its released layout."""
    model_state = released_to_mmspecgene(meta_state(cl.released_pretrain_layout()))
    expected = {
        'released-pretrain': cl.released_pretrain_layout,
        'mmspecgene-pretrain': lambda: shapes(model_state),
        'det-init': cl.det_transform_layout,
        'seg-init': cl.seg_transform_layout,
    }[fmt]()
    assert shapes(reference_state(model_state, fmt)) == dict(expected)


def test_reference_state_needs_a_model_of_the_format():
    seg_state = meta_state(cl.seg_finetuned_layout(26))
    assert reference_state(seg_state, 'seg-finetuned') is seg_state
    with pytest.raises(ValueError, match='use a pretraining config'):
        reference_state(seg_state, 'det-init')
    with pytest.raises(ValueError, match='use a det config'):
        reference_state(seg_state, 'det-finetuned')


def test_compare_with_reference_names_each_key():
    reference = meta_state(cl.det_finetuned_layout(3))
    state = dict(reference)
    key = next(k for k in reference if k.endswith('qkv.weight'))
    state[key] = torch.empty(3, device='meta')
    gone = next(k for k in reference if k.endswith('proj.bias'))
    del state[gone]
    state['extra.weight'] = torch.empty(1, device='meta')
    assert compare_with_reference(state, reference) == dict(
        missing=[gone], unexpected=['extra.weight'],
        mismatched=[f'{key}: file (3,) vs model {tuple(reference[key].shape)}'])
    # the masker's curriculum state may be absent from a pretraining file
    reference['backbone.masker.tick'] = torch.empty((), device='meta')
    assert compare_with_reference(state, reference)['missing'] == [gone]


# ------------------------------------------------------------------------------------------- detection
def test_detect_format_all_layouts():
    released = released_tiny()
    assert detect_format(released) == 'released-pretrain'
    assert detect_format(convert_checkpoint(released, 'mmspecgene-pretrain')) == 'mmspecgene-pretrain'
    assert detect_format(cl.det_transform_checkpoint(arch=TINY)) == 'det-init'
    assert detect_format(cl.seg_transform_checkpoint(arch=TINY)) == 'seg-init'
    assert detect_format(cl.det_finetuned_checkpoint(1, arch=TINY, img_size=64, window_size=2,
                                                     global_attn_indexes=(1, 3))) == 'det-finetuned'
    assert detect_format(cl.seg_finetuned_checkpoint(2, arch=TINY, img_size=64, channels=8)) == 'seg-finetuned'
    with pytest.raises(ValueError, match='cannot detect'):
        detect_format({'state_dict': {'foo.weight': torch.zeros(1)}})


# ------------------------------------------------------------------------------------------- conversions
@pytest.mark.parametrize('shared', [True, False])
def test_released_mmspecgene_round_trip(shared):
    state = released_tiny()['state_dict']
    ours = released_to_mmspecgene(state, shared_decoder_norm=shared)
    assert len(ours) == len(state) + (0 if shared else 2)
    assert torch.equal(ours['neck.thermal.embed.weight'], state['neck.decoder_embed.weight'])
    assert torch.equal(ours['neck.rgb.embed.weight'], state['neck.decoder_embed2.weight'])
    assert torch.equal(ours['neck.rgb.mask_token'], state['neck.mask_token2'])
    assert torch.equal(ours['neck.thermal.pos_embed'], state['neck.decoder_pos_embed'])
    assert torch.equal(ours['neck.rgb.cross_attn.attn.q_bias'], state['neck.cross_attention2.attn.q_bias'])
    assert torch.equal(ours['neck.thermal.blocks.0.attn.qkv.weight'], state['neck.decoder_blocks.0.attn.qkv.weight'])
    assert torch.equal(ours['neck.rgb.pred.bias'], state['neck.decoder_pred2.bias'])
    if shared:
        assert torch.equal(ours['neck.norm.weight'], state['neck.ln1.weight'])
    else:
        assert torch.equal(ours['neck.rgb.norm.weight'], state['neck.ln1.weight'])
        assert torch.equal(ours['neck.thermal.norm.bias'], state['neck.ln1.bias'])
    assert not any(re.search(r'decoder|cross_attention|neck\.ln1', k) for k in ours)
    back = mmspecgene_to_released(ours)
    assert set(back) == set(state)
    assert all(torch.equal(back[k], state[k]) for k in state)


def test_released_vit_b_neck_mapping_is_complete():
    ours = released_to_mmspecgene(meta_state(cl.released_pretrain_layout()))
    assert len(ours) == 290
    assert sum(k.startswith('neck.rgb.') for k in ours) == sum(k.startswith('neck.thermal.') for k in ours) == 69


def test_separate_norms_that_differ():
    ours = released_to_mmspecgene(released_tiny()['state_dict'], shared_decoder_norm=False)
    ours['neck.rgb.norm.weight'] = ours['neck.rgb.norm.weight'] + 1
    with pytest.raises(CheckpointMismatchError, match='norm_from'):
        mmspecgene_to_released(ours)
    assert torch.equal(mmspecgene_to_released(ours, norm_from='rgb')['neck.ln1.weight'], ours['neck.rgb.norm.weight'])
    assert torch.equal(
        mmspecgene_to_released(ours, norm_from='thermal')['neck.ln1.weight'], ours['neck.thermal.norm.weight'])


def test_unknown_and_extra_pretrain_keys():
    state = dict(released_tiny()['state_dict'])
    state['neck.decoder_extra.weight'] = torch.zeros(1)
    with pytest.raises(CheckpointMismatchError, match='neck.decoder_extra.weight'):
        released_to_mmspecgene(state)
    ours = released_to_mmspecgene(released_tiny()['state_dict'])
    ours['backbone.masker.gmm_means'] = torch.zeros(2)  # curriculum buffer: no released counterpart
    back = mmspecgene_to_released(ours)
    assert 'backbone.masker.gmm_means' not in back and len(back) == len(released_tiny()['state_dict'])


def test_pretrain_to_det_and_seg_init_vit_b_layout():
    released = {'state_dict': meta_state(cl.released_pretrain_layout())}
    det = convert_checkpoint(released, 'det-init')
    assert shapes(det['model']) == dict(cl.det_transform_layout())
    seg = convert_checkpoint(released, 'seg-init')
    assert shapes(seg) == dict(cl.seg_transform_layout())
    ours = convert_checkpoint(released, 'mmspecgene-pretrain', src_format='released-pretrain')
    assert shapes(convert_checkpoint(ours, 'det-init')['model']) == dict(cl.det_transform_layout())


def test_all_pretrain_formats_give_the_same_encoder():
    released = released_tiny()
    reference = to_encoder_state(released)
    assert set(reference) == {k[len('backbone.'):] for k in released['state_dict'] if k.startswith('backbone.')}
    candidates = {
        'mmspecgene-pretrain': convert_checkpoint(released, 'mmspecgene-pretrain'),
        'det-init': convert_checkpoint(released, 'det-init'),
        'seg-init': convert_checkpoint(released, 'seg-init'),
    }
    candidates['mmspecgene-pretrain (from det-init)'] = convert_checkpoint(candidates['det-init'],
                                                                           'mmspecgene-pretrain')
    candidates['mmspecgene-pretrain (from seg-init)'] = convert_checkpoint(candidates['seg-init'],
                                                                           'mmspecgene-pretrain')
    for name, ckpt in candidates.items():
        encoder = to_encoder_state(ckpt)
        assert list(encoder) == list(reference), name
        assert all(torch.equal(encoder[k], reference[k]) for k in reference), name
    det = candidates['det-init']['model']
    assert torch.equal(det['blocks.1.mlp.fc2.weight'], released['state_dict']['backbone.layers.1.ffn.layers.1.weight'])
    assert torch.equal(det['norm.bias'], released['state_dict']['backbone.ln1.bias'])
    seg = candidates['seg-init']
    assert torch.equal(seg['norm.weight'], released['state_dict']['backbone.ln1.weight'])
    assert torch.equal(seg['layers.0.ln1.weight'], released['state_dict']['backbone.layers.0.ln1.weight'])
    with pytest.raises(ValueError, match='unsupported conversion'):
        convert_checkpoint(candidates['det-init'], 'released-pretrain')
    with pytest.raises(ValueError, match='strict load_from'):
        to_encoder_state(cl.seg_finetuned_checkpoint(2, arch=TINY, img_size=64, channels=8))


def with_prefix(state, prefix='module.'):
    return {prefix + k: v for k, v in state.items()}


def test_wrapped_saves_give_the_same_encoder():
    """DDP-prefixed keys and a ``{'model': state_dict}`` save are read like the plain layout."""
    released = released_tiny()
    reference = to_encoder_state(released)
    det = convert_checkpoint(released, 'det-init')
    seg = convert_checkpoint(released, 'seg-init')
    wrapped = {
        'released-pretrain': {'state_dict': with_prefix(released['state_dict'])},
        'released-pretrain (model dict)': {'model': released['state_dict']},
        'released-pretrain (model dict, DDP)': {'model': with_prefix(released['state_dict']), 'epoch': 3},
        'det-init': {'model': with_prefix(det['model'])},
        'seg-init': with_prefix(seg),
    }
    for name, ckpt in wrapped.items():
        assert detect_format(ckpt) == name.split(' ')[0], name
        encoder = to_encoder_state(ckpt)
        assert list(encoder) == list(reference), name
        assert all(torch.equal(encoder[k], reference[k]) for k in reference), name
    # a prefix on only some keys is not a wrapper prefix
    partial = dict(released['state_dict'])
    partial['module.extra'] = torch.zeros(1)
    assert 'module.extra' in get_state_dict({'state_dict': partial})
    with pytest.raises(ValueError, match=r"inner keys \['foo\.weight'\]"):
        detect_format({'model': {'module.foo.weight': torch.zeros(1)}, 'optimizer': {}})


def test_encoder_state_for_seg_resizes_pos_once_keeping_cls():
    encoder = to_encoder_state(released_tiny())
    seg = encoder_state_for_seg(encoder, (6, 4))
    pos = encoder['pos_embed']
    assert seg['pos_embed'].shape == (1, 1 + 24, TINY['embed_dims'])
    assert torch.equal(seg['pos_embed'][:, :1], pos[:, :1])
    assert torch.allclose(seg['pos_embed'], resize_pos_embed_grid(pos, (14, 14), (6, 4)))
    assert 'norm.weight' in seg and 'ln1.weight' not in seg
    assert torch.equal(encoder_state_for_seg(encoder)['pos_embed'], pos)
    det = encoder_state_for_det(encoder)
    assert torch.equal(det['pos_embed'], pos)  # det keeps 1 x 197 (resized at every forward)


# ------------------------------------------------------------------------------------------- loading
def tiny_det_style_vit():
    return SpecGeneViT(arch=TINY, img_size=224, naming='timm', with_cls_token=False, final_norm=False,
                       pos_embed_type='learnable', rel_pos='decomposed', window_size=7, global_attn_indexes=(1, 3))


def test_load_with_report_allowed_lists():
    vit = tiny_det_style_vit()
    # without cls token the det backbone stores 196 positions; this ViT stands in for the key logic only
    state = encoder_state_for_det(to_encoder_state(released_tiny()))
    state['pos_embed'] = state['pos_embed'][:, 1:]
    report = load_state_dict_with_report(vit, state, DET_INIT_ALLOWED_MISSING, DET_INIT_ALLOWED_UNEXPECTED)
    assert sorted(report['unexpected']) == ['cls_token', 'norm.bias', 'norm.weight']
    assert len(report['missing']) == 2 * TINY['num_layers']
    assert all(k.endswith(('rel_pos_h', 'rel_pos_w')) for k in report['missing'])
    assert torch.equal(vit.blocks[2].mlp.fc1.weight, state['blocks.2.mlp.fc1.weight'])


def test_load_with_report_names_disallowed_keys_and_shapes():
    vit = tiny_det_style_vit()
    good = encoder_state_for_det(to_encoder_state(released_tiny()))
    good['pos_embed'] = good['pos_embed'][:, 1:]
    before = vit.blocks[0].attn.qkv.weight.detach().clone()

    missing = dict(good)
    del missing['blocks.3.attn.proj.bias']
    with pytest.raises(CheckpointMismatchError, match=re.escape('blocks.3.attn.proj.bias')):
        load_state_dict_with_report(vit, missing, DET_INIT_ALLOWED_MISSING, DET_INIT_ALLOWED_UNEXPECTED)

    misshapen = dict(good)
    misshapen['blocks.1.mlp.fc2.weight'] = torch.zeros(3, 3)
    with pytest.raises(CheckpointMismatchError, match=r'blocks\.1\.mlp\.fc2\.weight: checkpoint \(3, 3\)'):
        load_state_dict_with_report(vit, misshapen, DET_INIT_ALLOWED_MISSING, DET_INIT_ALLOWED_UNEXPECTED)

    extra = dict(good, **{'decoder.foo': torch.zeros(1)})
    with pytest.raises(CheckpointMismatchError, match='decoder.foo'):
        load_state_dict_with_report(vit, extra, DET_INIT_ALLOWED_MISSING, DET_INIT_ALLOWED_UNEXPECTED)
    with pytest.raises(CheckpointMismatchError, match='rel_pos_h'):
        load_state_dict_with_report(vit, good, (), DET_INIT_ALLOWED_UNEXPECTED)
    assert torch.equal(vit.blocks[0].attn.qkv.weight, before)  # nothing loaded on failure


def test_released_pretrain_loads_strictly_into_pretrain_model():
    """Encoder + dual decoder of the pretraining model (the RGBTMAEViT keys are SpecGeneViT's; its mmpretrain
    subclass is not imported here to keep the file fast)."""
    decoder_module = pytest.importorskip('mmspecgene.models.mae_decoder', exc_type=ImportError)
    for shared in (True, False):
        model = nn.Module()
        model.backbone = SpecGeneViT(arch=TINY, img_size=224, pos_embed_type='sincos', final_norm=True)
        model.neck = decoder_module.RGBTMAEDecoder(
            num_patches=196,
            embed_dim=TINY['embed_dims'],
            decoder_embed_dim=TINY_DEC['embed_dims'],
            decoder_depth=TINY_DEC['depth'],
            decoder_num_heads=2,
            shared_decoder_norm=shared)
        released = released_tiny()
        ours = convert_checkpoint(released, 'mmspecgene-pretrain', shared_decoder_norm=shared)
        report = load_state_dict_with_report(model, ours['state_dict'])
        assert not report['missing'] and not report['unexpected']
        back = convert_checkpoint({'state_dict': model.state_dict()}, 'released-pretrain')
        assert all(torch.equal(back['state_dict'][k], v) for k, v in released['state_dict'].items())
        assert set(back['state_dict']) == set(released['state_dict'])


# ------------------------------------------------------------------------------------------- files
def test_load_file_and_publish(tmp_path):
    ckpt = released_tiny()
    path = tmp_path / 'released.pth'
    torch.save(ckpt, path)
    loaded = load_checkpoint_file(str(path))
    assert detect_format(loaded) == 'released-pretrain'
    assert set(get_state_dict(loaded)) == set(ckpt['state_dict'])
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        load_checkpoint_file(str(tmp_path / 'missing.pth'))

    final = publish(loaded, str(tmp_path / 'out' / 'specgene.pth'))
    digest = hashlib.sha256(open(final, 'rb').read()).hexdigest()
    assert osp.basename(final) == f'specgene-{digest[:8]}.pth'
    published = load_checkpoint_file(final)
    assert set(published) == {'meta', 'state_dict'}
    assert not osp.exists(tmp_path / 'out' / 'specgene.pth')
    det_final = publish(convert_checkpoint(loaded, 'det-init'), str(tmp_path / 'det.pth'))
    assert set(load_checkpoint_file(det_final)) == {'model'}


# ------------------------------------------------------------------------------------------- det model
DET_TINY = dict(img_size=64, window_size=2, global_attn_indexes=(1, 3))
DET_HEADS = dict(fpn_channels=16, roi_conv_channels=16, roi_fc_channels=32)


def _det_model(num_classes):
    pytest.importorskip('mmdet', reason='mmdet is not installed')
    import mmdet.models  # noqa: F401
    from mmdet.registry import MODELS
    from mmengine.config import Config

    import mmspecgene.det.backbones  # noqa: F401
    import mmspecgene.det.necks  # noqa: F401
    from mmspecgene.models.layers.norm import SpecGeneLN2d

    def replace(cfg):
        if isinstance(cfg, dict):
            if cfg.get('type') == 'SpecGeneLN2d':
                cfg['type'] = SpecGeneLN2d  # mmcv accepts classes: no registration needed here
            for value in cfg.values():
                replace(value)
        elif isinstance(cfg, list):
            for value in cfg:
                replace(value)

    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(repo, 'configs', 'det', '_base_', 'models', 'mask-rcnn_rgbt-vitdet.py'))
    model = cfg.model  # a ConfigDict: mmdet reads train_cfg.rpn as attributes
    fused, ch = 2 * TINY['embed_dims'], DET_HEADS['fpn_channels']
    model['data_preprocessor'] = None
    model['backbone'].update(arch=TINY, **DET_TINY)
    model['neck'].update(backbone_channel=fused, in_channels=[fused // 4, fused // 2, fused, fused], out_channels=ch)
    model['rpn_head'].update(in_channels=ch, feat_channels=ch)
    roi = model['roi_head']
    roi['bbox_roi_extractor']['out_channels'] = roi['mask_roi_extractor']['out_channels'] = ch
    roi['bbox_head'].update(in_channels=ch, conv_out_channels=ch, fc_out_channels=DET_HEADS['roi_fc_channels'],
                            num_classes=num_classes)
    roi['mask_head'].update(in_channels=ch, conv_out_channels=ch, num_classes=num_classes)
    replace(model)
    return MODELS.build(model)


def test_det_finetuned_checkpoint_loads_strictly_into_det_model():
    model = _det_model(num_classes=3)
    ckpt = cl.det_finetuned_checkpoint(3, arch=TINY, **DET_TINY, **DET_HEADS)
    assert shapes(model.state_dict()) == shapes(ckpt['state_dict'])  # derived head keys == host keys
    report = load_state_dict_with_report(model, ckpt['state_dict'])
    assert not report['missing'] and not report['unexpected']
    assert torch.equal(model.state_dict()['roi_head.mask_head.conv_logits.weight'],
                       ckpt['state_dict']['roi_head.mask_head.conv_logits.weight'])


@pytest.mark.parametrize('fmt', ['released-pretrain', 'det-init', 'seg-init'])
def test_pretrain_formats_init_the_det_backbone(tmp_path, fmt):
    pytest.importorskip('mmdet', reason='mmdet is not installed')
    from mmspecgene.det.backbones import RGBTViTDet
    ckpt = {
        'released-pretrain': lambda: released_tiny(seed=5),
        'det-init': lambda: cl.det_transform_checkpoint(seed=5, arch=TINY),
        'seg-init': lambda: cl.seg_transform_checkpoint(seed=5, arch=TINY),
    }[fmt]()
    path = str(tmp_path / 'init.pth')
    torch.save(ckpt, path)
    backbone = RGBTViTDet(arch=TINY, **DET_TINY)
    report = backbone.load_pretrained(path)
    assert sorted(report['unexpected']) == ['cls_token', 'norm.bias', 'norm.weight']
    assert len(report['missing']) == 2 * TINY['num_layers']
    encoder = to_encoder_state(ckpt)
    assert torch.equal(backbone.pos_embed, encoder['pos_embed'])  # det keeps 1 x 197
    assert torch.equal(backbone.blocks[1].attn.qkv.weight, encoder['layers.1.attn.qkv.weight'])
