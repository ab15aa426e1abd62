# Copyright (c) mmspecgene contributors. All rights reserved.
"""``KAISTMissRateMetric``: the KAIST MR^-2 protocol (docs/en/method.md#evaluation-protocols) as an mmengine metric.

Not registered here (``mmspecgene.evaluation`` imports no host); ``mmspecgene.det`` registers it into mmdet's
``METRICS``.
"""
import logging
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.fileio import get_local_path
from mmengine.logging import MMLogger, print_log

from .kaist_mr import (
    SUBSETS,
    KAISTDetections,
    KAISTEvalResult,
    evaluate_kaist,
    format_miss_rate_table,
    frame_key_from_path,
    load_kaist_gt,
    resolve_setups,
    write_matlab_txt,
    write_reference_txt,
)
from .sample_fields import get_field

_EXPECTED = '; expected an mmdet data sample with img_path and pred_instances (bboxes, scores, labels)'


def _field_of(container: Any, name: str, where: str) -> Any:
    """A required field of a data sample or of its ``pred_instances``; the error names the metric and the sample."""
    return get_field(container, name, where=f'KAISTMissRateMetric: {where}', hint=_EXPECTED)


def _to_numpy(values: Any) -> np.ndarray:
    """Tensor / array / list -> float64 numpy array."""
    if hasattr(values, 'detach'):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=np.float64)


