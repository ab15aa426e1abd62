# Copyright (c) mmspecgene contributors. All rights reserved.
"""Acceptance runs: the synthetic configs learn on CPU, through the project's CLIs (det: slow, ``--runslow``)."""
import glob
import json
import os.path as osp

import pytest

from mmspecgene.testing.scripts import run_script

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DET_CFG = 'configs/det/vitdet/vitdet_mask-rcnn_rgbt-vit-tiny_1xb4-400i_synthetic.py'
# An all-background detector scores 0. Measured on 2 CPU cores from a random init, after the config's 400
# iterations (about 7 minutes): bbox mAP 0.666, mAP50 0.898. The bound leaves room for platform differences.
MIN_DET_BBOX_MAP = 0.4
PRE_CFG = 'configs/pretrain/specgene/specgene_vit-tiny-p16_1xb16-30e_synthetic.py'
# Measured on 2 CPU cores (30 epochs of 4 iterations, about 50 s): total loss 2.49 -> 0.87, a ratio of 0.35.
MAX_PRETRAIN_LOSS_RATIO = 0.6


@pytest.mark.slow
def test_synthetic_det_config_learns(tmp_path, synthetic_root):
    """The shipped synthetic det config, unchanged apart from the data root, trains from scratch and detects."""
    data = osp.join(synthetic_root, 'det') + '/'
    ann = f'{data}annotations/synthetic_test.json'
    opts = ['--cfg-options', f'train_dataloader.dataset.data_root={data}', f'val_dataloader.dataset.data_root={data}',
            f'test_dataloader.dataset.data_root={data}', f'val_evaluator.ann_file={ann}',
            f'test_evaluator.ann_file={ann}']
    work = str(tmp_path / 'det')
    run_script(['tools/train.py', DET_CFG, '--work-dir', work] + opts, REPO)
    metrics_file = str(tmp_path / 'metrics.json')
    run_script(['tools/test.py', DET_CFG, osp.join(work, 'iter_400.pth'), '--work-dir', work, '--metrics-json',
                metrics_file] + opts, REPO)
    metrics = json.load(open(metrics_file))
    assert metrics['coco/bbox_mAP'] >= MIN_DET_BBOX_MAP, metrics
    assert metrics['coco/bbox_mAP_50'] > metrics['coco/bbox_mAP'], metrics


def test_synthetic_pretrain_config_learns(tmp_path, synthetic_root):
    """The shipped synthetic pretraining config reconstructs far better at its end than at its start."""
    work = str(tmp_path / 'pretrain')
    run_script(['tools/train.py', PRE_CFG, '--work-dir', work, '--cfg-options',
                f'train_dataloader.dataset.data_root={osp.join(synthetic_root, "pretrain")}/'], REPO)
    scalars = glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json'))
    assert len(scalars) == 1, scalars
    with open(scalars[0]) as f:
        lines = [json.loads(line) for line in f]
    logs = [line for line in lines if 'loss' in line]
    statistics = [line for line in lines if 'mask/overlap' in line]  # RGBTMaskingHook, every logger interval
    first, last = logs[0], logs[-1]
    assert last['loss'] < MAX_PRETRAIN_LOSS_RATIO * first['loss'], (first['loss'], last['loss'])
    for modality in ('rgb', 'thermal'):  # both modalities learn, not just their sum
        assert last[f'loss_{modality}'] < first[f'loss_{modality}'], modality
    assert [line['step'] for line in statistics] == [line['step'] for line in logs]
    assert all(line['mask/overlap'] == 0 for line in statistics)  # disjoint visible sets throughout
    assert last['curr/tick'] == statistics[-1]['curr/tick'] == 30  # one tick per epoch: the schedule ran to its end
    assert osp.exists(osp.join(work, 'epoch_30.pth'))
