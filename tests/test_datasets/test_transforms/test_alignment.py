# Copyright (c) mmspecgene contributors. All rights reserved.
"""RGB and thermal stay pixel-aligned through every geometric transform of the shipped pipelines.

The thermal file holds the same position-encoding picture as the RGB file (R = column, G = row), so the
two halves of the stack must be identical after any geometric step, whatever its random draw.
"""
import copy
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

from mmspecgene.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
NON_GEOMETRIC = ('PairedPhotoMetricDistortion', 'LoadAnnotations', 'FilterAnnotations')
PIPELINES = [
    ('det', 'configs/det/_base_/datasets/kaist_rgbt.py', 'train_pipeline'),
    ('det', 'configs/det/_base_/datasets/kaist_rgbt.py', 'test_pipeline'),
    ('det', 'configs/det/_base_/datasets/synthetic_rgbt.py', 'train_pipeline'),
    ('seg', 'configs/seg/_base_/datasets/semanticrt_rgbt.py', 'train_pipeline'),
    ('seg', 'configs/seg/_base_/datasets/semanticrt_rgbt.py', 'test_pipeline'),
    ('seg', 'configs/sod/_base_/datasets/vt_sod_rgbt.py', 'train_pipeline'),
    ('pretrain', 'configs/pretrain/_base_/datasets/rgbt550k.py', 'train_pipeline'),
    ('pretrain', 'configs/pretrain/_base_/datasets/synthetic_pairs.py', 'train_pipeline'),
]
PRETRAIN_PIPELINES = [p for p in PIPELINES if p[0] == 'pretrain']


def _position_image(h, w):
    cols, rows = np.meshgrid(np.arange(w), np.arange(h))
    return np.dstack([(rows * 7) % 251, (cols * 5) % 253, (rows + cols) % 255]).astype(np.uint8)


@pytest.fixture(scope='module')
def position_pair(tmp_path_factory):
    root = tmp_path_factory.mktemp('align')
    img = _position_image(256, 320)
    rgb, ir = str(root / 'rgb.png'), str(root / 'ir.png')
    cv2.imwrite(rgb, img)
    cv2.imwrite(ir, img)
    seg = str(root / 'seg.png')
    cv2.imwrite(seg, (np.arange(256 * 320).reshape(256, 320) % 5).astype(np.uint8))
    return rgb, ir, seg


def _geometric_steps(cfg_path, key):
    steps = Config.fromfile(osp.join(REPO, cfg_path))[key]
    kept = []
    for step in steps:
        step = copy.deepcopy(step)
        if step['type'] in NON_GEOMETRIC:
            continue
        if step['type'].startswith('Pack'):
            break
        if step['type'] == 'RandomCrop' and 'cat_max_ratio' in step:
            step.pop('cat_max_ratio')  # needs a segmentation map; geometry is unchanged
        if step['type'] == 'LoadRGBTImagePair':
            step['thermal_mode'] = 'auto'
        if step['type'] == 'LoadRGBTRandomResizedCrop':
            step['thermal_grey'] = False  # the thermal file is the colour position picture
        kept.append(step)
    return kept


@pytest.mark.parametrize('task,cfg_path,key', PIPELINES)
def test_halves_stay_aligned(task, cfg_path, key, position_pair):
    register_all_modules(task)
    init_default_scope(dict(pretrain='mmpretrain', det='mmdet', seg='mmseg')[task])
    steps = _geometric_steps(cfg_path, key)
    types = [s['type'] for s in steps]
    assert any(t not in ('LoadRGBTImagePair', ) for t in types), types
    pipeline = Compose(steps)
    rgb, ir, _ = position_pair
    np.random.seed(0)
    for trial in range(12):
        out = pipeline(dict(img_path=rgb, ir_path=ir))
        img = out['img']
        assert img.shape[2] == 6, (types, img.shape)
        np.testing.assert_array_equal(img[..., :3], img[..., 3:], err_msg=f'{cfg_path}:{key} trial {trial}')
        assert img[..., :3].std() > 0  # the content really varies with position


@pytest.fixture(scope='module')
def position_jpeg_pair(tmp_path_factory):
    """The position picture as one camera-sized 1280×1024 JPEG used for both halves: DCT-scaled decoding."""
    root = tmp_path_factory.mktemp('align_jpeg')
    path = str(root / 'pos.jpg')
    cv2.imwrite(path, _position_image(1024, 1280), [cv2.IMWRITE_JPEG_QUALITY, 92])
    return path, path


@pytest.mark.parametrize('task,cfg_path,key', PRETRAIN_PIPELINES)
def test_crop_aware_halves_stay_aligned_on_jpeg(task, cfg_path, key, position_jpeg_pair):
    """The shipped crop-aware pretraining pipelines at reduced DCT scales keep the halves pixel-aligned."""
    register_all_modules(task)
    init_default_scope('mmpretrain')
    steps = _geometric_steps(cfg_path, key)
    assert steps[0]['type'] == 'LoadRGBTRandomResizedCrop', steps
    pipeline = Compose(steps)
    rgb, ir = position_jpeg_pair
    np.random.seed(0)
    scales = set()
    for trial in range(8):
        out = pipeline(dict(img_path=rgb, ir_path=ir))
        scales.add(out['decode_scale'][0])
        np.testing.assert_array_equal(out['img'][..., :3], out['img'][..., 3:], err_msg=f'{cfg_path} trial {trial}')
    assert max(scales) > 1, scales


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
def test_random_resized_crop_backends(backend, position_pair):
    from mmspecgene.datasets.transforms import LoadRGBTImagePair, RGBTRandomResizedCrop
    rgb, ir, _ = position_pair
    np.random.seed(1)
    for _ in range(5):
        out = RGBTRandomResizedCrop(scale=64, backend=backend)(LoadRGBTImagePair()(dict(img_path=rgb, ir_path=ir)))
        assert out['img'].shape == (64, 64, 6)
        np.testing.assert_array_equal(out['img'][..., :3], out['img'][..., 3:])
