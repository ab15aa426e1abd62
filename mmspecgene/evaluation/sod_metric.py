# Copyright (c) mmspecgene contributors. All rights reserved.
"""``SODMetric``: docs/en/method.md#segmentation-and-sod SOD metrics inside an mmengine evaluator.

Not registered here; the host layer (``mmspecgene.seg``) registers it.
"""
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log

from .sample_fields import get_field
from .sod import RELEASED_WF_BETA2, aggregate_records, compute_image_record, format_sod_table, load_gt

PRED_MODES = ('soft', 'hard')


def _pixel_data(sample: Any, key: str) -> Optional[torch.Tensor]:
    """Return the ``data`` tensor of a pixel-data field, or None if absent."""
    field = get_field(sample, key, None)
    if field is None:
        return None
    data = get_field(field, 'data', None)
    if data is None:
        raise KeyError(f'data sample field {key!r} has no "data" entry')
    return torch.as_tensor(data)


class SODMetric(BaseMetric):
    """Salient-object-detection metrics computed with PySODMetrics (docs/en/method.md#segmentation-and-sod).

    Per image the prediction becomes a uint8 H×W saliency map:

    * ``'soft'`` (default): ``round(255 * softmax(seg_logits)[1])``; the
      segmentor has already resized the logits to the original image.
    * ``'hard'`` (released numbers): ``argmax * 255`` (``pred_sem_seg`` if
      present, otherwise the argmax of ``seg_logits``).

    Binary maps make max/mean F and E come from one effective threshold, so
    soft and hard numbers are not comparable; the mode is logged.

    The GT comes from ``gt_sem_seg`` (labels 0/1; SOD has no ignore label so
    255 is an error) or, when absent, from the file ``seg_map_path``
    (0/1 or 0/255). A prediction whose size differs from its GT is resized
    bilinearly.

    Args:
        pred_mode (str): ``'soft'`` or ``'hard'``. Defaults to ``'soft'``.
        dataset_name (str, optional): If given, keys become
            ``<dataset_name>/S`` etc. (``sod/<dataset_name>/S`` with the
            default prefix). ``'auto'`` reports each test set separately,
            named by the folder above ``visible/`` in ``img_path``.
        wf_beta2 (float, optional): β² of weighted F (``wF``); None keeps
            PySODMetrics' default (β = 1), 0.3 is the released setting.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Metric-name prefix. Defaults to ``'sod'``.
        collect_dir (str, optional): Temporary directory for cpu collection.
    """

    default_prefix: Optional[str] = 'sod'

    def __init__(self,
                 pred_mode: str = 'soft',
                 dataset_name: Optional[str] = None,
                 wf_beta2: Optional[float] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = 'sod',
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(
            collect_device=collect_device,
            prefix=prefix,
            collect_dir=collect_dir)
        if pred_mode not in PRED_MODES:
            raise ValueError(f'pred_mode must be one of {PRED_MODES}, '
                             f'got {pred_mode!r}')
        if wf_beta2 is not None and not wf_beta2 > 0:
            raise ValueError(f'wf_beta2 must be positive, got {wf_beta2}')
        self.pred_mode = pred_mode
        self.dataset_name = dataset_name
        self.wf_beta2 = wf_beta2

    # ----------------------------------------------------------- per sample
    def _saliency_map(self, sample: Any, name: str) -> np.ndarray:
        """uint8 H×W saliency map of one data sample, following pred_mode."""
        seg_logits = _pixel_data(sample, 'seg_logits')
        if self.pred_mode == 'hard':
            pred_label = _pixel_data(sample, 'pred_sem_seg')
            if pred_label is None:
                if seg_logits is None:
                    raise KeyError(f'{name}: data sample has neither '
                                   f'"pred_sem_seg" nor "seg_logits"')
                self._check_logits(seg_logits, name)
                pred_label = seg_logits.argmax(dim=0)
            pred_label = pred_label.squeeze()
            if pred_label.ndim != 2:
                raise ValueError(f'{name}: pred_sem_seg must be 1×H×W, got '
                                 f'shape {tuple(pred_label.shape)}')
            invalid = (pred_label != 0) & (pred_label != 1)
            if bool(invalid.any()):
                raise ValueError(
                    f'{name}: pred_sem_seg must hold labels 0/1, found '
                    f'{torch.unique(pred_label[invalid]).tolist()}')
            return (pred_label.to(torch.uint8) * 255).cpu().numpy()
        if seg_logits is None:
            raise KeyError(f'{name}: pred_mode="soft" needs "seg_logits" in '
                           f'the data sample')
        self._check_logits(seg_logits, name)
        saliency = torch.softmax(seg_logits.float(), dim=0)[1]
        return torch.round(saliency * 255).to(torch.uint8).cpu().numpy()

    @staticmethod
    def _check_logits(seg_logits: torch.Tensor, name: str) -> None:
        if seg_logits.ndim != 3 or seg_logits.shape[0] != 2:
            raise ValueError(
                f'{name}: seg_logits must be 2×H×W (background, saliency), '
                f'got shape {tuple(seg_logits.shape)}')

    @staticmethod
    def _ground_truth(sample: Any, name: str) -> np.ndarray:
        """0/255 uint8 H×W GT from ``gt_sem_seg`` or ``seg_map_path``."""
        gt_label = _pixel_data(sample, 'gt_sem_seg')
        if gt_label is None:
            seg_map_path = get_field(sample, 'seg_map_path', None)
            if seg_map_path is None:
                raise KeyError(f'{name}: data sample has neither '
                               f'"gt_sem_seg" nor "seg_map_path"')
            return load_gt(seg_map_path)
        gt_label = gt_label.squeeze()
        if gt_label.ndim != 2:
            raise ValueError(f'{name}: gt_sem_seg must be 1×H×W, got shape '
                             f'{tuple(gt_label.shape)}')
        if bool((gt_label == 255).any()):
            raise ValueError(
                f'{name}: gt_sem_seg contains 255; SOD ground truth has no '
                f'ignore label, expected labels 0/1')
        invalid = (gt_label != 0) & (gt_label != 1)
        if bool(invalid.any()):
            raise ValueError(
                f'{name}: gt_sem_seg must hold labels 0/1, found '
                f'{torch.unique(gt_label[invalid]).tolist()}')
        return (gt_label.to(torch.uint8) * 255).cpu().numpy()

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Compute per-image PySODMetrics statistics for a batch.

        Args:
            data_batch: Unused.
            data_samples (Sequence[dict]): mmseg outputs as dicts with
                ``seg_logits`` {'data': 2×H×W}, ``pred_sem_seg``
                {'data': 1×H×W}, and ``gt_sem_seg`` {'data': 1×H×W} or
                ``seg_map_path``.
        """
        for index, sample in enumerate(data_samples):
            name = get_field(sample, 'img_path', None) or f'data sample {index}'
            pred = self._saliency_map(sample, name)
            gt = self._ground_truth(sample, name)
            record = compute_image_record(pred, gt, wf_beta2=self.wf_beta2, name=str(name))
            self.results.append((self._set_name(sample, name), record))

    def _set_name(self, sample: Any, name: str) -> Optional[str]:
        """The key prefix of a sample: ``dataset_name``, or with ``'auto'`` the folder above
        ``visible/`` in its ``img_path`` (``<root>/<set>/visible/<split>/...``)."""
        if self.dataset_name != 'auto':
            return self.dataset_name
        parts = str(get_field(sample, 'img_path', None) or '').replace('\\', '/').split('/')
        if 'visible' not in parts or parts.index('visible') == 0:
            raise ValueError(f"{name}: dataset_name='auto' needs img_path of the form "
                             f"<root>/<set>/visible/<split>/<file>")
        return parts[len(parts) - 1 - parts[::-1].index('visible') - 1]

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """Average the per-image records into ``S``, ``MAE``, ``maxF``,
        ``meanF``, ``adpF``, ``maxE``, ``meanE``, ``adpE``, ``wF`` (per set
        with ``dataset_name='auto'``)."""
        if not results:
            raise ValueError('No images were evaluated: SODMetric received no data samples')
        groups: Dict[Optional[str], List[dict]] = {}
        for set_name, record in results:
            groups.setdefault(set_name, []).append(record)
        metrics = {}
        for set_name, records in groups.items():
            metrics.update(self._summarise(set_name, records))
        return metrics

    def _summarise(self, set_name: Optional[str], results: List[dict]) -> Dict[str, float]:
        metrics = aggregate_records(results)
        logger = MMLogger.get_current_instance()
        wf_note = ('PySODMetrics default beta=1' if self.wf_beta2 is None else
                   f'beta2={self.wf_beta2}' +
                   (' (released)' if self.wf_beta2 == RELEASED_WF_BETA2 else
                    ''))
        title = (f'SOD {set_name or ""} pred_mode={self.pred_mode} '
                 f'images={len(results)} wF: {wf_note}').replace('  ', ' ')
        print_log('\n' + format_sod_table(metrics, title=title), logger=logger)
        if set_name:
            metrics = {f'{set_name}/{key}': value for key, value in metrics.items()}
        return metrics
