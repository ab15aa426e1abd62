# Copyright (c) mmspecgene contributors. All rights reserved.
"""Modality dropout: each fill is what it promises after the real preprocessors, the other half is untouched,
the drop rate is the configured one, and det / seg models run on camera-sized filled pairs."""
import copy
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate

from mmspecgene.datasets.transforms import (
    CopyFillModalityDropout,
    MeanFillModalityDropout,
    NoiseFillModalityDropout,
    add_missing_modality,
    modality_dropout_cfg,
)
from mmspecgene.models.rgbt_normalize import IMAGENET_MEAN, IMAGENET_STD, RGBTNormalize
from mmspecgene.testing.backbone_io import BackboneCapture
from mmspecgene.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
DET_CFG = 'configs/det/vitdet/vitdet_mask-rcnn_rgbt-vit-tiny_1xb4-400i_synthetic.py'
DET_DROP_CFG = 'configs/det/vitdet/vitdet_mask-rcnn_rgbt-vit-tiny-modality-dropout_1xb4-400i_synthetic.py'
SEG_CFG = 'configs/seg/upernet/upernet_rgbt-vit-tiny_1xb4-400i_synthetic.py'
SEG_DROP_CFG = 'configs/seg/upernet/upernet_rgbt-vit-tiny-modality-dropout_1xb4-400i_synthetic.py'
SOD_CFG = 'configs/sod/upernet/upernet-sod_rgbt-vit-tiny_1xb4-300i_synthetic.py'
MATCH_CFG = 'configs/match/loftr/loftr_rgbt-vit-tiny_1xb4-3000i_synthetic.py'
MEAN6 = list(IMAGENET_MEAN) * 2
STD6 = list(IMAGENET_STD) * 2
HALF = dict(rgb=slice(0, 3), thermal=slice(3, 6))
OTHER = dict(rgb='thermal', thermal='rgb')


@pytest.fixture
def stack():
    """A 512×640×6 uint8 [RGB | T] stack (BGR halves, thermal grey replicated), like LoadRGBTImagePair's output."""
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (512, 640, 3), dtype=np.uint8)
    thermal = np.repeat(rng.integers(0, 256, (512, 640, 1), dtype=np.uint8), 3, axis=2)
    return np.concatenate([rgb, thermal], axis=2)


def _normalised(img, to_rgb=(True, True), mean=MEAN6, std=STD6):
    return RGBTNormalize(mean, std, to_rgb=to_rgb)(torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1))


@pytest.mark.parametrize('to_rgb', [(True, True), (False, True)])
@pytest.mark.parametrize('modality', ['rgb', 'thermal'])
def test_mean_fill_is_zero_after_normalisation(stack, modality, to_rgb):
    mean = [100., 110., 120., 30., 40., 50.]  # distinct per channel: catches a channel-order mix-up
    drop = MeanFillModalityDropout(prob=1., modality=modality, mean=mean, to_rgb=to_rgb)
    results = drop(dict(img=stack.copy()))
    assert results['missing_modality'] == modality and results['img'].shape == stack.shape
    out = _normalised(results['img'], to_rgb, mean, STD6)
    ref = _normalised(stack, to_rgb, mean, STD6)
    assert (out[HALF[modality]] == 0).all()
    assert torch.equal(out[HALF[OTHER[modality]]], ref[HALF[OTHER[modality]]])


@pytest.mark.parametrize('modality', ['rgb', 'thermal'])
def test_noise_fill_is_standard_normal_after_normalisation(stack, modality):
    drop = NoiseFillModalityDropout(prob=1., modality=modality, mean=MEAN6, std=STD6)
    first = drop(dict(img=stack.copy()))['img']
    second = drop(dict(img=stack.copy()))['img']
    assert not np.array_equal(first, second)  # fresh noise per sample
    out, ref = _normalised(first), _normalised(stack)
    filled = out[HALF[modality]]
    assert abs(filled.mean().item()) < 0.05 and 0.9 < filled.std().item() < 1.05  # N(0, 1) clipped to pixels
    assert not torch.equal(filled[0], filled[1])  # independent per channel
    assert torch.equal(out[HALF[OTHER[modality]]], ref[HALF[OTHER[modality]]])


def test_copy_fill(stack):
    no_thermal = CopyFillModalityDropout(prob=1., modality='thermal')(dict(img=stack.copy()))['img']
    grey = cv2.cvtColor(np.ascontiguousarray(stack[..., :3]), cv2.COLOR_BGR2GRAY)
    assert no_thermal.dtype == np.uint8
    for c in range(3, 6):
        np.testing.assert_array_equal(no_thermal[..., c], grey)
    np.testing.assert_array_equal(no_thermal[..., :3], stack[..., :3])
    no_rgb = CopyFillModalityDropout(prob=1., modality='rgb')(dict(img=stack.copy()))['img']
    np.testing.assert_array_equal(no_rgb[..., :3], stack[..., 3:])
    np.testing.assert_array_equal(no_rgb[..., 3:], stack[..., 3:])
    as_float = CopyFillModalityDropout(prob=1., modality='thermal')(dict(img=stack.astype(np.float32)))['img']
    np.testing.assert_allclose(as_float[..., 3], grey, atol=0.51)  # uint8 grey rounds


