# Copyright (c) mmspecgene contributors. All rights reserved.
"""tools/train.py and tools/test.py on camera-size frames (1280x1024, 640x512, 3-channel grey thermal, a thermal
image at half the RGB resolution) with a state_dict-only checkpoint."""
import glob
import json
import os.path as osp
import sys

import numpy as np

from mmspecgene.testing.scripts import load_script
from mmspecgene.testing.state_dict_checkpoints import save_state_dict_only

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PRE_CFG = osp.join(REPO, 'configs/pretrain/specgene/specgene_vit-tiny-p16_1xb16-30e_synthetic.py')
DET_CFG = osp.join(REPO, 'configs/det/vitdet/vitdet_mask-rcnn_rgbt-vit-tiny_1xb4-400i_synthetic.py')


def _main(monkeypatch, script, args):
    monkeypatch.setattr(sys, 'argv', [script] + [str(a) for a in args])
    load_script(osp.join(REPO, 'tools', script)).main()


def test_pretraining_on_camera_frames_through_train_py(camera_root, tmp_path, monkeypatch):
    data = osp.join(camera_root, 'pretrain') + '/'
    work = str(tmp_path / 'pretrain')
    _main(monkeypatch, 'train.py', [
        PRE_CFG, '--work-dir', work, '--cfg-options', f'train_dataloader.dataset.data_root={data}',
        'train_dataloader.dataset.pipeline.0.size_mismatch=resize_thermal', 'train_cfg.max_epochs=2',
        'train_dataloader.batch_size=3', 'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
        'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1'
    ])
    assert osp.exists(osp.join(work, 'epoch_2.pth'))
    logs = [json.loads(line) for path in glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json'))
            for line in open(path)]
    losses = [log['loss'] for log in logs if 'loss' in log]
    assert len(losses) == 2 and all(np.isfinite(losses))


def test_det_test_py_with_a_state_dict_only_checkpoint(camera_root, tmp_path, monkeypatch):
    data = osp.join(camera_root, 'det') + '/'
    ckpt = save_state_dict_only(DET_CFG, str(tmp_path / 'det.pth'))
    metrics = tmp_path / 'metrics.json'
    _main(monkeypatch, 'test.py', [
        DET_CFG, ckpt, '--work-dir', tmp_path / 'work', '--metrics-json', metrics, '--strict-cfg-options',
        '--cfg-options', f'test_dataloader.dataset.data_root={data}',
        f'test_evaluator.ann_file={data}annotations/synthetic_test.json', 'test_dataloader.num_workers=0',
        'model.test_cfg.rcnn.max_per_img=20'
    ])
    result = json.load(open(metrics))
    assert 0 <= result['coco/bbox_mAP'] <= 1
