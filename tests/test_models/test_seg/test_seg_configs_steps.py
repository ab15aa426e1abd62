# Copyright (c) mmspecgene contributors. All rights reserved.
"""Every segmentation / SOD config runs a train step and a slide test step on synthetic pairs (B = 2).

For each config under configs/seg/ and configs/sod/: the model is built under the mmseg scope (SyncBN ->
BN on CPU), the config's own train and test pipelines load synthetic RGBT pairs (the config's dataset
class, pointed at the synthetic png files), a batch of 2 goes through ``model.train_step`` (config
preprocessor, UPerHead + FCN auxiliary losses, backward and a step of the config's layer-decay optimizer)
and ``model.test_step`` in slide mode. Per-sample checks (docs/en/method.md#detection (a)/(b)): the thermal half
that reaches the backbone for sample i (in every slide window) is sample i's own preprocessed thermal
image, and in eval mode the per-sample backbone features of the B = 2 batch equal the B = 1 features.
The -official-compat configs differ from their clean config only by ``to_rgb=(False, False)`` and
``PairedPhotoMetricDistortion(thermal_ops='all')`` (asserted here): by default they run the train-mode
preprocessing check without backward / optimizer step (ViT-B train steps take tens of seconds on CPU);
``--runslow`` runs their full train step too. ViT-L configs (24 blocks)
run with ``--runslow`` only (tests/test_configs.py builds them by default).

Every image size of a config (backbone ``img_size``, preprocessor ``size``, crop, resize scales, slide
crop/stride) is scaled by one factor to ``SMALL_SIZE`` so that ViT-B runs on a 3 x 3 token grid. The test
images are 160 x 128 (generated here, same generator as the ``synthetic_root`` fixture) so that the
resized test image is wider than the slide crop and the slide runs over 2 overlapping windows.
"""
import copy
import glob
import os.path as osp

import pytest
import torch

pytest.importorskip('mmseg', reason='mmseg is not installed')

from mmengine.config import Config  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from mmengine.runner import set_random_seed  # noqa: E402

from mmspecgene.testing.backbone_io import BackboneCapture, expected_rgbt_input  # noqa: E402
from mmspecgene.testing.config_utils import is_large_config, replace_type  # noqa: E402
from mmspecgene.utils import register_all_modules  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
SEG_CONFIGS = sorted(
    f for task in ('seg', 'sod') for f in glob.glob(osp.join(REPO, 'configs', task, '**', '*.py'), recursive=True)
    if '_base_' not in osp.relpath(f, REPO).split(osp.sep))
COMPAT_CONFIGS = [f for f in SEG_CONFIGS if f.endswith('-official-compat.py')]
SMALL_SIZE = 48
TEST_IMAGE_SIZE = (160, 128)  # (width, height) of the generated test pairs


def _task(path):
    return osp.relpath(path, osp.join(REPO, 'configs')).split(osp.sep)[0]


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def shrink_image_size(model_cfg, pipelines, size):
    """Scale every image size of the model and pipelines by ``size / img_size`` (in place).

    Asserts first that the config is consistent: backbone ``img_size`` = preprocessor ``size`` = crop =
    slide crop = short side of the resize scales (docs/en/method.md#segmentation-and-sod). Returns the new size and the
    slide stride.
    """
    old = _pair(model_cfg.backbone.img_size)
    assert old[0] == old[1], old
    old = old[0]
    assert _pair(model_cfg.data_preprocessor.size) == (old, old)
    assert model_cfg.test_cfg.mode == 'slide' and _pair(model_cfg.test_cfg.crop_size) == (old, old)
    steps = []
    for pipeline in pipelines:
        for step in pipeline:
            if step['type'] in ('RandomResize', 'Resize'):
                assert min(step['scale']) == old, (step, old)
                steps.append((step, 'scale'))
            elif step['type'] == 'RandomCrop':
                assert _pair(step['crop_size']) == (old, old), (step, old)
                steps.append((step, 'crop_size'))
    assert {s['type'] for s, _ in steps} == {'RandomResize', 'Resize', 'RandomCrop'}, steps
    size = min(size, old)
    assert size % model_cfg.backbone.patch_size == 0

    def scaled(values):
        out = tuple(round(v * size / old) for v in values)
        assert all(v > 0 for v in out), (values, out)
        return out

    for owner, key in steps:
        owner[key] = scaled(owner[key])
    model_cfg.backbone.img_size = size
    model_cfg.data_preprocessor.size = (size, size)
    model_cfg.test_cfg.crop_size = (size, size)
    model_cfg.test_cfg.stride = scaled(model_cfg.test_cfg.stride)
    return size, model_cfg.test_cfg.stride