def test_drop_rate_and_modality_choice():
    np.random.seed(0)
    img = np.zeros((4, 5, 6), np.uint8)
    drop = CopyFillModalityDropout(prob=0.4)
    drawn = [drop(dict(img=img.copy()))['missing_modality'] for _ in range(4000)]
    rate = sum(m is not None for m in drawn) / len(drawn)
    assert abs(rate - 0.4) < 0.03, rate
    assert abs(drawn.count('rgb') - drawn.count('thermal')) < 0.1 * (len(drawn) * rate)
    assert all(d is None for d in (CopyFillModalityDropout(prob=0.)(dict(img=img))['missing_modality']
                                   for _ in range(50)))
    only_rgb = CopyFillModalityDropout(prob=1., modality=['rgb'])
    assert {only_rgb(dict(img=img.copy()))['missing_modality'] for _ in range(20)} == {'rgb'}


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match='prob'):
        CopyFillModalityDropout(prob=1.5)
    with pytest.raises(ValueError, match="'depth'"):
        CopyFillModalityDropout(modality='depth')
    with pytest.raises(ValueError, match='mean is required'):
        MeanFillModalityDropout(prob=1.)
    with pytest.raises(ValueError, match='exactly 6 values'):
        MeanFillModalityDropout(mean=IMAGENET_MEAN)
    with pytest.raises(ValueError, match='positive'):
        NoiseFillModalityDropout(mean=MEAN6, std=[0.] * 6)
    with pytest.raises(ValueError, match=r'H×W×6 .*a\.jpg'):
        CopyFillModalityDropout(prob=1.)(dict(img=np.zeros((4, 4, 3), np.uint8), img_path='a.jpg'))
    with pytest.raises(ValueError, match='fill must be one of'):
        modality_dropout_cfg(dict(mean=MEAN6), fill='zeros')


def test_seeded_noise_fill_repeats_per_sample(stack):
    drop = NoiseFillModalityDropout(prob=1., modality='thermal', mean=MEAN6, std=STD6, seed=0)
    np.random.seed(1)
    first = [drop(dict(img=stack.copy(), sample_idx=i))['img'] for i in (0, 1)]
    np.random.seed(2)  # another global state: the same noise
    again = drop(dict(img=stack.copy(), sample_idx=1))['img']
    assert np.array_equal(first[1], again) and not np.array_equal(first[0], first[1])
    other_seed = NoiseFillModalityDropout(prob=1., modality='thermal', mean=MEAN6, std=STD6, seed=1)
    assert not np.array_equal(other_seed(dict(img=stack.copy(), sample_idx=1))['img'], again)
    with pytest.raises(KeyError, match='sample_idx'):
        drop(dict(img=stack.copy(), img_path='a.jpg'))


def test_add_missing_modality_to_configs():
    cfg = Config.fromfile(osp.join(REPO, DET_CFG))
    add_missing_modality(cfg, 'thermal', 'noise')
    steps = cfg.test_dataloader.dataset.pipeline
    assert [s['type'] for s in steps[-2:]] == ['NoiseFillModalityDropout', 'PackDetInputs']
    assert steps[-2]['prob'] == 1. and steps[-2]['modality'] == 'thermal'
    assert steps[-2]['mean'] == cfg.model.data_preprocessor.mean and steps[-2]['std'] == cfg.model.data_preprocessor.std
    assert steps[-2]['seed'] == 0  # an evaluation repeats exactly
    assert 'ModalityDropout' not in str([s['type'] for s in cfg.train_dataloader.dataset.pipeline])
    sod = Config.fromfile(osp.join(REPO, SOD_CFG))
    add_missing_modality(sod, 'thermal')
    assert sod.test_dataloader.dataset.pipeline[-2] == dict(
        type='MeanFillModalityDropout', prob=1.0, modality='thermal', mean=sod.model.data_preprocessor.mean,
        to_rgb=sod.model.data_preprocessor.to_rgb)
    seg = Config.fromfile(osp.join(REPO, SEG_CFG))
    add_missing_modality(seg, 'rgb', 'copy')
    assert seg.test_dataloader.dataset.pipeline[-2] == dict(type='CopyFillModalityDropout', prob=1.0, modality='rgb')
    with pytest.raises(ValueError, match="one of \\('rgb', 'thermal'\\)"):
        add_missing_modality(seg, 'depth')
    match = Config.fromfile(osp.join(REPO, MATCH_CFG))
    add_missing_modality(match, 'thermal', 'copy')  # before the warp: the filled half keeps the ground truth
    types = [s['type'] for s in match.test_dataloader.dataset.pipeline]
    assert types == ['LoadRGBTMatchPair', 'CopyFillModalityDropout', 'RGBTHomographyWarp', 'PackRGBTMatchInputs']
    match = Config.fromfile(osp.join(REPO, MATCH_CFG))
    add_missing_modality(match, 'thermal', 'mean')
    assert [s['type'] for s in match.test_dataloader.dataset.pipeline][-2] == 'MeanFillModalityDropout'
    seg.test_dataloader.dataset.pipeline = seg.test_dataloader.dataset.pipeline[:-1]
    with pytest.raises(ValueError, match='no Pack'):
        add_missing_modality(seg, 'rgb')


