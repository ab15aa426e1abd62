# Copyright (c) mmspecgene contributors. All rights reserved.
"""RGBTMatcher and its ViT: pretrained loading through the converters, losses and predictions on batches,
layer decay through the single constructor, clear errors."""
import copy

import numpy as np
import pytest
import torch
from mmengine.registry import MODELS
from mmengine.structures import BaseDataElement

from mmspecgene.engine.optimizers import RGBTLayerDecayOptimWrapperConstructor
from mmspecgene.match.geometry import sample_homography
from mmspecgene.models.checkpoint import convert_checkpoint
from mmspecgene.testing.checkpoint_layouts import (
    det_transform_checkpoint,
    released_pretrain_checkpoint,
    seg_transform_checkpoint,
)

SIZE = (160, 128)
MODEL = dict(
    type='RGBTMatcher',
    data_preprocessor=dict(type='RGBTMatchDataPreprocessor', mean=[128.0] * 6, std=[64.0] * 6),
    backbone=dict(type='RGBTViTMatch', arch='tiny', pretrain_img_size=96, drop_path_rate=0.0),
    coarse_channels=64, coarse_heads=4, coarse_layers=1, fine_channels=32, fine_heads=4,
    match_thr=0.0, train_coarse_percent=0.3, train_pad_num_gt_min=4)


def _samples(num, seed=0, ranges=None):
    rng = np.random.default_rng(seed)
    return [BaseDataElement(metainfo=dict(gt_homography=sample_homography(rng, SIZE, ranges), sample_idx=i,
                                          img_path=f'rgb{i}.jpg', ir_path=f'ir{i}.jpg', img_shape=SIZE[::-1]))
            for i in range(num)]


def _model(**kwargs):
    cfg = copy.deepcopy(MODEL)
    cfg.update(kwargs)
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


@pytest.mark.parametrize('make', [
    lambda: released_pretrain_checkpoint(arch='tiny', img_size=224),
    lambda: convert_checkpoint(released_pretrain_checkpoint(arch='tiny', img_size=224), 'mmspecgene-pretrain'),
    lambda: det_transform_checkpoint(arch='tiny', img_size=224),
    lambda: seg_transform_checkpoint(arch='tiny', img_size=224),
], ids=['released-pretrain', 'mmspecgene-pretrain', 'det-init', 'seg-init'])
def test_backbone_loads_pretraining_formats(tmp_path, make):
    ckpt = make()
    path = str(tmp_path / 'init.pth')
    torch.save(ckpt, path)
    backbone = MODELS.build(dict(type='RGBTViTMatch', arch='tiny', pretrain_img_size=96,
                                 init_cfg=dict(type='Pretrained', checkpoint=path)))
    backbone.init_weights()
    ref = released_pretrain_checkpoint(arch='tiny', img_size=224)['state_dict']
    torch.testing.assert_close(backbone.layers[1].attn.qkv.weight, ref['backbone.layers.1.attn.qkv.weight'])
    torch.testing.assert_close(backbone.ln1.weight, ref['backbone.ln1.weight'])
    # 14x14 pretraining positions resized to the 6x6 grid of pretrain_img_size=96 (cls row kept)
    assert backbone.pos_embed.shape == (1, 1 + 36, 192)


@pytest.mark.parametrize('pretrain_img_size', [96, 64])
def test_backbone_loads_a_matcher_checkpoint(tmp_path, pretrain_img_size):
    """A trained matcher (pos_embed with the unused cls row, no cls_token) initialises another matcher."""
    trained = _model()
    path = str(tmp_path / 'matcher.pth')
    torch.save({'state_dict': trained.state_dict()}, path)
    backbone = MODELS.build(dict(type='RGBTViTMatch', arch='tiny', pretrain_img_size=pretrain_img_size,
                                 init_cfg=dict(type='Pretrained', checkpoint=path)))
    backbone.init_weights()
    torch.testing.assert_close(backbone.layers[2].ffn.layers[1].weight, trained.backbone.layers[2].ffn.layers[1].weight)
    side = pretrain_img_size // 16
    assert backbone.pos_embed.shape == (1, 1 + side * side, 192)
    if pretrain_img_size == 96:
        torch.testing.assert_close(backbone.pos_embed, trained.backbone.pos_embed)


