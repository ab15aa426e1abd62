# Copyright (c) mmspecgene contributors. All rights reserved.
import os.path as osp

import pytest
import torch
import torch.nn.functional as F

pytest.importorskip('mmdet', reason='mmdet is not installed')

from mmdet.registry import MODELS as MMDET_MODELS  # noqa: E402
from mmengine.registry import MODELS as ROOT_MODELS  # noqa: E402

from mmspecgene.det.backbones import RGBTViTDet  # noqa: E402
from mmspecgene.det.necks import RGBTSimpleFPN  # noqa: E402
from mmspecgene.models.layers.norm import SpecGeneLN2d  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
BASE_CFG = osp.join(REPO, 'configs', 'det', '_base_', 'models', 'mask-rcnn_rgbt-vitdet.py')


def _register():
    """What mmspecgene.det registers, done here so the test runs without the host package."""
    if 'SpecGeneLN2d' not in ROOT_MODELS:
        ROOT_MODELS.register_module(module=SpecGeneLN2d, force=False)
    for cls in (RGBTViTDet, RGBTSimpleFPN):
        if cls.__name__ not in MMDET_MODELS:
            MMDET_MODELS.register_module(module=cls, force=False)


_register()


def _tiny_backbone(**kwargs):
    cfg = dict(arch='tiny', img_size=64, window_size=2, global_attn_indexes=(1, 3), drop_path_rate=0.1)
    cfg.update(kwargs)
    backbone = RGBTViTDet(**cfg)
    backbone.init_weights()
    with torch.no_grad():  # non-zero relative positions so that they take part in the checks
        for name, param in backbone.named_parameters():
            if 'rel_pos' in name:
                param.normal_(std=0.1)
    return backbone.eval()


def _expected_det_keys():
    """Backbone + neck state-dict layout of the released det checkpoints (docs/en/method.md#checkpoint-layouts), ViT-B
    at 960."""
    keys = {
        'backbone.pos_embed': (1, 197, 768),
        'backbone.patch_embed.proj.weight': (768, 3, 16, 16),
        'backbone.patch_embed.proj.bias': (768, ),
    }
    for i in range(12):
        block = f'backbone.blocks.{i}'
        for norm in ('norm1', 'norm2'):
            keys[f'{block}.{norm}.weight'] = keys[f'{block}.{norm}.bias'] = (768, )
        keys[f'{block}.attn.qkv.weight'] = (2304, 768)
        keys[f'{block}.attn.qkv.bias'] = (2304, )
        keys[f'{block}.attn.proj.weight'] = (768, 768)
        keys[f'{block}.attn.proj.bias'] = (768, )
        rel_len = 119 if i in (2, 5, 8, 11) else 27
        keys[f'{block}.attn.rel_pos_h'] = keys[f'{block}.attn.rel_pos_w'] = (rel_len, 64)
        keys[f'{block}.mlp.fc1.weight'] = (3072, 768)
        keys[f'{block}.mlp.fc1.bias'] = (3072, )
        keys[f'{block}.mlp.fc2.weight'] = (768, 3072)
        keys[f'{block}.mlp.fc2.bias'] = (768, )
    keys.update({
        'neck.fpn1.0.weight': (1536, 768, 2, 2),
        'neck.fpn1.0.bias': (768, ),
        'neck.fpn1.1.weight': (768, ),
        'neck.fpn1.1.bias': (768, ),
        'neck.fpn1.3.weight': (768, 384, 2, 2),
        'neck.fpn1.3.bias': (384, ),
        'neck.fpn2.0.weight': (1536, 768, 2, 2),
        'neck.fpn2.0.bias': (768, ),
    })
    for i, channels in enumerate((384, 768, 1536, 1536)):
        keys[f'neck.lateral_convs.{i}.conv.weight'] = (256, channels, 1, 1)
        keys[f'neck.fpn_convs.{i}.conv.weight'] = (256, 256, 3, 3)
        for conv in ('lateral_convs', 'fpn_convs'):
            keys[f'neck.{conv}.{i}.norm_layer.weight'] = keys[f'neck.{conv}.{i}.norm_layer.bias'] = (256, )
    return keys


