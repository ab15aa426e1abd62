# Copyright (c) mmspecgene contributors. All rights reserved.
"""Evaluation metrics (host-free: numpy, torch and mmengine only)."""
from .kaist_metric import KAISTMissRateMetric
from .kaist_mr import (
                       KAIST_SETUPS,
                       SETUP_LISTS,
                       KAISTDetections,
                       KAISTEvalResult,
                       KAISTGroundTruth,
                       evaluate_kaist,
                       evaluate_kaist_file,
                       load_detections,
                       load_kaist_gt,
                       resolve_setups,
                       write_matlab_txt,
                       write_reference_txt,
)
from .sod import (
                       RELEASED_WF_BETA2,
                       SOD_METRIC_KEYS,
                       SODEvaluator,
                       aggregate_records,
                       compute_image_record,
                       load_gt,
                       load_pred,
                       normalize_gt,
                       pair_files,
                       resize_pred_to_gt,
)
from .sod_metric import SODMetric

__all__ = [
    'KAISTMissRateMetric',
    'KAIST_SETUPS',
    'SETUP_LISTS',
    'KAISTDetections',
    'KAISTEvalResult',
    'KAISTGroundTruth',
    'evaluate_kaist',
    'evaluate_kaist_file',
    'load_detections',
    'load_kaist_gt',
    'resolve_setups',
    'write_matlab_txt',
    'write_reference_txt',
    'SODMetric',
    'SODEvaluator',
    'SOD_METRIC_KEYS',
    'RELEASED_WF_BETA2',
    'aggregate_records',
    'compute_image_record',
    'load_gt',
    'load_pred',
    'normalize_gt',
    'pair_files',
    'resize_pred_to_gt',
]
