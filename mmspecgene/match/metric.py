# Copyright (c) mmspecgene contributors. All rights reserved.
"""Homography AUC, matching precision and match counts of RGB-thermal matches (numpy/OpenCV only)."""
import math
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from ..registry import METRICS
from .geometry import AUC_THRESHOLDS, error_auc, estimate_homography, match_errors, mean_corner_error


def _as_numpy(value) -> np.ndarray:
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def evaluate_pair(kpts0, kpts1, gt_homography, img_shape: Sequence[int], ransac_thr: float = 3.0,
                  precision_thresholds: Sequence[float] = (3, 5), name: str = 'pair') -> dict:
    """Per-pair statistics: ``corner_error`` (inf when no homography is found), ``num_matches`` and
    ``precision@t`` (fraction of matches within ``t`` px of ``H_gt(kpts0)``; 0 for an empty match set).

    Args:
        kpts0, kpts1: (N, 2) matched pixels in image 0 (RGB) and image 1 (thermal).
        gt_homography: (3, 3) RGB -> thermal pixels.
        img_shape: (h, w) of image 0 (the corners of the corner error).
    """
    kpts0, kpts1 = _as_numpy(kpts0).reshape(-1, 2), _as_numpy(kpts1).reshape(-1, 2)
    if len(kpts0) != len(kpts1):
        raise ValueError(f'{name}: {len(kpts0)} keypoints in image 0 but {len(kpts1)} in image 1; matches pair up')
    if not (np.isfinite(kpts0).all() and np.isfinite(kpts1).all()):
        raise ValueError(f'{name}: matched keypoints must be finite')
    H_gt = _as_numpy(gt_homography)
    if H_gt.shape != (3, 3):
        raise ValueError(f'{name}: gt_homography must be 3x3, got shape {H_gt.shape}')
    size = (int(img_shape[1]), int(img_shape[0]))
    H_est = estimate_homography(kpts0, kpts1, ransac_thr)
    errors = match_errors(kpts0, kpts1, H_gt)
    stats = dict(corner_error=mean_corner_error(H_gt, H_est, size), num_matches=len(kpts0))
    for thr in precision_thresholds:
        stats[f'precision@{thr:g}px'] = float((errors < thr).mean()) if len(errors) else 0.0
    return stats


@METRICS.register_module()
class RGBTMatchingMetric(BaseMetric):
    """HPatches-style homography AUC, matching precision and the mean number of matches.

    For each pair, ``cv2.findHomography(kpts0, kpts1, cv2.USAC_MAGSAC, ransac_thr)`` estimates the homography; its
    error is the mean distance of the four image-0 corners mapped by the estimate and by the ground truth (``inf``
    when fewer than 4 matches or no model). Reported, in percent except the count:

    * ``AUC@{3,5,10}px``: area under the cumulative corner-error curve up to the threshold (SuperGlue/LoFTR code);
    * ``precision@{3,5}px``: per-pair fraction of matches whose thermal point lies within the threshold of the
      ground-truth mapping of its RGB point, averaged over pairs (a pair without matches counts 0);
    * ``num_matches``: mean matches per pair; ``failed``: pairs without an estimated homography.

    Data samples need ``pred_kpts0``, ``pred_kpts1`` ((N, 2) pixels), ``gt_homography`` and ``img_shape``.

    Args:
        ransac_thr (float): MAGSAC threshold in pixels.
        auc_thresholds (Sequence[float]): Corner-error thresholds in pixels.
        precision_thresholds (Sequence[float]): Match-error thresholds in pixels.
    """
    default_prefix = 'match'

    def __init__(self, ransac_thr: float = 3.0, auc_thresholds: Sequence[float] = AUC_THRESHOLDS,
                 precision_thresholds: Sequence[float] = (3, 5), collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if ransac_thr <= 0:
            raise ValueError(f'ransac_thr must be > 0, got {ransac_thr}')
        self.ransac_thr = float(ransac_thr)
        self.auc_thresholds = tuple(auc_thresholds)
        self.precision_thresholds = tuple(precision_thresholds)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            name = f'sample {sample.get("sample_idx", "?")} ({sample.get("img_path")} | {sample.get("ir_path")})'
            missing = [k for k in ('pred_kpts0', 'pred_kpts1', 'gt_homography', 'img_shape') if k not in sample]
            if missing:
                raise KeyError(f'RGBTMatchingMetric: {name} lacks {missing}')
            self.results.append(
                evaluate_pair(sample['pred_kpts0'], sample['pred_kpts1'], sample['gt_homography'],
                              sample['img_shape'], self.ransac_thr, self.precision_thresholds, name))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        return summarize(results, self.auc_thresholds, self.precision_thresholds)


def summarize(results: List[dict], auc_thresholds: Sequence[float] = AUC_THRESHOLDS,
              precision_thresholds: Sequence[float] = (3, 5)) -> Dict[str, float]:
    """Aggregate :func:`evaluate_pair` outputs into the metric dict (percentages, mean match count)."""
    if not results:
        raise ValueError('RGBTMatchingMetric got no pairs to evaluate')
    errors = [r['corner_error'] for r in results]
    metrics = {f'AUC@{t:g}px': 100 * v for t, v in error_auc(errors, auc_thresholds).items()}
    for thr in precision_thresholds:
        metrics[f'precision@{thr:g}px'] = 100 * float(np.mean([r[f'precision@{thr:g}px'] for r in results]))
    metrics['num_matches'] = float(np.mean([r['num_matches'] for r in results]))
    metrics['failed'] = float(sum(not math.isfinite(e) for e in errors))
    MMLogger.get_current_instance().info(
        f'RGBTMatchingMetric: {len(results)} pairs, {int(metrics["failed"])} without a homography estimate')
    return metrics