class KAISTMissRateMetric(BaseMetric):
    """KAIST log-average miss rate (MR^-2, %) for every setup and the all / day / night subsets.

    Predictions are matched to evaluator images by the frame key of ``img_path``
    (``.../setXX/V00Y/I#####.jpg`` -> ``setXX/V00Y/I#####``) and converted to xywh without a +1 offset.
    A run on part of the test set (frames never processed) is evaluated on the processed frames only, with a
    warning: the other frames' pedestrians are neither missed nor counted, and they leave the FPPI denominator.

    Args:
        ann_file (str): Evaluator ground truth (``kaist_test_eval.json`` format).
        setups (str | Sequence[str]): Setup lists (``'reference4'``, ``'extended8'``) and/or setup keys
            (see :data:`mmspecgene.evaluation.kaist_mr.KAIST_SETUPS`). Defaults to both lists.
        faithful_quirks (bool): Reproduce the reference evaluator's quirks (default). Setups whose numbers change
            without them are logged as well.
        outfile_prefix (str, optional): When given, write ``{outfile_prefix}.txt`` (reference result txt) and
            ``{outfile_prefix}_matlab/setXX_VYYY_IZZZZZ.txt`` (MATLAB toolkit format).
        collect_device (str): ``'cpu'`` or ``'gpu'``, for collecting results across ranks.
        prefix (str, optional): Prefix of the metric names. Defaults to ``'kaist'``.

    Returns (from :meth:`compute_metrics`): ``MR_{setup}_{subset}`` for every setup and subset, and
    ``recall_all``: the final recall (%) of the Reasonable setup on all frames.
    """
    default_prefix: Optional[str] = 'kaist'

    def __init__(self,
                 ann_file: str,
                 setups: Union[str, Sequence[str]] = ('reference4', 'extended8'),
                 faithful_quirks: bool = True,
                 outfile_prefix: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = 'kaist') -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.ann_file = ann_file
        self.setup_keys = resolve_setups(setups)
        self.faithful_quirks = faithful_quirks
        self.outfile_prefix = outfile_prefix
        with get_local_path(ann_file) as local_path:
            self.gt = load_kaist_gt(local_path)
        self._frame_positions = self.gt.frame_index()

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Store each sample's frame position, xywh boxes (N, 4) and scores (N, )."""
        for data_sample in data_samples:
            img_path = _field_of(data_sample, 'img_path', 'a data sample')
            frame_key = frame_key_from_path(img_path)
            position = self._frame_positions.get(frame_key)
            if position is None:
                raise ValueError(f'KAISTMissRateMetric: frame {frame_key!r} (img_path {img_path!r}) is not in the '
                                 f'evaluator ground truth {self.ann_file!r}')
            pred_instances = _field_of(data_sample, 'pred_instances', f'data sample {img_path!r}')
            bboxes = _to_numpy(_field_of(pred_instances, 'bboxes', f'pred_instances of {img_path!r}'))
            scores = _to_numpy(_field_of(pred_instances, 'scores', f'pred_instances of {img_path!r}')).reshape(-1)
            if bboxes.size == 0:
                bboxes = bboxes.reshape(0, 4)
            if bboxes.ndim != 2 or bboxes.shape[1] != 4 or len(bboxes) != len(scores):
                raise ValueError(f'KAISTMissRateMetric: {img_path!r} has pred bboxes of shape {bboxes.shape} and '
                                 f'scores of shape {scores.shape}; expected (N, 4) x1y1x2y2 and (N, )')
            boxes_xywh = np.concatenate([bboxes[:, :2], bboxes[:, 2:] - bboxes[:, :2]], axis=1)
            self.results.append(
                dict(frame_key=frame_key, image_index=position, boxes_xywh=boxes_xywh, scores=scores))

    def _detections(self, results: List[dict]) -> Tuple[KAISTDetections, Optional[np.ndarray]]:
        """The gathered predictions, and the (num_images, ) mask of processed frames (None when all were)."""
        positions = np.array([result['image_index'] for result in results], dtype=np.int64)
        seen = np.bincount(positions, minlength=self.gt.num_images)
        if (seen > 1).any():
            repeated = self.gt.frame_keys[int(np.flatnonzero(seen > 1)[0])]
            raise ValueError(f'KAISTMissRateMetric: {int((seen > 1).sum())} frame(s) received predictions more '
                             f'than once (first: {repeated!r}); each evaluator frame must be processed once')
        num_missing = int((seen == 0).sum())
        frames = None
        if num_missing:
            frames = seen > 0
            first = self.gt.frame_keys[int(np.flatnonzero(~frames)[0])]
            print_log(f'KAISTMissRateMetric: {num_missing} of {self.gt.num_images} evaluator frames were not '
                      f'processed (first: {first!r}); the miss rates cover the {int(frames.sum())} processed frames '
                      'only and are not comparable with full test-set numbers', logger='current', level=logging.WARNING)
        counts = [len(result['scores']) for result in results]
        dets = KAISTDetections(
            image_index=np.repeat(positions, counts),
            boxes=np.concatenate([result['boxes_xywh'] for result in results] + [np.zeros((0, 4))]),
            scores=np.concatenate([result['scores'] for result in results] + [np.zeros(0)]),
            source='KAISTMissRateMetric predictions')
        return dets, frames

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """MR^-2 (%) per setup and subset, plus ``recall_all``."""
        logger = MMLogger.get_current_instance()
        dets, frames = self._detections(results)
        setup_keys = self.setup_keys + ([] if 'reasonable' in self.setup_keys else ['reasonable'])
        evaluation: KAISTEvalResult = evaluate_kaist(
            self.gt, dets, setups=setup_keys, faithful_quirks=self.faithful_quirks, frames=frames)
        if self.outfile_prefix is not None:
            write_reference_txt(f'{self.outfile_prefix}.txt', self.gt, dets)
            write_matlab_txt(f'{self.outfile_prefix}_matlab', self.gt, dets)
            logger.info(f'KAIST detections written to {self.outfile_prefix}.txt and {self.outfile_prefix}_matlab/')
        reported = {key: evaluation.miss_rates[key] for key in self.setup_keys}
        quirk_mode = 'faithful_quirks' if self.faithful_quirks else 'no faithful_quirks'
        logger.info(f'KAIST MR^-2 (%), {quirk_mode}:\n' + format_miss_rate_table(reported))
        if self.faithful_quirks:
            without_quirks = evaluate_kaist(
                self.gt, dets, setups=self.setup_keys, faithful_quirks=False, frames=frames)
            differing = {
                key: without_quirks.miss_rates[key]
                for key in self.setup_keys
                if not np.allclose([reported[key][s] for s in SUBSETS],
                                   [without_quirks.miss_rates[key][s] for s in SUBSETS], equal_nan=True)
            }
            if differing:
                logger.info('KAIST MR^-2 (%) without faithful_quirks (setups that differ):\n' +
                            format_miss_rate_table(differing))
        metrics: Dict[str, float] = OrderedDict()
        for key in self.setup_keys:
            for subset in SUBSETS:
                metrics[f'MR_{key}_{subset}'] = round(reported[key][subset], 4)
        metrics['recall_all'] = round(evaluation.recalls['reasonable']['all'], 4)
        return metrics
