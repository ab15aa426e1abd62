# Copyright (c) mmspecgene contributors. All rights reserved.
"""Salient-object-detection (SOD) evaluation on top of PySODMetrics (docs/en/method.md#segmentation-and-sod).

Host-free: numpy, cv2, Pillow and ``py_sod_metrics`` only. Maps are uint8 H×W arrays; the
ground truth is handed to PySODMetrics binarised on the 0/255 scale, the
prediction as a grey uint8 map, so every number comes from PySODMetrics' own
normalisation, 256 thresholds and defaults.
"""
import os.path as osp
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image

#: Keys of the dict returned by :meth:`SODEvaluator.get_results`.
SOD_METRIC_KEYS = ('S', 'MAE', 'maxF', 'meanF', 'adpF', 'maxE', 'meanE', 'adpE',
                   'wF')

#: β² of weighted F in the released toolbox (PySODMetrics' default is 1).
RELEASED_WF_BETA2 = 0.3
# A 0/255 ground truth is salient where GT > SOD_GT_THRESHOLD (PySODMetrics' own binarisation).
SOD_GT_THRESHOLD = 128

#: File suffixes :func:`pair_files` looks at (lower case).
IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')


def _import_py_sod_metrics():
    """Import PySODMetrics lazily so that importing this module stays light."""
    try:
        import py_sod_metrics
    except ImportError as err:
        raise ImportError(
            'SOD evaluation needs PySODMetrics: `pip install pysodmetrics` '
            '(import name `py_sod_metrics`).') from err
    return py_sod_metrics


def normalize_gt(gt: np.ndarray, name: str = 'gt') -> np.ndarray:
    """Bring a SOD ground truth to the binary 0/255 uint8 scale.

    The scale is detected from the maximum value: max <= 1 means 0/1 labels,
    max > 128 means a 0/255 map, which is binarised as ``gt > 128`` (PySODMetrics' own threshold, so an
    anti-aliased edge pixel of exactly 128 is background in both). The
    function is idempotent (0/255 in, the same 0/255 out).

    Args:
        gt (np.ndarray): H×W ground truth, bool or integer in [0, 255].
        name (str): What to call the input in error messages (e.g. a path).

    Returns:
        np.ndarray: H×W uint8 map with values in {0, 255}.
    """
    gt = np.asarray(gt)
    if gt.ndim != 2:
        raise ValueError(f'{name}: expected a 2-D (H×W) ground truth, got '
                         f'shape {gt.shape}')
    if gt.dtype == bool:
        return gt.astype(np.uint8) * 255
    if not np.issubdtype(gt.dtype, np.integer):
        raise TypeError(f'{name}: expected an integer (uint8) ground truth, '
                        f'got dtype {gt.dtype}')
    if gt.size == 0:
        raise ValueError(f'{name}: empty ground truth')
    gt_min, gt_max = int(gt.min()), int(gt.max())
    if gt_min < 0 or gt_max > 255:
        raise ValueError(f'{name}: ground-truth values must lie in [0, 255], '
                         f'got range [{gt_min}, {gt_max}]')
    if gt_max <= 1:
        return gt.astype(np.uint8) * 255
    if gt_max <= SOD_GT_THRESHOLD:
        raise ValueError(
            f'{name}: cannot tell the ground-truth scale, max value is '
            f'{gt_max}; expected 0/1 labels (max <= 1) or a 0/255 map '
            f'(max > {SOD_GT_THRESHOLD})')
    return np.where(gt > SOD_GT_THRESHOLD, 255, 0).astype(np.uint8)