def test_loss_and_predict_on_a_batch():
    model = _model()
    inputs = torch.randint(0, 255, (3, 6, SIZE[1], SIZE[0]), dtype=torch.uint8)
    data = model.data_preprocessor(dict(inputs=list(inputs), data_samples=_samples(3)), training=True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_coarse', 'loss_fine'}
    total = sum(losses.values())
    assert torch.isfinite(total)
    total.backward()
    assert model.backbone.layers[0].attn.qkv.weight.grad.abs().sum() > 0
    assert model.fine_branch.stem[0].weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        batch = model(**model.data_preprocessor(dict(inputs=list(inputs), data_samples=_samples(3))),
                      mode='predict')
        single = model(**model.data_preprocessor(dict(inputs=[inputs[1]], data_samples=_samples(1))),
                       mode='predict')
    assert len(batch) == 3
    for sample in batch:
        assert sample.pred_kpts0.shape == sample.pred_kpts1.shape and sample.pred_kpts0.shape[1] == 2
        assert len(sample.pred_scores) == len(sample.pred_kpts0)
        assert (sample.pred_kpts0 >= 0).all() and (sample.pred_kpts0[:, 0] < SIZE[0]).all()
    assert len(batch[1].pred_kpts0) > 0
    # samples do not leak into each other: the middle pair alone gives the same matches
    torch.testing.assert_close(single[0].pred_kpts1, batch[1].pred_kpts1)


def test_empty_ground_truth_match_set_names_the_sample():
    model = _model()
    samples = _samples(2)
    samples[1].set_metainfo(dict(gt_homography=np.array([[1, 0, 500.0], [0, 1, 0], [0, 0, 1]])))
    inputs = torch.zeros(2, 6, SIZE[1], SIZE[0])
    with pytest.raises(ValueError, match=r'empty ground-truth match set .*sample 1 \(rgb1.jpg \| ir1.jpg\)'):
        model.loss(inputs, samples)
    with pytest.raises(ValueError, match='train_pad_num_gt_min=400 must be below'):
        _model(train_pad_num_gt_min=400).loss(inputs, _samples(2))


def test_layer_decay_uses_the_backbone_depths():
    model = _model()
    constructor = RGBTLayerDecayOptimWrapperConstructor(
        dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05)),
        dict(layer_decay_rate=0.5, num_layers=4))
    groups = constructor(model).optimizer.param_groups
    lr = {n: g['lr'] for g in groups for n in g['param_names']}
    assert lr['backbone.patch_embed.projection.weight'] == pytest.approx(1e-3 * 0.5**5)
    assert lr['backbone.layers.3.attn.qkv.weight'] == pytest.approx(1e-3 * 0.5)
    assert lr['coarse_transformer.layers.0.q_proj.weight'] == pytest.approx(1e-3)
    assert lr['fine_branch.stem.0.weight'] == pytest.approx(1e-3)


def test_fine_cells_sit_on_the_patch_centres():
    """With the fine branch reduced to 2x2 block means (twice) of an x-ramp, fine cell k reads pixel 4k + 7.5: cell
    4i is the centre of ViT patch i, where kornia centres the fine window of coarse cell i."""
    import torch.nn as nn

    from mmspecgene.match.matcher import FineFeatureBranch
    branch = FineFeatureBranch(coarse_channels=8, out_channels=4).eval()
    with torch.no_grad():
        for module in branch.modules():
            if isinstance(module, nn.Conv2d):
                module.weight.zero_()
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, nn.BatchNorm2d):
                module.reset_running_stats()
        convs = [m for m in list(branch.stem) + list(branch.fuse) if isinstance(m, nn.Conv2d)]
        assert [c.kernel_size for c in convs] == [(2, 2), (3, 3), (2, 2), (3, 3), (3, 3), (3, 3), (1, 1)]
        for conv in convs:
            k = conv.kernel_size[0]
            if conv.stride == (2, 2):
                conv.weight[0, 0] = 1 / 4  # 2x2 block mean of channel 0
            else:
                conv.weight[0, 0, k // 2, k // 2] = 1  # identity
        images = torch.zeros(1, 3, 48, 64)
        images[:, 0] = torch.arange(64, dtype=torch.float32)  # value = x coordinate of the pixel centre
        fine = branch(images, torch.zeros(1, 8, 3, 4))
    cells = torch.arange(13, dtype=torch.float32)  # the cells whose block lies inside the image
    torch.testing.assert_close(fine[0, 0, 5, :13], 4 * cells + 7.5, rtol=0, atol=1e-2)
