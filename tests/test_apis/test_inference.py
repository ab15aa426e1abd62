# Copyright (c) mmspecgene contributors. All rights reserved.
"""init_rgbt_model / inference_rgbt and the demos with state_dict-only checkpoints (no ``meta``), as most shared
checkpoints are, on camera-size frames."""
import os.path as osp
import pathlib
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmspecgene.apis import inference_rgbt, init_rgbt_model
from mmspecgene.apis.inference import config_dataset_meta
from mmspecgene.datasets.metainfo import (
    SOD_CLASSES,
    SOD_PALETTE,
    SYNTHETIC_DET_CLASSES,
    SYNTHETIC_DET_PALETTE,
    SYNTHETIC_SEG_CLASSES,
    SYNTHETIC_SEG_PALETTE,
)
from mmspecgene.testing.scripts import load_script
from mmspecgene.testing.state_dict_checkpoints import save_state_dict_only

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DET_CFG = osp.join(REPO, 'configs/det/vitdet/vitdet_mask-rcnn_rgbt-vit-tiny_1xb4-400i_synthetic.py')
SEG_CFG = osp.join(REPO, 'configs/seg/upernet/upernet_rgbt-vit-tiny_1xb4-400i_synthetic.py')
SOD_CFG = osp.join(REPO, 'configs/sod/upernet/upernet-sod_rgbt-vit-tiny_1xb4-300i_synthetic.py')
SYNTHETIC_DET_METAINFO = dict(classes=SYNTHETIC_DET_CLASSES, palette=SYNTHETIC_DET_PALETTE)
SYNTHETIC_SEG_METAINFO = dict(classes=SYNTHETIC_SEG_CLASSES, palette=SYNTHETIC_SEG_PALETTE)
SYNTHETIC_SOD_METAINFO = dict(classes=SOD_CLASSES, palette=SOD_PALETTE)


def _meta(metainfo):
    return dict(classes=tuple(metainfo['classes']), palette=[tuple(c) for c in metainfo['palette']])


def _pair(root, task, split, name):
    return (osp.join(root, task, 'visible', split, name), osp.join(root, task, 'infrared', split, name))


def test_init_without_checkpoint_takes_the_config_dataset_meta():
    model = init_rgbt_model(SEG_CFG, None)
    assert _meta(model.dataset_meta) == _meta(SYNTHETIC_SEG_METAINFO)


@pytest.mark.parametrize('cfg_file, metainfo', [(DET_CFG, SYNTHETIC_DET_METAINFO), (SEG_CFG, SYNTHETIC_SEG_METAINFO),
                                                (SOD_CFG, SYNTHETIC_SOD_METAINFO)])
def test_config_dataset_meta_from_the_host_registry(cfg_file, metainfo):
    assert _meta(config_dataset_meta(Config.fromfile(cfg_file))) == _meta(metainfo)


def test_dataset_meta_follows_the_config_metainfo():
    cfg = Config.fromfile(DET_CFG)
    cfg.test_dataloader.dataset.metainfo = dict(classes=('pedestrian', 'vehicle'))
    meta = config_dataset_meta(cfg)
    assert meta['classes'] == ('pedestrian', 'vehicle') and meta['palette'] == SYNTHETIC_DET_METAINFO['palette']


def test_unregistered_dataset_type_names_the_scope():
    cfg = Config.fromfile(SEG_CFG)
    cfg.test_dataloader.dataset.type = 'NoSuchRGBTDataset'
    with pytest.raises(KeyError, match=r"'NoSuchRGBTDataset'.*scope 'mmseg'"):
        config_dataset_meta(cfg)


def _concat_test_set(cfg_file):
    """The config with its test set wrapped as the VT SOD configs wrap theirs (ConcatDataset of two)."""
    cfg = Config.fromfile(cfg_file)
    single = cfg.test_dataloader.dataset
    cfg.test_dataloader.dataset = dict(type='ConcatDataset', datasets=[single, dict(single)])
    return cfg


def test_config_dataset_meta_of_the_released_sod_concat_test_set():
    cfg = Config.fromfile(
        osp.join(REPO, 'configs/sod/upernet/upernet-sod_rgbt-vit-s-specgene_2xb1-160k_vt5000-768x768.py'))
    assert cfg.test_dataloader.dataset.type == 'ConcatDataset'
    assert config_dataset_meta(cfg)['classes'] == SOD_CLASSES


def test_wrapped_test_sets_must_agree_on_classes():
    cfg = _concat_test_set(SEG_CFG)
    cfg.test_dataloader.dataset.datasets[1].metainfo = dict(classes=('a', 'b', 'c', 'd'))
    with pytest.raises(ValueError, match=r"disagree on their classes.*\('a', 'b', 'c', 'd'\)"):
        config_dataset_meta(cfg)


def test_state_dict_only_checkpoint_with_a_concat_test_set(camera_root, tmp_path):
    ckpt = save_state_dict_only(SOD_CFG, str(tmp_path / 'sod.pth'))
    model = init_rgbt_model(_concat_test_set(SOD_CFG), ckpt)
    assert _meta(model.dataset_meta) == _meta(SYNTHETIC_SOD_METAINFO)
    result = inference_rgbt(model, *_pair(camera_root, 'sod/synthetic', 'test', '000003.png'))
    assert result.pred_sem_seg.data.shape == (1, 512, 640)


@pytest.fixture(scope='module')
def det_ckpt(tmp_path_factory):
    """A bare state_dict (no 'state_dict'/'meta' keys) of the tiny synthetic detector."""
    ckpt = save_state_dict_only(DET_CFG, str(tmp_path_factory.mktemp('det') / 'det.pth'))
    assert 'meta' not in torch.load(ckpt, weights_only=True)
    return ckpt