def _camera_pair(tmp_path):
    """A 1280×1024 RGB frame and a 640×512 one-channel thermal frame, as cameras deliver them."""
    rng = np.random.default_rng(1)
    rgb_path, ir_path = str(tmp_path / 'rgb.jpg'), str(tmp_path / 'ir.png')
    cv2.imwrite(rgb_path, rng.integers(0, 256, (1024, 1280, 3), dtype=np.uint8))
    cv2.imwrite(ir_path, rng.integers(0, 256, (512, 640), dtype=np.uint8))
    return rgb_path, ir_path


@pytest.mark.parametrize('task,config', [('det', DET_DROP_CFG), ('seg', SEG_DROP_CFG)])
def test_filled_pairs_through_preprocessor_and_backbone(task, config, tmp_path):
    """Pipelines resize camera frames, the preprocessor gives 6 channels with a zero half, the backbone runs."""
    register_all_modules(task)
    from mmengine.registry import MODELS
    cfg = Config.fromfile(osp.join(REPO, config))
    rgb_path, ir_path = _camera_pair(tmp_path)
    steps = [copy.deepcopy(s) for s in cfg.test_dataloader.dataset.pipeline if s['type'] != 'LoadAnnotations']
    steps[0]['size_mismatch'] = 'resize_thermal'
    with_drop = copy.deepcopy(steps)
    with_drop.insert(-1, dict(cfg.modality_dropout, prob=1., modality='thermal'))
    model = MODELS.build(cfg.model).eval()
    capture = BackboneCapture(model.backbone)
    batches = []
    for pipeline in (steps, with_drop):
        data = [Compose(pipeline)(dict(img_path=rgb_path, ir_path=ir_path, img_id=i)) for i in range(2)]
        with torch.no_grad():
            batches.append(model.data_preprocessor(pseudo_collate(data), False))
            size = cfg.model.backbone.img_size  # seg slides crops of this size over the image
            size = (size, size) if isinstance(size, int) else size
            model.backbone(batches[-1]['inputs'][..., :size[0], :size[1]])
    full, dropped = (b['inputs'] for b in batches)
    assert dropped.shape == full.shape and dropped.shape[:2] == (2, 6)  # batch of 2, not 1
    assert (dropped[:, 3:] == 0).all()
    assert torch.equal(dropped[:, :3], full[:, :3])
    assert not torch.equal(full[:, 3:], dropped[:, 3:])
    for with_full, with_filled in zip(*capture.features):
        assert with_full.shape == with_filled.shape and torch.isfinite(with_filled).all()
    capture.remove()


def test_dropout_config_only_adds_the_drop(synthetic_root):
    """The dropout config's train pipeline is the parent's plus the drop: same geometry, aligned halves."""
    parent = Config.fromfile(osp.join(REPO, DET_CFG)).train_dataloader.dataset.pipeline
    child_cfg = Config.fromfile(osp.join(REPO, DET_DROP_CFG))
    child = child_cfg.train_dataloader.dataset.pipeline
    assert [s['type'] for s in child] == [s['type'] for s in parent][:-1] + ['MeanFillModalityDropout', 'PackDetInputs']
    assert child[-2]['mean'] == child_cfg.model.data_preprocessor.mean
    always = copy.deepcopy(child)
    always[-2].update(prob=1., modality='thermal')
    register_all_modules('det')
    from mmdet.registry import DATASETS
    outputs = []
    for pipeline in (parent, always):
        dataset_cfg = copy.deepcopy(child_cfg.train_dataloader.dataset)
        dataset_cfg.update(data_root=osp.join(synthetic_root, 'det') + '/', pipeline=copy.deepcopy(pipeline))
        np.random.seed(3)
        outputs.append(DATASETS.build(dataset_cfg)[0])
    ref, dropped = (o['inputs'] for o in outputs)
    assert torch.equal(dropped[:3].float(), ref[:3].float())  # same random geometry, RGB untouched
    mean_bgr = torch.tensor(IMAGENET_MEAN[::-1]).view(3, 1, 1)
    assert torch.equal(dropped[3:].float(), mean_bgr.expand_as(dropped[3:]))
    assert torch.equal(outputs[0]['data_samples'].gt_instances.bboxes.tensor,
                       outputs[1]['data_samples'].gt_instances.bboxes.tensor)