def retarget_dataset(dataset_cfg, data_root, split):
    """Point a dataset config at a synthetic split (png files), keeping its dataset class (in place)."""
    for key in ('img_path', 'ir_path', 'seg_map_path'):
        prefix = dataset_cfg.data_prefix[key]
        dataset_cfg.data_prefix[key] = osp.join(osp.dirname(prefix.rstrip('/')), split)
    dataset_cfg.update(data_root=data_root, img_suffix='.png', ir_suffix='.png', seg_map_suffix='.png')
    return dataset_cfg


def load_seg_config(path, train_root, test_root, size=SMALL_SIZE):
    """(cfg, model cfg, train set cfg, test set cfg, size, stride) with synthetic data and small sizes."""
    cfg = Config.fromfile(path)
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.init_cfg = None
    replace_type(model_cfg, 'SyncBN', 'BN')
    train_set = copy.deepcopy(cfg.train_dataloader.dataset)
    test_set = copy.deepcopy(cfg.test_dataloader.dataset)
    if test_set.type == 'ConcatDataset':  # SOD: VT5000/VT1000/VT821/VI-RGBT1500 share one test pipeline
        pipelines = [d.pipeline for d in test_set.datasets]
        assert all(p == pipelines[0] for p in pipelines), path
        test_set = test_set.datasets[0]
    sod = _task(path) == 'sod'
    retarget_dataset(train_set, train_root, 'train')
    retarget_dataset(test_set, test_root, 'test' if sod else 'val')
    size, stride = shrink_image_size(model_cfg, [train_set.pipeline, test_set.pipeline], size)
    return cfg, model_cfg, train_set, test_set, size, stride


def slide_windows(height, width, crop, stride):
    """(y1, y2, x1, x2) of the slide windows, rows first (docs/en/method.md#segmentation-and-sod slide inference)."""
    rows = max(height - crop + stride[0] - 1, 0) // stride[0] + 1
    cols = max(width - crop + stride[1] - 1, 0) // stride[1] + 1
    windows = []
    for r in range(rows):
        for c in range(cols):
            y2, x2 = min(r * stride[0] + crop, height), min(c * stride[1] + crop, width)
            windows.append((max(y2 - crop, 0), y2, max(x2 - crop, 0), x2))
    return windows


@pytest.fixture(scope='module')
def wide_root(tmp_path_factory):
    """Synthetic seg and SOD test pairs of 160 x 128 (wider than one slide crop after resizing)."""
    from mmspecgene.datasets.synthetic import make_seg, make_sod
    root = str(tmp_path_factory.mktemp('synthetic_wide'))
    make_seg(root, num_train=1, num_val=2, seed=1, size=TEST_IMAGE_SIZE)
    make_sod(root, num_train=1, num_test=2, seed=1, size=TEST_IMAGE_SIZE)
    return root


def test_seg_configs_found():
    names = [osp.basename(f) for f in SEG_CONFIGS]
    for dataset in ('semanticrt', 'mvseg', 'fmb', 'vt5000', 'synthetic'):
        assert any(f'_{dataset}' in n for n in names), (dataset, names)
    assert {_task(f) for f in SEG_CONFIGS} == {'seg', 'sod'}
    assert len(COMPAT_CONFIGS) == 4, COMPAT_CONFIGS
    for path in COMPAT_CONFIGS:
        assert path.replace('-official-compat', '') in SEG_CONFIGS, path


