# Copyright (c) mmspecgene contributors. All rights reserved.
"""Evaluation metrics (host-free: numpy, torch and mmengine only)."""
from .kaist_metric import KAISTMissRateMetric
from .kaist_mr import (KAIST_SETUPS, SETUP_LISTS, KAISTDetections, KAISTEvalResult, KAISTGroundTruth,
                       evaluate_kaist, evaluate_kaist_file, load_detections, load_kaist_gt, resolve_setups,
                       write_matlab_txt, write_reference_txt)

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
]