def test_state_dict_layout_vit_base():
    backbone = RGBTViTDet(arch='base', img_size=960)
    neck = RGBTSimpleFPN(
        backbone_channel=1536,
        in_channels=[384, 768, 1536, 1536],
        out_channels=256,
        num_outs=5,
        norm_cfg=dict(type='SpecGeneLN2d'))
    state = {f'backbone.{k}': tuple(v.shape) for k, v in backbone.state_dict().items()}
    state.update({f'neck.{k}': tuple(v.shape) for k, v in neck.state_dict().items()})
    expected = _expected_det_keys()
    assert sorted(set(state) - set(expected)) == []
    assert sorted(set(expected) - set(state)) == []
    assert {k: v for k, v in state.items() if expected[k] != v} == {}
    assert backbone.pos_embed.requires_grad
    assert all(b.norm1.eps == 1e-5 for b in backbone.blocks)
    assert [b.window_size for b in backbone.blocks] == [14, 14, 0, 14, 14, 0, 14, 14, 0, 14, 14, 0]
    assert backbone.blocks[11].drop_path.drop_prob == pytest.approx(0.1)


def test_backbone_b2_per_sample_fusion():
    torch.manual_seed(0)
    backbone = _tiny_backbone()
    C = backbone.embed_dims
    inputs = torch.randn(2, 6, 64, 64)
    with torch.no_grad():
        (fused, ) = backbone(inputs)
        assert fused.shape == (2, 2 * C, 4, 4)
        # B=2 outputs equal the B=1 outputs per sample
        for i in range(2):
            torch.testing.assert_close(backbone(inputs[i:i + 1])[0][0], fused[i], rtol=1e-5, atol=1e-5)
        # sample 1's thermal features come from sample 1's thermal image, RGB features from its RGB image
        mixed = torch.cat([inputs[0:1, :3], inputs[1:2, 3:]], dim=1)
        (mixed_fused, ) = backbone(mixed)
        torch.testing.assert_close(mixed_fused[0, :C], fused[0, :C], rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(mixed_fused[0, C:], fused[1, C:], rtol=1e-5, atol=1e-5)
        # perturbing sample 1's thermal half changes only sample 1's thermal channels
        perturbed = inputs.clone()
        perturbed[1, 3:] += torch.randn(3, 64, 64)
        (out, ) = backbone(perturbed)
    torch.testing.assert_close(out[0], fused[0], rtol=0, atol=0)
    torch.testing.assert_close(out[1, :C], fused[1, :C], rtol=0, atol=0)
    assert (out[1, C:] - fused[1, C:]).abs().max() > 1e-3


def test_windowed_block_is_local_global_block_is_not():
    torch.manual_seed(0)
    backbone = _tiny_backbone(window_size=4)
    windowed, global_block = backbone.blocks[0], backbone.blocks[1]
    assert windowed.window_size == 4 and global_block.window_size == 0
    assert windowed.attn.rel_pos_h.shape[0] == 7 and global_block.attn.rel_pos_h.shape[0] == 7
    hw = (4, 8)  # two 4x4 windows side by side
    tokens = torch.randn(1, 32, backbone.embed_dims)
    changed = tokens.clone().view(1, 4, 8, -1)
    changed[:, :, 4:] += torch.randn_like(changed[:, :, 4:])
    changed = changed.view(1, 32, -1)
    with torch.no_grad():
        for block, local in ((windowed, True), (global_block, False)):
            left = block(tokens, hw).view(1, 4, 8, -1)[:, :, :4]
            left_changed = block(changed, hw).view(1, 4, 8, -1)[:, :, :4]
            if local:
                torch.testing.assert_close(left, left_changed, rtol=0, atol=0)
            else:
                assert (left - left_changed).abs().max() > 1e-4


def test_pos_embed_resized_every_forward():
    backbone = _tiny_backbone()
    C = backbone.embed_dims
    assert backbone.pos_embed.shape == (1, 197, C)
    assert torch.equal(backbone.grid_pos_embed((14, 14)), backbone.pos_embed[:, 1:])
    grid = backbone.pos_embed[:, 1:].reshape(1, 14, 14, C).permute(0, 3, 1, 2)
    manual = F.interpolate(grid, size=(4, 6), mode='bicubic', align_corners=False)
    torch.testing.assert_close(backbone.grid_pos_embed((4, 6)), manual.flatten(2).transpose(1, 2))
    with torch.no_grad():
        (out, ) = backbone(torch.randn(1, 6, 64, 96))
    assert out.shape == (1, 2 * C, 4, 6)


def test_layer_depth_and_bad_args():
    backbone = _tiny_backbone()
    assert backbone.get_layer_depth('backbone.patch_embed.proj.weight', 'backbone.') == (0, 6)
    assert backbone.get_layer_depth('backbone.pos_embed', 'backbone.') == (0, 6)
    assert backbone.get_layer_depth('backbone.blocks.3.attn.rel_pos_w', 'backbone.') == (4, 6)
    assert backbone.get_layer_depth('neck.fpn1.0.weight', 'backbone.') == (5, 6)
    assert RGBTViTDet(arch='tiny', img_size=64, window_size=2).global_attn_indexes == (1, 3)  # from the arch
    with pytest.raises(ValueError, match='global_attn_indexes'):
        RGBTViTDet(arch='tiny', img_size=64, global_attn_indexes=(2, 5, 8, 11))  # does not fit 4 blocks
    with pytest.raises(ValueError, match='Pretrained'):
        RGBTViTDet(arch='tiny', img_size=64, global_attn_indexes=(1, ),
                   init_cfg=dict(type='Pretrained', checkpoint='x.pth', prefix='backbone.'))
    with pytest.raises(ValueError, match=r'\(B, 6, H, W\)'):
        backbone(torch.randn(1, 3, 64, 64))


def test_neck_levels_and_checks():
    neck = RGBTSimpleFPN(backbone_channel=384, out_channels=32, num_outs=5)
    assert neck.in_channels == [96, 192, 384, 384]
    assert isinstance(neck.fpn1[1], SpecGeneLN2d)
    assert neck.lateral_convs[0].norm_name == 'norm_layer' and neck.lateral_convs[0].conv.bias is None
    assert not neck.lateral_convs[0].with_activation and not neck.fpn_convs[3].with_activation
    outs = neck((torch.randn(2, 384, 8, 8), ))
    assert [tuple(o.shape) for o in outs] == [(2, 32, s, s) for s in (32, 16, 8, 4, 2)]
    torch.testing.assert_close(outs[4], outs[3][:, :, ::2, ::2])
    assert all(o.is_contiguous() for o in outs)
    with pytest.raises(ValueError, match='in_channels'):
        RGBTSimpleFPN(backbone_channel=384, in_channels=[384, 768, 1536, 1536])
    with pytest.raises(ValueError, match='backbone channels'):
        neck((torch.randn(1, 192, 8, 8), ))


def test_pretrained_init_from_det_init_checkpoint(tmp_path):
    checkpoint = pytest.importorskip('mmspecgene.models.checkpoint', reason='checkpoint helpers not written yet')
    torch.manual_seed(0)
    source = RGBTViTDet(arch='tiny', img_size=64, global_attn_indexes=(1, 3))
    source.init_weights()
    state = {k: v for k, v in source.state_dict().items() if 'rel_pos' not in k}
    state['cls_token'] = torch.randn(1, 1, source.embed_dims)
    state['norm.weight'] = torch.ones(source.embed_dims)
    state['norm.bias'] = torch.zeros(source.embed_dims)
    path = str(tmp_path / 'det_init.pth')
    torch.save({'model': state}, path)

    init_cfg = dict(type='Pretrained', checkpoint=path, src_format='auto')
    target = RGBTViTDet(arch='tiny', img_size=64, global_attn_indexes=(1, 3), init_cfg=init_cfg)
    target.init_weights()
    for name, value in target.state_dict().items():
        if 'rel_pos' in name:
            assert not value.any(), name
        else:
            torch.testing.assert_close(value, state[name], rtol=0, atol=0, msg=name)

    state['blocks.0.unknown.weight'] = torch.zeros(2)
    torch.save({'model': state}, path)
    with pytest.raises(checkpoint.CheckpointMismatchError, match='blocks.0.unknown.weight'):
        RGBTViTDet(arch='tiny', img_size=64, global_attn_indexes=(1, 3), init_cfg=init_cfg).init_weights()


def test_mask_rcnn_tiny_loss():
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.structures import InstanceData

    init_default_scope('mmdet')
    cfg = Config.fromfile(BASE_CFG)
    assert 'default_scope' not in cfg and '_scope_' not in cfg.model
    preprocessor = cfg.model.data_preprocessor
    assert preprocessor.type == 'RGBTDetDataPreprocessor' and len(preprocessor.mean) == len(preprocessor.std) == 6
    size, ch = 128, 32  # small heads and samplers keep the CPU test fast; the code path is the released one
    with_rgbt_preprocessor = 'RGBTDetDataPreprocessor' in MMDET_MODELS
    if with_rgbt_preprocessor:
        preprocessor.batch_augments[0].size = (size, size)
    else:
        # not registered: a stock preprocessor without normalisation passes 6 channels through
        cfg.model.data_preprocessor = dict(type='DetDataPreprocessor', pad_size_divisor=32, pad_mask=True)
    cfg.model.backbone.update(arch='tiny', img_size=size, window_size=4, global_attn_indexes=(1, 3))
    cfg.model.neck.update(backbone_channel=384, in_channels=[96, 192, 384, 384], out_channels=ch)
    cfg.model.rpn_head.update(in_channels=ch, feat_channels=ch)
    cfg.model.roi_head.bbox_roi_extractor.out_channels = ch
    cfg.model.roi_head.mask_roi_extractor.out_channels = ch
    cfg.model.roi_head.bbox_head.update(in_channels=ch, conv_out_channels=ch, fc_out_channels=64)
    cfg.model.roi_head.mask_head.update(in_channels=ch, conv_out_channels=ch)
    cfg.model.train_cfg.rpn_proposal.update(nms_pre=200, max_per_img=100)
    cfg.model.train_cfg.rcnn.sampler.num = 64
    model = MMDET_MODELS.build(cfg.model)
    model.init_weights()

    keys = set(model.state_dict())
    for key in ('rpn_head.rpn_conv.0.conv.weight', 'rpn_head.rpn_conv.1.conv.bias',
                'roi_head.bbox_head.shared_convs.3.norm_layer.weight', 'roi_head.bbox_head.shared_fcs.0.weight',
                'roi_head.mask_head.convs.3.norm_layer.bias', 'roi_head.mask_head.upsample.weight'):
        assert key in keys, key
    assert model.rpn_head.rpn_cls.weight.shape == (3, ch, 1, 1)
    assert model.rpn_head.rpn_reg.weight.shape == (12, ch, 1, 1)
    assert model.roi_head.bbox_head.shared_fcs[0].weight.shape == (64, ch * 7 * 7)
    assert model.roi_head.bbox_head.shared_convs[0].norm.eps == 1e-5
    assert model.roi_head.bbox_head.fc_cls.weight.shape[0] == 2

    torch.manual_seed(0)
    data_samples = []
    for boxes in ([[10., 20., 60., 90.], [70., 30., 120., 100.]], [[5., 5., 40., 50.]]):
        sample = DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                pad_shape=(size, size),
                batch_input_shape=(size, size),
                scale_factor=(1., 1.)))
        bboxes = torch.tensor(boxes)
        masks = torch.zeros(len(boxes), size, size, dtype=torch.uint8)
        for j, (x1, y1, x2, y2) in enumerate(bboxes.long().tolist()):
            masks[j, y1:y2, x1:x2] = 1  # box rectangles, as in the released det data
        sample.gt_instances = InstanceData(
            bboxes=bboxes,
            labels=torch.zeros(len(boxes), dtype=torch.long),
            masks=BitmapMasks(masks.numpy(), size, size))
        data_samples.append(sample)
    model.train()
    if with_rgbt_preprocessor:
        images = [torch.randint(0, 256, (6, size, size), dtype=torch.uint8) for _ in data_samples]
        data = model.data_preprocessor(dict(inputs=images, data_samples=data_samples), training=True)
        assert data['inputs'].shape == (2, 6, size, size)
        losses = model(**data, mode='loss')
    else:
        losses = model.loss(torch.randn(2, 6, size, size), data_samples)
    for key in ('loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox', 'loss_mask'):
        assert key in losses, key
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total)
    total.backward()
    assert model.backbone.patch_embed.proj.weight.grad.abs().sum() > 0
    assert model.neck.fpn1[0].weight.grad.abs().sum() > 0


def test_roi_features_of_neck_maps_match_torchvision():
    """mmcv's RoIAlign reads raw NCHW memory: the neck's maps must be laid out so (regression: strided LN2d
    output once gave scrambled RoI features, and a detector whose RoI head could not learn)."""
    from mmcv.ops import RoIAlign
    from torchvision.ops import roi_align
    torch.manual_seed(0)
    neck = RGBTSimpleFPN(backbone_channel=384, out_channels=16, num_outs=5).eval()
    with torch.no_grad():
        outs = neck((torch.randn(2, 384, 10, 10), ))
        rois = torch.tensor([[0, 10., 12., 50., 90.], [1, 30., 40., 100., 120.], [1, 0., 0., 160., 160.]])
        for level, stride in enumerate((4, 8, 16, 32)):
            ours = RoIAlign(7, spatial_scale=1.0 / stride, sampling_ratio=0, aligned=True)(outs[level], rois)
            expected = roi_align(outs[level], rois, 7, spatial_scale=1.0 / stride, sampling_ratio=0, aligned=True)
            torch.testing.assert_close(ours, expected)