@pytest.mark.parametrize('path', COMPAT_CONFIGS, ids=[osp.basename(f) for f in COMPAT_CONFIGS])
def test_official_compat_config_differs_only_by_the_preset(path):
    compat = Config.fromfile(path)
    clean = Config.fromfile(path.replace('-official-compat', ''))
    compat_pre, clean_pre = compat.model.data_preprocessor.to_dict(), clean.model.data_preprocessor.to_dict()
    assert tuple(clean_pre['to_rgb']) == (True, True)
    assert tuple(compat_pre['to_rgb']) == (False, False)
    assert dict(compat_pre, to_rgb=None) == dict(clean_pre, to_rgb=None)
    compat_model, clean_model = compat.model.to_dict(), clean.model.to_dict()
    compat_model.pop('data_preprocessor'), clean_model.pop('data_preprocessor')
    assert compat_model == clean_model
    for key in ('val_dataloader', 'test_dataloader', 'optim_wrapper', 'param_scheduler', 'train_cfg', 'default_scope'):
        assert compat[key] == clean[key], key
    # the released training also applied the HSV steps of the photometric distortion to the thermal half
    compat_train, clean_train = compat.train_dataloader.to_dict(), clean.train_dataloader.to_dict()
    distortions = [i for i, t in enumerate(clean_train['dataset']['pipeline'])
                   if t['type'] == 'PairedPhotoMetricDistortion']
    assert len(distortions) == 1 and 'thermal_ops' not in clean_train['dataset']['pipeline'][distortions[0]]
    assert compat_train['dataset']['pipeline'][distortions[0]] == dict(type='PairedPhotoMetricDistortion',
                                                                       thermal_ops='all')
    compat_train['dataset']['pipeline'][distortions[0]].pop('thermal_ops')
    assert compat_train == clean_train
    from mmspecgene.datasets.transforms.photometric import THERMAL_OPS, PairedPhotoMetricDistortion
    assert PairedPhotoMetricDistortion(thermal_ops='all').thermal_ops == THERMAL_OPS
    assert PairedPhotoMetricDistortion().thermal_ops == ('brightness', 'contrast')
    if _task(path) == 'seg':
        assert compat.val_evaluator == clean.val_evaluator and compat.test_evaluator == clean.test_evaluator
        return
    # SOD: the released numbers were measured on hard masks with weighted-F beta^2 = 0.3
    # (docs/en/method.md#segmentation-and-sod)
    register_all_modules('seg', init_default_scope=False)
    from mmseg.registry import METRICS
    for key, name in (('val_evaluator', 'vt5000'), ('test_evaluator', 'auto')):
        assert clean[key].pred_mode == 'soft' and clean[key].get('wf_beta2') is None, key
        assert clean[key].dataset_name == name
        expected = dict(type='SODMetric', pred_mode='hard', dataset_name=name, wf_beta2=0.3)
        assert compat[key].to_dict() == expected, (key, compat[key])
        with DefaultScope.overwrite_default_scope('mmseg'):
            metric = METRICS.build(compat[key])
        assert (metric.pred_mode, metric.dataset_name, metric.wf_beta2) == ('hard', name, 0.3)


def _step_cases():
    """Every config with a full train step; the -official-compat configs (same model, loss, optimizer and
    data as their clean config, see the test above) check the train-mode preprocessing without
    backward/optimizer by default and run the full train step with --runslow."""
    cases = []
    for path in SEG_CONFIGS:
        name = osp.basename(path)
        if is_large_config(path):  # ViT-L: tests/test_configs.py builds it by default
            cases.append(pytest.param(path, True, id=name, marks=pytest.mark.slow))
        elif path in COMPAT_CONFIGS:
            cases.append(pytest.param(path, False, id=f'{name}-no-optim-step'))
            cases.append(pytest.param(path, True, id=name, marks=pytest.mark.slow))
        else:
            cases.append(pytest.param(path, True, id=name))
    return cases


def check_train_step(cfg, model, train_items, size, to_rgb, optimizer_step=True):
    """B = 2 train step with the config's preprocessor, losses and layer-decay optimizer; the backbone
    receives each sample's own [RGB | T], normalised and zero-padded to ``size``."""
    batch = pseudo_collate(train_items)
    if not optimizer_step:
        model.train()
        with torch.no_grad():
            train_inputs = model.data_preprocessor(batch, True)['inputs']
    else:
        optim_cfg = copy.deepcopy(cfg.optim_wrapper)
        if optim_cfg.type == 'AmpOptimWrapper':  # AMP needs CUDA
            optim_cfg.type = 'OptimWrapper'
            optim_cfg.pop('loss_scale', None)
        optim_wrapper = build_optim_wrapper(model, optim_cfg)
        last = model.backbone.out_indices[-1]
        watched = ['backbone.pos_embed', 'backbone.layers.0.attn.qkv.weight', f'backbone.layers.{last}.gamma_2',
                   'neck.upsample_4x.0.weight', 'decode_head.conv_seg.weight', 'decode_head.fpn_bottleneck.conv.weight',
                   'auxiliary_head.conv_seg.weight']
        params = dict(model.named_parameters())
        before = {k: params[k].detach().clone() for k in watched}
        capture = BackboneCapture(model.backbone)
        model.train()
        log_vars = model.train_step(batch, optim_wrapper)
        capture.remove()
        for key in ('loss', 'decode.loss_ce', 'aux.loss_ce'):
            assert key in log_vars, (key, sorted(log_vars))
            assert torch.isfinite(torch.as_tensor(log_vars[key])), (key, log_vars[key])
        for key in watched:
            assert torch.isfinite(params[key]).all(), key
            assert not torch.equal(params[key], before[key]), f'{key} was not updated by the train step'
        (train_inputs, ) = capture.inputs
    assert train_inputs.shape == (2, 6, size, size)
    for i, item in enumerate(train_items):
        torch.testing.assert_close(train_inputs[i], expected_rgbt_input(item['inputs'], (size, size), to_rgb))
    assert not torch.allclose(train_inputs[1, 3:6], train_inputs[0, 3:6])