def test_det_state_dict_only_checkpoint_on_camera_frames(camera_root, det_ckpt):
    model = init_rgbt_model(DET_CFG, det_ckpt, cfg_options={'model.test_cfg.rcnn.max_per_img': 20})
    assert _meta(model.dataset_meta) == _meta(SYNTHETIC_DET_METAINFO)
    # 1280x1024 and 640x512 frames with 3-channel grey thermal JPEGs, resized by the test pipeline
    pairs = [_pair(camera_root, 'det', 'test', f'00000{i}.jpg') for i in (2, 3)]
    results = inference_rgbt(model, [p[0] for p in pairs], [p[1] for p in pairs], batch_size=2)
    assert [tuple(r.ori_shape) for r in results] == [(1024, 1280), (512, 640)]
    for result in results:
        boxes = result.pred_instances.bboxes
        # predictions come back in the coordinates of the original frame
        assert (boxes[:, 2] <= result.ori_shape[1] + 1).all() and (boxes[:, 3] <= result.ori_shape[0] + 1).all()


def test_paths_may_be_path_objects_and_a_mixed_call_is_named(camera_root, det_ckpt):
    model = init_rgbt_model(pathlib.Path(DET_CFG), pathlib.Path(det_ckpt))
    rgb, thermal = _pair(camera_root, 'det', 'test', '000003.jpg')
    single = inference_rgbt(model, pathlib.Path(rgb), pathlib.Path(thermal))
    listed = inference_rgbt(model, [pathlib.Path(rgb)], [thermal])
    assert single.img_path == rgb and len(listed) == 1
    torch.testing.assert_close(single.pred_instances.bboxes, listed[0].pred_instances.bboxes)
    with pytest.raises(TypeError, match=r'one path each or two sequences of paths, got rgb=.*000003\.jpg'):
        inference_rgbt(model, rgb, [thermal])
    with pytest.raises(TypeError, match='config must be a file path, an mmengine Config or a dict, got int'):
        init_rgbt_model(3)


@pytest.mark.parametrize('cfg_file, task, split, metainfo', [
    (SEG_CFG, 'seg', 'val', SYNTHETIC_SEG_METAINFO),
    (SOD_CFG, 'sod/synthetic', 'test', SYNTHETIC_SOD_METAINFO),
])
def test_seg_state_dict_only_checkpoint_on_camera_frames(camera_root, tmp_path, cfg_file, task, split, metainfo):
    ckpt = save_state_dict_only(cfg_file, str(tmp_path / 'seg.pth'), wrapped=True)
    model = init_rgbt_model(cfg_file, ckpt)
    assert _meta(model.dataset_meta) == _meta(metainfo)
    result = inference_rgbt(model, *_pair(camera_root, task, split, '000003.png'))
    assert result.pred_sem_seg.data.shape == (1, 512, 640)


def _run_demo(monkeypatch, script, args):
    monkeypatch.setattr(sys, 'argv', [script] + [str(a) for a in args])
    load_script(osp.join(REPO, 'demo', script)).main()


def test_det_demo_with_state_dict_only_checkpoint(camera_root, det_ckpt, tmp_path, monkeypatch, capsys):
    rgb, thermal = _pair(camera_root, 'det', 'test', '000003.jpg')
    out_file = tmp_path / 'det_demo.png'
    _run_demo(monkeypatch, 'rgbt_det_demo.py', [rgb, thermal, DET_CFG, det_ckpt, '--out-file', out_file,
                                                 '--score-thr', '0.6'])
    assert cv2.imread(str(out_file)).shape == (512, 1280, 3)  # RGB‖thermal at the frame's own size
    assert 'detections with score >= 0.6' in capsys.readouterr().out


def test_seg_demo_with_state_dict_only_checkpoint(camera_root, tmp_path, monkeypatch, capsys):
    ckpt = save_state_dict_only(SEG_CFG, str(tmp_path / 'seg.pth'))
    rgb, thermal = _pair(camera_root, 'seg', 'val', '000003.png')
    out_file = tmp_path / 'seg_demo.png'
    _run_demo(monkeypatch, 'rgbt_seg_demo.py', [rgb, thermal, SEG_CFG, ckpt, '--out-file', out_file])
    assert cv2.imread(str(out_file)).shape == (512, 1280, 3)
    assert 'classes present' in capsys.readouterr().out


def test_seg_batch_of_frames_with_other_aspect_ratios(tmp_path):
    """1280x1024 and 640x480 resize to different shapes: they run in separate passes, with batch-1 results."""
    rng = np.random.default_rng(0)
    rgb_paths, thermal_paths = [], []
    for width, height in ((1280, 1024), (640, 480), (640, 480)):
        rgb_paths.append(str(tmp_path / f'v{len(rgb_paths)}.jpg'))
        thermal_paths.append(str(tmp_path / f't{len(thermal_paths)}.jpg'))
        cv2.imwrite(rgb_paths[-1], rng.integers(0, 255, (height, width, 3), dtype=np.uint8))
        cv2.imwrite(thermal_paths[-1], rng.integers(0, 255, (height, width), dtype=np.uint8))
    model = init_rgbt_model(SEG_CFG, save_state_dict_only(SEG_CFG, str(tmp_path / 'seg.pth')))
    batched = inference_rgbt(model, rgb_paths, thermal_paths, batch_size=3)
    assert [tuple(r.pred_sem_seg.shape) for r in batched] == [(1024, 1280), (480, 640), (480, 640)]
    for result, rgb, thermal in zip(batched, rgb_paths, thermal_paths):
        single = inference_rgbt(model, rgb, thermal)
        torch.testing.assert_close(result.seg_logits.data, single.seg_logits.data)
