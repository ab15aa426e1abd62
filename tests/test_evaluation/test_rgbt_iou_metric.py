# Copyright (c) mmspecgene contributors. All rights reserved.
"""RGBTIoUMetric: the host IoUMetric's keys plus mIoU without background; format-only submission mode."""
import os

import numpy as np
import pytest
import torch

pytest.importorskip('mmseg')
from mmseg.evaluation import IoUMetric  # noqa: E402

from mmspecgene.seg.metrics import RGBTIoUMetric  # noqa: E402

CLASSES = ('Background', 'Person', 'Car')


def _sample(pred, gt, name):
    return dict(pred_sem_seg=dict(data=torch.as_tensor(pred)[None]), gt_sem_seg=dict(data=torch.as_tensor(gt)[None]),
                img_path=f'visible/test/{name}.png')


def _evaluate(metric, samples):
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def test_miou_without_background_next_to_the_host_keys():
    gt = np.array([[0, 0, 1, 1], [0, 2, 2, 1]])
    pred = np.array([[0, 1, 1, 1], [0, 2, 0, 1]])
    samples = [_sample(pred, gt, 'a')]
    ours, host = _evaluate(RGBTIoUMetric(), samples), _evaluate(IoUMetric(), samples)
    assert {k: v for k, v in ours.items() if k != 'mIoU_excl_bg'} == host
    # IoU: background 2/4, person 3/4, car 1/2
    assert ours['mIoU'] == pytest.approx(100 * (0.5 + 0.75 + 0.5) / 3, abs=0.01)
    assert ours['mIoU_excl_bg'] == pytest.approx(100 * (0.75 + 0.5) / 2, abs=0.01)


def test_format_only_writes_predictions_and_computes_nothing(tmp_path):
    metric = RGBTIoUMetric(format_only=True, output_dir=str(tmp_path))
    metrics = _evaluate(metric, [_sample(np.zeros((4, 4), np.int64), np.zeros((4, 4), np.int64), 'b')])
    assert metrics == {}
    assert os.listdir(tmp_path) == ['b.png']