@pytest.mark.parametrize('path, optimizer_step', _step_cases())
def test_seg_config_train_and_test_step(path, optimizer_step, synthetic_root, wide_root):
    register_all_modules('seg', init_default_scope=False)
    from mmseg.registry import DATASETS, MODELS
    sod = _task(path) == 'sod'
    sub = osp.join('sod', 'synthetic') if sod else 'seg'
    train_root = osp.join(synthetic_root, sub) + osp.sep
    test_root = osp.join(wide_root, sub) + osp.sep
    with DefaultScope.overwrite_default_scope('mmseg'):
        cfg, model_cfg, train_cfg, test_cfg, size, stride = load_seg_config(path, train_root, test_root)
        to_rgb = tuple(model_cfg.data_preprocessor.to_rgb)
        set_random_seed(0)  # model init and the random train transforms (python, numpy, torch)
        model = MODELS.build(copy.deepcopy(model_cfg))
        model.init_weights()
        assert not any('SyncBatchNorm' in type(m).__name__ for m in model.modules())
        with torch.no_grad():  # non-zero relative position bias, so that it takes part in the checks
            for name, param in model.backbone.named_parameters():
                if 'relative_position_bias_table' in name:
                    param.normal_(std=0.02)
        train_set = DATASETS.build(copy.deepcopy(train_cfg))
        test_set = DATASETS.build(copy.deepcopy(test_cfg))
        assert type(train_set).__name__ == cfg.train_dataloader.dataset.type
        num_classes = len(train_set.metainfo['classes'])
        assert model.decode_head.num_classes == model.auxiliary_head.num_classes == num_classes
        assert not sod or num_classes == 2

        # ---- train step: config preprocessor + losses + backward + optimizer step (B = 2)
        check_train_step(cfg, model, [train_set[0], train_set[1]], size, to_rgb, optimizer_step)

        # ---- slide test step (B = 2), then per-sample checks against B = 1
        model.eval()
        test_items = [test_set[0], test_set[1]]
        height, width = test_items[0]['inputs'].shape[1:]
        assert (width, height) == (round(TEST_IMAGE_SIZE[0] * size / TEST_IMAGE_SIZE[1]), size)
        windows = slide_windows(height, width, size, stride)
        assert len(windows) == 2
        capture = BackboneCapture(model.backbone)
        with torch.no_grad():
            results = model.test_step(pseudo_collate(test_items))
        capture.remove()
        assert len(results) == 2
        for item, result in zip(test_items, results):
            assert result.img_path == item['data_samples'].img_path
            assert tuple(result.ori_shape) == (TEST_IMAGE_SIZE[1], TEST_IMAGE_SIZE[0])
            pred = result.pred_sem_seg.data
            assert pred.shape == (1, *result.ori_shape) and pred.dtype == torch.int64
            assert ((pred >= 0) & (pred < num_classes)).all()
            logits = result.seg_logits.data
            assert logits.shape == (num_classes, *result.ori_shape) and torch.isfinite(logits).all()
            torch.testing.assert_close(pred[0], logits.argmax(0), rtol=0, atol=0)
        assert len(capture.inputs) == len(windows)  # one backbone call per window, on the whole batch

        with torch.no_grad():
            alone = [model.data_preprocessor(pseudo_collate([item]), False)['inputs'] for item in test_items]
        for i, item in enumerate(test_items):
            assert alone[i].shape == (1, 6, height, width)
            torch.testing.assert_close(alone[i][0], expected_rgbt_input(item['inputs'], (height, width), to_rgb))
        for (y1, y2, x1, x2), window_inputs, window_features in zip(windows, capture.inputs, capture.features):
            assert window_inputs.shape == (2, 6, size, size)
            assert len(window_features) == len(model.backbone.out_indices)
            for feature in window_features:
                assert feature.shape == (2, 2 * model.backbone.embed_dims, size // 16, size // 16)
            # (a) sample i's thermal half is sample i's own preprocessed thermal (not sample j's, not its RGB)
            for i in range(2):
                torch.testing.assert_close(window_inputs[i], alone[i][0, :, y1:y2, x1:x2], rtol=0, atol=0)
            assert not torch.allclose(window_inputs[1, 3:6], window_inputs[0, 3:6])
            assert not torch.allclose(window_inputs[1, 3:6], window_inputs[1, 0:3])

        # (b) eval mode: per-sample features of the B = 2 batch equal the B = 1 features (first window)
        with torch.no_grad():
            for i in range(2):
                single = model.backbone(capture.inputs[0][i:i + 1])
                for one, batch in zip(single, capture.features[0]):
                    torch.testing.assert_close(one[0], batch[i], rtol=1e-4, atol=1e-4)
