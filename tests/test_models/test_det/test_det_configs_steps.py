# Copyright (c) mmspecgene contributors. All rights reserved.
"""Every detection config under configs/det/ runs a train step and a test step on synthetic pairs (B = 2).

For each config: the model is built under the mmdet scope, the config's own train and test pipelines
load synthetic RGBT pairs, a batch of 2 goes through ``model.train_step`` (config preprocessor, loss,
backward and a step of the config's layer-decay optimizer) and ``model.test_step``. Per-sample checks
(docs/en/method.md#detection (a)/(b)): the thermal half that reaches the backbone for sample i is sample i's own
thermal image, and in eval mode the per-sample backbone features of the B = 2 batch equal the B = 1
features.

ViT-L configs (24 blocks) run with --runslow only (tests/test_configs.py builds them by default).
ViT-S/B/L configs keep their model (built for 960, so the pos-embed and global rel-pos tables are resized
at runtime) while the pipelines and the fixed batch pad run at ``SMALL_SIZE``; proposal and RoI-sampler
counts are reduced to keep the CPU time low (settings of the samplers, not of the architecture), and the
test score threshold is 0 so that a randomly initialised model still returns detections for every image.
"""
import copy
import glob
import json
import os.path as osp

import pytest
import torch

pytest.importorskip('mmdet', reason='mmdet is not installed')

from mmengine.config import Config  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from mmengine.runner import set_random_seed  # noqa: E402

from mmspecgene.testing.backbone_io import BackboneCapture, expected_rgbt_input  # noqa: E402
from mmspecgene.testing.config_utils import is_large_config  # noqa: E402
from mmspecgene.utils import register_all_modules  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
DET_CONFIGS = sorted(
    f for f in glob.glob(osp.join(REPO, 'configs', 'det', '**', '*.py'), recursive=True)
    if '_base_' not in osp.relpath(f, REPO).split(osp.sep))
SMALL_SIZE = 192


def _size_steps(cfg):
    """(owner, key) of every value the single det image size drives (docs/en/method.md#detection)."""
    steps = []
    for aug in cfg.model.data_preprocessor.get('batch_augments') or []:
        if aug['type'] == 'BatchFixedSizePad':
            steps.append((aug, 'size'))
    for loader in ('train_dataloader', 'test_dataloader'):
        for step in cfg[loader].dataset.pipeline:
            key = dict(RandomResize='scale', Resize='scale', RandomCrop='crop_size', RGBTPad='size').get(step['type'])
            if key is not None:
                steps.append((step, key))
    return steps


def shrink_image_size(cfg, size):
    """Run the pipelines and the batch pad at ``size`` instead of the config's image size (model unchanged)."""
    steps = _size_steps(cfg)
    found = {tuple(owner[key]) for owner, key in steps}
    assert len(found) == 1 and len(next(iter(found))) == 2, f'{cfg.filename}: image sizes disagree: {found}'
    old = next(iter(found))
    assert old[0] == old[1] == cfg.model.backbone.img_size, f'{cfg.filename}: pipeline {old} vs model img_size'
    size = min(size, old[0])
    for owner, key in steps:
        owner[key] = (size, size)
    return size


def retarget_annotations(src_file, dst_file, classes):
    """The synthetic det json with ``classes`` as its categories (in that order); other labels are dropped."""
    with open(src_file) as f:
        data = json.load(f)
    name_of = {cat['id']: cat['name'] for cat in data['categories']}
    data['categories'] = [dict(id=i + 1, name=name) for i, name in enumerate(classes)]
    data['annotations'] = [
        dict(ann, category_id=classes.index(name_of[ann['category_id']]) + 1) for ann in data['annotations']
        if name_of[ann['category_id']] in classes
    ]
    for i, ann in enumerate(data['annotations']):
        ann['id'] = i + 1
    with open(dst_file, 'w') as f:
        json.dump(data, f)
    return dst_file


def load_det_config(path, synthetic_root, ann_dir, size=SMALL_SIZE):
    """Config with the synthetic det set as data, small pipelines, no pretrained file, few proposals."""
    from mmdet.registry import DATASETS
    cfg = Config.fromfile(path)
    det_root = osp.join(synthetic_root, 'det') + osp.sep
    size = shrink_image_size(cfg, size)
    classes = DATASETS.get(cfg.train_dataloader.dataset.type).METAINFO['classes']
    tag = '_'.join(classes)
    for loader, split in (('train_dataloader', 'train'), ('val_dataloader', 'test'), ('test_dataloader', 'test')):
        ann_file = osp.join(ann_dir, f'{tag}_{split}.json')
        if not osp.exists(ann_file):
            retarget_annotations(osp.join(det_root, 'annotations', f'synthetic_{split}.json'), ann_file, classes)
        cfg[loader].dataset.update(data_root=det_root, ann_file=ann_file)
    cfg.model.backbone.init_cfg = None
    cfg.model.train_cfg.rpn_proposal.update(nms_pre=300, max_per_img=100)
    cfg.model.train_cfg.rcnn.sampler.num = 64
    cfg.model.test_cfg.rpn.update(nms_pre=300, max_per_img=50)
    cfg.model.test_cfg.rcnn.score_thr = 0.0  # random weights: keep every detection so that each image has some
    return cfg, size


@pytest.fixture(scope='module')
def ann_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp('det_anns'))


def test_det_configs_found():
    names = [osp.basename(f) for f in DET_CONFIGS]
    assert len(names) >= 4, names
    for dataset in ('kaist', 'llvip', 'flir', 'synthetic'):
        assert any(n.endswith(f'_{dataset}.py') for n in names), (dataset, names)


