# Copyright (c) mmspecgene contributors. All rights reserved.
"""KAISTMissRateMetric warns (WARNING) when evaluator frames received no predictions: they count as missed."""
import logging
from pathlib import Path

import pytest
import torch

from mmspecgene.evaluation import KAISTMissRateMetric
from mmspecgene.evaluation.kaist_mr import load_kaist_gt
from mmspecgene.testing.logs import captured_log_records

ANN = Path(__file__).resolve().parents[2].parent / 'shared' / 'data' / 'kaist_eval' / 'KAIST_annotation.json'


@pytest.mark.skipif(not ANN.is_file(), reason=f'KAIST evaluation ground truth not found: {ANN}')
def test_frames_without_predictions_are_a_warning():
    gt = load_kaist_gt(str(ANN))
    metric = KAISTMissRateMetric(str(ANN), setups='reasonable')
    metric.process({}, [
        dict(img_path=f'data/kaist/visible/{gt.frame_keys[0]}.jpg', img_id=int(gt.image_ids[0]),
             pred_instances=dict(bboxes=torch.zeros(0, 4), scores=torch.zeros(0), labels=torch.zeros(0).long()))
    ])
    with captured_log_records() as records:
        metric.compute_metrics(metric.results)
    warnings = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    assert any(f'{gt.num_images - 1} of {gt.num_images} evaluator frames received no predictions' in m
               for m in warnings)
