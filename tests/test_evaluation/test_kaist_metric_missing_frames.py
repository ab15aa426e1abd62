# Copyright (c) mmspecgene contributors. All rights reserved.
"""KAISTMissRateMetric on part of the test set: evaluated on the processed frames only, with a WARNING."""
import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from mmspecgene.evaluation import KAISTMissRateMetric
from mmspecgene.evaluation.kaist_mr import KAISTDetections, evaluate_kaist, load_detections, load_kaist_gt
from mmspecgene.testing.logs import captured_log_records

DATA = Path(__file__).resolve().parents[2].parent / 'shared' / 'data' / 'kaist_eval'
ANN = DATA / 'KAIST_annotation.json'
pytestmark = pytest.mark.skipif(not ANN.is_file(), reason=f'KAIST evaluation ground truth not found: {ANN}')


def _sample(gt, dets, position):
    mine = dets.image_index == position
    boxes = torch.as_tensor(dets.boxes[mine], dtype=torch.float64)
    return dict(img_path=f'data/kaist/visible/{gt.frame_keys[position]}.jpg',
                pred_instances=dict(bboxes=torch.cat([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], 1),
                                    scores=torch.as_tensor(dets.scores[mine]),
                                    labels=torch.zeros(int(mine.sum()), dtype=torch.long)))


@pytest.mark.parametrize('faithful_quirks', [True, False])
def test_half_the_frames_are_evaluated_on_their_own(faithful_quirks):
    gt = load_kaist_gt(str(ANN))
    dets = load_detections(str(DATA / 'MLPD_result.txt'), gt)
    positions = np.random.default_rng(0).permutation(gt.num_images)[:gt.num_images // 2]
    metric = KAISTMissRateMetric(str(ANN), setups='reasonable', faithful_quirks=faithful_quirks)
    metric.process({}, [_sample(gt, dets, int(p)) for p in positions])
    with captured_log_records() as records:
        metrics = metric.compute_metrics(metric.results)
    warnings = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    assert any(f'{gt.num_images - len(positions)} of {gt.num_images} evaluator frames were not processed' in m
               and f'cover the {len(positions)} processed frames only' in m for m in warnings)
    # the same numbers as the ground truth and detections of those frames alone
    frames = np.zeros(gt.num_images, dtype=bool)
    frames[positions] = True
    mine = frames[dets.image_index]
    expected = evaluate_kaist(gt, KAISTDetections(dets.image_index[mine], dets.boxes[mine], dets.scores[mine]),
                              setups='reasonable', faithful_quirks=faithful_quirks, frames=frames)
    for subset in ('all', 'day', 'night'):
        assert metrics[f'MR_reasonable_{subset}'] == pytest.approx(expected.miss_rates['reasonable'][subset], abs=1e-4)
    # unprocessed frames neither count as missed pedestrians nor as images of the FPPI denominator
    full = evaluate_kaist(gt, dets, setups='reasonable', faithful_quirks=faithful_quirks)
    diluted = evaluate_kaist(gt, KAISTDetections(dets.image_index[mine], dets.boxes[mine], dets.scores[mine]),
                             setups='reasonable', faithful_quirks=faithful_quirks)
    assert abs(metrics['MR_reasonable_all'] - full.miss_rates['reasonable']['all']) < \
        abs(diluted.miss_rates['reasonable']['all'] - full.miss_rates['reasonable']['all'])


def test_frames_mask_must_cover_every_frame():
    gt = load_kaist_gt(str(ANN))
    dets = KAISTDetections(np.zeros(0, np.int64), np.zeros((0, 4)), np.zeros(0))
    with pytest.raises(ValueError, match=r'frames must be a bool mask of shape \(2252,\)'):
        evaluate_kaist(gt, dets, setups='reasonable', frames=np.ones(10, dtype=bool))