@pytest.mark.parametrize('path', [
    pytest.param(f, id=osp.basename(f), marks=[pytest.mark.slow] if is_large_config(f) else []) for f in DET_CONFIGS
])
def test_det_config_train_and_test_step(path, synthetic_root, ann_dir):
    register_all_modules('det', init_default_scope=False)
    from mmdet.registry import DATASETS, MODELS
    with DefaultScope.overwrite_default_scope('mmdet'):
        cfg, size = load_det_config(path, synthetic_root, ann_dir)
        set_random_seed(0)  # model init and the random train transforms (python, numpy, torch)
        model = MODELS.build(copy.deepcopy(cfg.model))
        model.init_weights()
        with torch.no_grad():  # non-zero relative positions, so they take part in the checks
            for name, param in model.backbone.named_parameters():
                if 'rel_pos' in name:
                    param.normal_(std=0.02)
        train_set = DATASETS.build(copy.deepcopy(cfg.train_dataloader.dataset))
        test_set = DATASETS.build(copy.deepcopy(cfg.test_dataloader.dataset))
        num_classes = len(train_set.metainfo['classes'])
        assert model.roi_head.bbox_head.num_classes == num_classes
        assert model.roi_head.mask_head.num_classes == num_classes

        # ---- train step: config preprocessor + loss + backward + optimizer step (B = 2)
        optim_cfg = copy.deepcopy(cfg.optim_wrapper)
        optim_cfg.type = 'OptimWrapper'  # AMP needs CUDA
        optim_wrapper = build_optim_wrapper(model, optim_cfg)
        watched = ['backbone.blocks.0.attn.qkv.weight', 'neck.fpn1.0.weight', 'rpn_head.rpn_cls.weight',
                   'roi_head.bbox_head.fc_cls.weight', 'roi_head.mask_head.conv_logits.weight']
        params = dict(model.named_parameters())
        before = {k: params[k].detach().clone() for k in watched}
        train_items = [train_set[0], train_set[1]]
        capture = BackboneCapture(model.backbone)
        model.train()
        log_vars = model.train_step(pseudo_collate(train_items), optim_wrapper)
        capture.remove()
        for key in ('loss', 'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox', 'loss_mask'):
            assert key in log_vars, (key, sorted(log_vars))
            assert torch.isfinite(torch.as_tensor(log_vars[key])), (key, log_vars[key])
        for key in watched:
            assert torch.isfinite(params[key]).all(), key
            assert not torch.equal(params[key], before[key]), f'{key} was not updated by the train step'
        (train_inputs, ) = capture.inputs
        assert train_inputs.shape == (2, 6, size, size)
        for i, item in enumerate(train_items):
            torch.testing.assert_close(train_inputs[i], expected_rgbt_input(item['inputs'], (size, size)))

        # ---- test step (B = 2), then per-sample checks against B = 1
        model.eval()
        test_items = [test_set[0], test_set[1]]
        capture = BackboneCapture(model.backbone)
        with torch.no_grad():
            results = model.test_step(pseudo_collate(test_items))
        capture.remove()
        assert len(results) == 2
        for item, result in zip(test_items, results):
            assert result.img_id == item['data_samples'].img_id
            pred = result.pred_instances
            assert {'bboxes', 'scores', 'labels', 'masks'} <= set(pred.keys())
            assert 0 < len(pred) <= cfg.model.test_cfg.rcnn.max_per_img
            assert torch.isfinite(pred.bboxes).all() and torch.isfinite(pred.scores).all()
            assert (pred.scores >= cfg.model.test_cfg.rcnn.score_thr).all()
            assert ((pred.labels >= 0) & (pred.labels < num_classes)).all()
            ori_h, ori_w = result.ori_shape
            assert (pred.bboxes[:, 0::2] <= ori_w + 1e-3).all() and (pred.bboxes[:, 1::2] <= ori_h + 1e-3).all()
            assert pred.masks.shape[1:] == (ori_h, ori_w)
        (batch_inputs, ) = capture.inputs
        ((batch_features, ), ) = capture.features
        assert batch_inputs.shape == (2, 6, size, size)
        assert batch_features.shape == (2, 2 * model.backbone.embed_dims, size // 16, size // 16)

        # (a) sample 1's thermal half is sample 1's own thermal image, not sample 0's and not its RGB
        with torch.no_grad():
            alone = model.data_preprocessor(pseudo_collate([test_items[1]]), False)['inputs']
        assert alone.shape == (1, 6, size, size)
        torch.testing.assert_close(batch_inputs[1, 3:6], alone[0, 3:6], rtol=0, atol=0)
        torch.testing.assert_close(batch_inputs[1], expected_rgbt_input(test_items[1]['inputs'], (size, size)))
        torch.testing.assert_close(batch_inputs[0], expected_rgbt_input(test_items[0]['inputs'], (size, size)))
        assert not torch.allclose(batch_inputs[1, 3:6], batch_inputs[0, 3:6])
        assert not torch.allclose(batch_inputs[1, 3:6], batch_inputs[1, 0:3])

        # (b) eval mode: per-sample features of the B = 2 batch equal the B = 1 features
        with torch.no_grad():
            for i in range(2):
                (single, ) = model.backbone(batch_inputs[i:i + 1])
                torch.testing.assert_close(single[0], batch_features[i], rtol=1e-4, atol=1e-4)