def _read_grey(path: str) -> np.ndarray:
    """Read an image file as a 2-D uint8 grey map, raising if unreadable."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'No such image file: {path}')
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ValueError(f'cv2 could not decode image file: {path}')
    return image


def load_gt(path: str) -> np.ndarray:
    """Load a SOD ground-truth PNG (0/1 or 0/255) as a 0/255 uint8 H×W map.

    A palette (mode ``P``) PNG gives its indices, as mmseg reads label maps; any other image its grey values.
    """
    if osp.isfile(path):
        with Image.open(path) as img:
            if img.mode == 'P':
                return normalize_gt(np.asarray(img), name=str(path))
    return normalize_gt(_read_grey(path), name=str(path))


def load_pred(path: str) -> np.ndarray:
    """Load a saliency prediction as a grey uint8 H×W map."""
    return _read_grey(path)


def resize_pred_to_gt(pred: np.ndarray, gt_shape: Sequence[int]) -> np.ndarray:
    """Resize a uint8 H'×W' prediction bilinearly to ``gt_shape`` (H, W).

    Returns the input unchanged when the sizes already agree.
    """
    height, width = int(gt_shape[0]), int(gt_shape[1])
    if pred.shape[:2] == (height, width):
        return pred
    return cv2.resize(pred, (width, height), interpolation=cv2.INTER_LINEAR)


def _list_by_stem(folder: str) -> Dict[str, str]:
    """Map stem -> path for the image files directly inside ``folder``."""
    if not osp.isdir(folder):
        raise NotADirectoryError(f'Not a directory: {folder}')
    by_stem: Dict[str, str] = {}
    for path in sorted(Path(folder).iterdir()):
        if not path.is_file() or path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if path.stem in by_stem:
            raise ValueError(
                f'Two files share the stem {path.stem!r} in {folder}: '
                f'{osp.basename(by_stem[path.stem])} and {path.name}')
        by_stem[path.stem] = str(path)
    return by_stem


def pair_files(
        pred_dir: str,
        gt_dir: str) -> Tuple[List[Tuple[str, str]], List[str], List[str]]:
    """Pair prediction and GT image files by file stem.

    Only files directly inside each folder with a suffix in
    :data:`IMAGE_SUFFIXES` are considered.

    Returns:
        tuple: ``(pairs, unpaired_pred, unpaired_gt)``: ``pairs`` is a list of
        ``(pred_path, gt_path)`` sorted by stem; the other two list the paths
        that have no partner, sorted.
    """
    preds = _list_by_stem(pred_dir)
    gts = _list_by_stem(gt_dir)
    pairs = [(preds[stem], gts[stem]) for stem in sorted(preds.keys() & gts)]
    unpaired_pred = sorted(preds[stem] for stem in preds.keys() - gts.keys())
    unpaired_gt = sorted(gts[stem] for stem in gts.keys() - preds.keys())
    return pairs, unpaired_pred, unpaired_gt


def compute_image_record(pred: np.ndarray,
                         gt: np.ndarray,
                         wf_beta2: Optional[float] = None,
                         name: str = 'image') -> dict:
    """Per-image SOD statistics computed by PySODMetrics.

    Args:
        pred (np.ndarray): H'×W' uint8 saliency map; resized bilinearly to the
            GT size if it differs.
        gt (np.ndarray): H×W ground truth on the 0/1 or 0/255 scale.
        wf_beta2 (float, optional): β² of weighted F; None keeps
            PySODMetrics' default (β = 1).
        name (str): Image name for error messages.

    Returns:
        dict: ``sm``, ``mae``, ``adp_fm``, ``adp_em``, ``wfm`` (floats) and
        ``fm_curve``, ``em_curve``, ``precision_curve``, ``recall_curve``
        (float64 arrays over the 256 thresholds, highest threshold first).
        :func:`aggregate_records` turns a list of them into the metrics.
    """
    pred = np.asarray(pred)
    if pred.ndim != 2 or pred.dtype != np.uint8:
        raise ValueError(f'{name}: expected a 2-D uint8 prediction, got shape '
                         f'{pred.shape} dtype {pred.dtype}')
    gt = normalize_gt(gt, name=name)
    pred = resize_pred_to_gt(pred, gt.shape)

    psm = _import_py_sod_metrics()
    with warnings.catch_warnings():
        # ``Fmeasure`` warns about its future replacement on construction.
        warnings.filterwarnings('ignore', message='This class will be removed')
        f_measure = psm.Fmeasure()
    s_measure = psm.Smeasure()
    mae = psm.MAE()
    e_measure = psm.Emeasure()
    weighted_f = (
        psm.WeightedFmeasure() if wf_beta2 is None else psm.WeightedFmeasure(
            beta=wf_beta2))
    for metric in (f_measure, s_measure, mae, e_measure, weighted_f):
        metric.step(pred=pred, gt=gt)

    fm_results = f_measure.get_results()
    fm, pr = fm_results['fm'], fm_results['pr']
    em = e_measure.get_results()['em']
    return dict(
        sm=float(s_measure.get_results()['sm']),
        mae=float(mae.get_results()['mae']),
        adp_fm=float(fm['adp']),
        fm_curve=np.asarray(fm['curve'], dtype=np.float64),
        precision_curve=np.asarray(pr['p'], dtype=np.float64),
        recall_curve=np.asarray(pr['r'], dtype=np.float64),
        adp_em=float(em['adp']),
        em_curve=np.asarray(em['curve'], dtype=np.float64),
        wfm=float(weighted_f.get_results()['wfm']))


def _mean_over_images(records: Sequence[dict], key: str) -> np.ndarray:
    """Mean of a per-image value (or per-threshold curve) over the images."""
    return np.mean(np.array([rec[key] for rec in records], np.float64), axis=0)


def aggregate_records(records: Sequence[dict]) -> Dict[str, float]:
    """Average per-image records the way PySODMetrics' ``get_results`` does.

    Returns:
        dict: keys :data:`SOD_METRIC_KEYS`, float values.
    """
    if len(records) == 0:
        raise ValueError('No images were evaluated: cannot compute SOD metrics')

    def mean_of(key):
        return _mean_over_images(records, key)

    fm_curve = mean_of('fm_curve')
    em_curve = mean_of('em_curve')
    return dict(
        S=float(mean_of('sm')),
        MAE=float(mean_of('mae')),
        maxF=float(fm_curve.max()),
        meanF=float(fm_curve.mean()),
        adpF=float(mean_of('adp_fm')),
        maxE=float(em_curve.max()),
        meanE=float(em_curve.mean()),
        adpE=float(mean_of('adp_em')),
        wF=float(mean_of('wfm')))


def aggregate_curves(records: Sequence[dict]) -> Dict[str, np.ndarray]:
    """Mean precision, recall and F-measure over images at each threshold (as PySODMetrics averages them).

    Returns:
        dict: ``thresholds`` (255 ... 0: a pixel is salient when its value is >= the threshold),
        ``precision``, ``recall`` and ``fmeasure`` (float64 arrays of 256, in the same order);
        ``fmeasure.max()`` / ``.mean()`` are the ``maxF`` / ``meanF`` of :func:`aggregate_records`.
    """
    if len(records) == 0:
        raise ValueError('No images were evaluated: cannot compute SOD curves')

    def mean_of(key):
        return _mean_over_images(records, key)

    return dict(
        thresholds=np.arange(255, -1, -1),
        precision=mean_of('precision_curve'),
        recall=mean_of('recall_curve'),
        fmeasure=mean_of('fm_curve'))


class SODEvaluator:
    """Accumulate per-image SOD statistics and average them over images.

    Args:
        wf_beta2 (float, optional): β² of weighted F (``wF``). None (default)
            keeps PySODMetrics' default β = 1; :data:`RELEASED_WF_BETA2`
            (0.3) reproduces the released toolbox.

    Example:
        >>> evaluator = SODEvaluator()
        >>> evaluator.step(load_pred('pred/a.png'), load_gt('gt/a.png'))
        >>> evaluator.get_results()['S']
    """

    def __init__(self, wf_beta2: Optional[float] = None) -> None:
        if wf_beta2 is not None and not wf_beta2 > 0:
            raise ValueError(f'wf_beta2 must be positive, got {wf_beta2}')
        self.wf_beta2 = wf_beta2
        self.records: List[dict] = []

    def reset(self) -> None:
        """Drop all accumulated images."""
        self.records = []

    def __len__(self) -> int:
        return len(self.records)

    def step(self, pred: np.ndarray, gt: np.ndarray, name: str = 'image') -> dict:
        """Add one image: uint8 H'×W' prediction, H×W GT (0/1 or 0/255)."""
        record = compute_image_record(
            pred, gt, wf_beta2=self.wf_beta2, name=name)
        self.records.append(record)
        return record

    def step_files(self, pred_path: str, gt_path: str) -> dict:
        """Add one image read from a prediction file and a GT file."""
        return self.step(
            load_pred(pred_path), load_gt(gt_path), name=str(pred_path))

    def get_results(self) -> Dict[str, float]:
        """Return ``S``, ``MAE``, ``maxF``, ``meanF``, ``adpF``, ``maxE``,
        ``meanE``, ``adpE`` and ``wF`` averaged over the images seen."""
        return aggregate_records(self.records)

    def get_curves(self) -> Dict[str, np.ndarray]:
        """PR and F-measure-vs-threshold curves over the images seen (see :func:`aggregate_curves`)."""
        return aggregate_curves(self.records)


def format_sod_table(results: Dict[str, float], title: str = '') -> str:
    """Render SOD metrics as a two-row text table."""
    keys = [key for key in SOD_METRIC_KEYS if key in results]
    cells = [f'{results[key]:.4f}' for key in keys]
    widths = [max(len(key), len(cell)) for key, cell in zip(keys, cells)]
    header = ' | '.join(key.rjust(w) for key, w in zip(keys, widths))
    values = ' | '.join(cell.rjust(w) for cell, w in zip(cells, widths))
    lines = [title] if title else []
    lines += [header, '-' * len(header), values]
    return '\n'.join(lines)
