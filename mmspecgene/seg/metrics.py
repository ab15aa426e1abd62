# Copyright (c) mmspecgene contributors. All rights reserved.
"""mmseg IoU metric plus ``mIoU_excl_bg`` (background = class 0 left out of the mean)."""
from typing import Dict, List

import numpy as np
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS


@METRICS.register_module()
class RGBTIoUMetric(IoUMetric):
    """Host ``IoUMetric`` (background included in mIoU, as released) with an extra ``mIoU_excl_bg`` key
    for comparison with papers that exclude class 0."""

    def compute_metrics(self, results: List) -> Dict[str, float]:
        if self.format_only:  # test-server submission: the host writes the predictions and computes nothing
            return super().compute_metrics(results)
        intersect = sum(r[0] for r in results)
        union = sum(r[1] for r in results)
        with np.errstate(divide='ignore', invalid='ignore'):
            iou = (intersect / union).cpu().numpy() if hasattr(intersect, 'cpu') else intersect / union
        metrics = super().compute_metrics(results)
        metrics['mIoU_excl_bg'] = float(np.round(np.nanmean(iou[1:]) * 100, 2)) if len(iou) > 1 else float('nan')
        return metrics
