# Copyright (c) mmspecgene contributors. All rights reserved.
"""Every config under configs/: loads, runs in its host scope, builds its model and pipelines (ViT-L configs too:
the build-only check of the large variants), its layer-decay groups cover every trainable parameter once over the
backbone's own depth, and its test pipeline turns a synthetic pair into a packed 6-channel sample."""
import copy
import glob
import os.path as osp
from collections import Counter

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope

from mmspecgene.testing.optim_checks import check_layer_decay_groups
from mmspecgene.utils import TASK_SCOPES, register_all_modules

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
ALL_FILES = sorted(glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True))
CONFIGS = [f for f in ALL_FILES if '_base_' not in f.split(osp.sep)]
SCOPE_TASK = {scope: task for task, scope in TASK_SCOPES.items()}


def _rel(path):
    return osp.relpath(path, REPO)


def test_configs_exist_and_basenames_unique():
    assert len(CONFIGS) > 0
    counts = Counter(osp.basename(f) for f in CONFIGS)
    assert not [name for name, n in counts.items() if n > 1]
    for task in ('pretrain', 'det', 'seg', 'sod', 'match'):
        assert any(f.endswith('_synthetic.py') for f in CONFIGS if f'/configs/{task}/' in f), task


def test_scope_and_imports_only_in_default_runtime():
    for path in ALL_FILES:
        text = open(path, encoding='utf-8').read()
        is_runtime = path.endswith(osp.join('_base_', 'default_runtime.py'))
        for key in ('default_scope', 'custom_imports'):
            assert (f'{key} =' in text) == is_runtime, f'{_rel(path)}: {key} must be set in default_runtime only'


def _image_sizes(cfg):
    """Every value that the single det image_size must drive."""
    sizes = {'backbone.img_size': cfg.model.backbone.img_size}
    for aug in cfg.model.data_preprocessor.get('batch_augments') or []:
        sizes['batch pad'] = aug['size'][0]
    for step in cfg.train_dataloader.dataset.pipeline + cfg.test_dataloader.dataset.pipeline:
        if step['type'] in ('RandomResize', 'Resize'):
            sizes[step['type']] = max(step['scale'])
        elif step['type'] == 'RandomCrop':
            sizes['RandomCrop'] = step['crop_size'][0]
        elif step['type'] == 'RGBTPad':
            sizes['RGBTPad'] = step['size'][0]
    return sizes


def _sample_pair(task, root):
    if task == 'pretrain':
        rgb = glob.glob(osp.join(root, 'pretrain', 'visible', '**', '*.jpg'), recursive=True)[0]
        return rgb, rgb.replace(osp.join('pretrain', 'visible'), osp.join('pretrain', 'infrared'))
    sub = dict(det=('det', 'test', '*.jpg'), seg=('seg', 'val', '*.png'), match=('det', 'test', '*.jpg'))[task]
    rgb = sorted(glob.glob(osp.join(root, sub[0], 'visible', sub[1], sub[2])))[0]
    return rgb, rgb.replace(osp.join(sub[0], 'visible'), osp.join(sub[0], 'infrared'))


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.basename(f) for f in CONFIGS])
def test_config_builds(path, synthetic_root):
    cfg = Config.fromfile(path)
    scope = cfg.default_scope
    assert scope in SCOPE_TASK, f'{_rel(path)}: default_scope={scope!r}'
    task = SCOPE_TASK[scope]
    assert cfg.custom_imports['imports'] == [f'mmspecgene.{task}']
    register_all_modules(task, init_default_scope=False)
    import importlib
    registry = importlib.import_module(f'{scope}.registry')
    with DefaultScope.overwrite_default_scope(scope):
        model_cfg = copy.deepcopy(cfg.model)
        model = registry.MODELS.build(model_cfg)
        assert sum(p.numel() for p in model.parameters()) > 0
        if cfg.get('optim_wrapper', {}).get('constructor') == 'RGBTLayerDecayOptimWrapperConstructor':
            check_layer_decay_groups(model, cfg.optim_wrapper)
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            if loader in cfg:
                Compose(copy.deepcopy(cfg[loader].dataset.get('pipeline') or
                                      cfg[loader].dataset.datasets[0].pipeline))
        if scope == 'mmdet':
            sizes = _image_sizes(cfg)
            assert len(set(sizes.values())) == 1, f'{_rel(path)}: image_size disagrees: {sizes}'
        dataset_cfg = cfg.get('test_dataloader', cfg.train_dataloader).dataset
        pipeline_cfg = dataset_cfg.get('pipeline') or dataset_cfg.datasets[0].pipeline
        steps = [s for s in copy.deepcopy(pipeline_cfg) if s['type'] != 'LoadAnnotations']
        rgb, ir = _sample_pair(SCOPE_TASK[scope], synthetic_root)
        info = dict(img_path=rgb, ir_path=ir, img_id=0)
        if task == 'match':  # matching test pipelines warp by the pair's fixed homography (from homography_file)
            info.update(warp_homography=np.eye(3), warp_modality='thermal')
        packed = Compose(steps)(info)
        single_modality = any(step['type'] == 'SelectModality' for step in steps)  # e.g. the stage-0 MAE configs
        assert packed['inputs'].shape[0] == (3 if single_modality else 6)
        assert packed['data_samples'].ir_path == ir
