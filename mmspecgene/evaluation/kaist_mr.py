# Copyright (c) mmspecgene contributors. All rights reserved.
"""KAIST multispectral pedestrian log-average miss rate (MR^-2), pure numpy.

Reproduces the standard Python KAISTPed evaluator (docs/en/method.md#evaluation-protocols): IoU 0.5, at most 1000
detections per image,
9 FPPI reference points, evaluation boundary [5, 5, 635, 507], the 4-setup list of the original evaluator
(``'reference4'``) and the 8-setup list of its later copy (``'extended8'``), and the all / day / night subsets.

Terms:

* *evaluator order*: the ground-truth images sorted by their json id (the reference sorts ``getImgIds()``);
  ``image_index`` arrays below hold positions in that order.
* *frame key*: ``'setXX/V00Y/I#####'``, the ``im_name`` of an evaluator image.
* boxes are ``xywh`` in original pixel coordinates, without a +1 offset.
"""
import json
import math
import os
import os.path as osp
import re
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

IOU_THR = 0.5
MAX_DETS = 1000
# The reference evaluator's literal, 4-decimal FPPI points 10^(-2:0.25:0).
FPPI_REFERENCE_POINTS = np.array(
    [0.0100, 0.0178, 0.0316, 0.0562, 0.1000, 0.1778, 0.3162, 0.5623, 1.0000])
# x1, y1, x2, y2 of the region a non-ignored GT box must lie in.
BOUNDARY = (5, 5, 635, 507)
SUBSETS = ('all', 'day', 'night')
# KAIST sets 00-02 and 06-08 were recorded by day, 03-05 and 09-11 by night.
NIGHT_SETS = frozenset((3, 4, 5, 9, 10, 11))
DAY_SETS = frozenset((0, 1, 2, 6, 7, 8))


@dataclass(frozen=True)
class KAISTSetup:
    """One evaluation setup: GT boxes outside it are ignored.

    Args:
        name (str): The reference evaluator's name of the setup.
        height_range (tuple[float, float]): Inclusive GT height range in pixels.
        occlusions (tuple[int, ...]): Allowed occlusion levels (0 none, 1 partial, 2 heavy).
    """
    name: str
    height_range: Tuple[float, float]
    occlusions: Tuple[int, ...]


KAIST_SETUPS: Dict[str, KAISTSetup] = {
    'reasonable': KAISTSetup('Reasonable', (55, math.inf), (0, 1)),
    'reasonable_small': KAISTSetup('Reasonable_small', (50, 75), (0, 1)),
    'reasonable_occ_heavy': KAISTSetup('Reasonable_occ=heavy', (50, math.inf), (2, )),
    'all_h20': KAISTSetup('All', (20, math.inf), (0, 1, 2)),
    'all': KAISTSetup('All', (1, math.inf), (0, 1, 2)),
    'far': KAISTSetup('Far', (1, 45), (0, )),
    'medium': KAISTSetup('Medium', (45, 115), (0, )),
    'near': KAISTSetup('Near', (115, math.inf), (0, )),
    'occ_none': KAISTSetup('None', (1, math.inf), (0, )),
    'occ_partial': KAISTSetup('Partial', (1, math.inf), (1, )),
    'occ_heavy': KAISTSetup('Heavy', (1, math.inf), (2, )),
}

SETUP_LISTS: Dict[str, Tuple[str, ...]] = {
    # The original Python KAISTPed evaluator (shipped with MLPD).
    'reference4': ('reasonable', 'reasonable_small', 'reasonable_occ_heavy', 'all_h20'),
    # The later 8-setup copy of the evaluator (KAIST benchmark scripts).
    'extended8': ('reasonable', 'all', 'far', 'medium', 'near', 'occ_none', 'occ_partial', 'occ_heavy'),
}

_IM_NAME_RE = re.compile(r'^set(\d{2})/V(\d{3})/I(\d{5})$')
_FRAME_IN_PATH_RE = re.compile(r'(set\d{2})[/\\_](V\d{3})[/\\_](?:[^/\\]+[/\\])*?(I\d{5})(?:\.[^/\\]*)?$')


def resolve_setups(setups: Union[str, Sequence[str]] = ('reference4', 'extended8')) -> List[str]:
    """Expand setup-list names (``'reference4'``, ``'extended8'``) and setup keys into unique setup keys.

    Args:
        setups (str | Sequence[str]): List names and/or keys of :data:`KAIST_SETUPS`.

    Returns:
        list[str]: Setup keys in first-seen order, duplicates removed.
    """
    names = [setups] if isinstance(setups, str) else list(setups)
    if not names:
        raise ValueError('setups is empty: expected setup-list names '
                         f'{sorted(SETUP_LISTS)} and/or setup keys {sorted(KAIST_SETUPS)}')
    keys: List[str] = []
    for name in names:
        if name in SETUP_LISTS:
            expanded = SETUP_LISTS[name]
        elif name in KAIST_SETUPS:
            expanded = (name, )
        else:
            raise ValueError(f'unknown KAIST setup {name!r}: expected one of the setup lists '
                             f'{sorted(SETUP_LISTS)} or the setup keys {sorted(KAIST_SETUPS)}')
        keys.extend(key for key in expanded if key not in keys)
    return keys


def frame_key_from_path(img_path: str) -> str:
    """Frame key ``'setXX/V00Y/I#####'`` of an image path.

    Accepts ``.../setXX/V00Y/I#####.jpg``, the raw ``.../setXX/V00Y/visible/I#####.jpg`` and flattened
    ``setXX_V00Y_I#####.jpg`` names.
    """
    match = _FRAME_IN_PATH_RE.search(str(img_path))
    if match is None:
        raise ValueError(f'cannot derive a KAIST frame key from image path {img_path!r}: expected a path ending '
                         'in setXX/V00Y/I#####.<ext> (or setXX/V00Y/<modality>/I#####.<ext>)')
    return '/'.join(match.groups())


def _positions_of_ids(sorted_image_ids: np.ndarray, image_ids: np.ndarray, ann_file: str, source: str,
                      item: str) -> np.ndarray:
    """Positions (K, ) of json image ids (K, ) in ``sorted_image_ids`` (N, ); raises on unknown ids."""
    image_ids = np.asarray(image_ids, dtype=np.int64)
    positions = np.minimum(np.searchsorted(sorted_image_ids, image_ids), len(sorted_image_ids) - 1)
    unknown = sorted_image_ids[positions] != image_ids
    if unknown.any():
        first = int(np.flatnonzero(unknown)[0])
        raise ValueError(f'{source}: {int(unknown.sum())} {item}(s) refer to image ids that are not in the '
                         f'ground truth {ann_file!r} (first: json image id {int(image_ids[first])} at {item} '
                         f'{first}); expected json ids in [{int(sorted_image_ids[0])}, '
                         f'{int(sorted_image_ids[-1])}]')
    return positions


@dataclass(frozen=True)
class KAISTGroundTruth:
    """Evaluator ground truth, images in evaluator order, boxes grouped by image.

    Attributes:
        ann_file (str): Source file.
        image_ids (np.ndarray): (N, ) int64 json image ids, ascending.
        frame_keys (tuple[str, ...]): (N, ) ``im_name`` of each image.
        is_night (np.ndarray): (N, ) bool, derived from the set id of ``im_name``.
        image_index (np.ndarray): (G, ) int64 evaluator position of each box's image, non-decreasing.
        boxes (np.ndarray): (G, 4) float64 xywh, file order within an image.
        heights (np.ndarray): (G, ) float64 ``height`` field.
        occlusions (np.ndarray): (G, ) int64 ``occlusion`` field.
        ignore (np.ndarray): (G, ) bool pristine ``ignore`` field (never modified).
        ann_ids (np.ndarray): (G, ) int64 json annotation ids.
    """
    ann_file: str
    image_ids: np.ndarray
    frame_keys: Tuple[str, ...]
    is_night: np.ndarray
    image_index: np.ndarray
    boxes: np.ndarray
    heights: np.ndarray
    occlusions: np.ndarray
    ignore: np.ndarray
    ann_ids: np.ndarray

    @property
    def num_images(self) -> int:
        return len(self.image_ids)

    def subset_mask(self, subset: str) -> np.ndarray:
        """(N, ) bool mask of the images in ``subset`` (``'all'``, ``'day'`` or ``'night'``)."""
        if subset == 'all':
            return np.ones(self.num_images, dtype=bool)
        if subset == 'day':
            return ~self.is_night
        if subset == 'night':
            return self.is_night.copy()
        raise ValueError(f'unknown KAIST subset {subset!r}: expected one of {SUBSETS}')

    def index_of_image_ids(self, image_ids: np.ndarray, source: str = 'detections') -> np.ndarray:
        """Evaluator positions (D, ) of json image ids (D, ); raises on ids absent from the GT."""
        return _positions_of_ids(self.image_ids, image_ids, self.ann_file, source, 'detection')

    def frame_index(self) -> Dict[str, int]:
        """Map frame key -> evaluator position."""
        return {key: position for position, key in enumerate(self.frame_keys)}


def _require(record: dict, keys: Sequence[str], where: str) -> None:
    if not isinstance(record, dict):
        raise ValueError(f'{where}: expected a json object, got {type(record).__name__}')
    missing = [key for key in keys if key not in record]
    if missing:
        raise ValueError(f'{where}: missing key(s) {missing}; expected keys {list(keys)}')


def load_kaist_gt(ann_file: str, person_category_id: int = 1) -> KAISTGroundTruth:
    """Load the evaluator ground truth (``KAIST_annotation.json`` / ``kaist_test_eval.json`` format).

    Args:
        ann_file (str): Json with ``images`` (``id``, ``im_name``) and ``annotations`` (``image_id``,
            ``category_id``, ``bbox`` xywh, ``height``, ``occlusion``, ``ignore``).
        person_category_id (int): Only boxes of this category are evaluated, as in the reference
            (``catIds = [1]``); others are reported by a warning.

    Returns:
        KAISTGroundTruth: The parsed ground truth.
    """
    with open(ann_file) as f:
        data = json.load(f)
    _require(data, ('images', 'annotations'), ann_file)
    images, annotations = data['images'], data['annotations']
    if not images:
        raise ValueError(f'{ann_file}: "images" is empty')
    for i, image in enumerate(images):
        _require(image, ('id', 'im_name'), f'{ann_file}: images[{i}]')
    image_ids = np.array([image['id'] for image in images], dtype=np.int64)
    order = np.argsort(image_ids, kind='stable')
    image_ids = image_ids[order]
    if (np.diff(image_ids) == 0).any():
        duplicate = int(image_ids[np.flatnonzero(np.diff(image_ids) == 0)[0]])
        raise ValueError(f'{ann_file}: duplicate image id {duplicate} in "images"')
    frame_keys = tuple(str(images[i]['im_name']) for i in order)
    is_night = np.zeros(len(frame_keys), dtype=bool)
    for position, key in enumerate(frame_keys):
        match = _IM_NAME_RE.match(key)
        if match is None:
            raise ValueError(f'{ann_file}: image id {int(image_ids[position])} has im_name {key!r}; expected '
                             "'setXX/V00Y/I#####'")
        set_id = int(match.group(1))
        if set_id not in NIGHT_SETS and set_id not in DAY_SETS:
            raise ValueError(f'{ann_file}: im_name {key!r} names set {set_id:02d}; KAIST has sets 00-11 only '
                             '(day/night is derived from the set id)')
        is_night[position] = set_id in NIGHT_SETS

    keys = ('id', 'image_id', 'category_id', 'bbox', 'height', 'occlusion', 'ignore')
    kept = []
    for i, ann in enumerate(annotations):
        _require(ann, keys, f'{ann_file}: annotations[{i}]')
        if len(ann['bbox']) != 4:
            raise ValueError(f'{ann_file}: annotations[{i}] bbox {ann["bbox"]!r} is not [x, y, w, h]')
        if ann['category_id'] == person_category_id:
            kept.append(ann)
    if len(kept) < len(annotations):
        warnings.warn(f'{ann_file}: {len(annotations) - len(kept)} annotation(s) with category_id != '
                      f'{person_category_id} are not evaluated (as in the reference evaluator)', stacklevel=2)
    columns = {
        'boxes': np.array([ann['bbox'] for ann in kept], dtype=np.float64).reshape(-1, 4),
        'heights': np.array([ann['height'] for ann in kept], dtype=np.float64),
        'occlusions': np.array([ann['occlusion'] for ann in kept], dtype=np.int64),
        'ignore': np.array([ann['ignore'] for ann in kept], dtype=np.int64) != 0,
        'ann_ids': np.array([ann['id'] for ann in kept], dtype=np.int64),
    }
    image_index = _positions_of_ids(image_ids, np.array([ann['image_id'] for ann in kept], dtype=np.int64),
                                    ann_file, ann_file, 'annotation')
    # Group boxes by image in evaluator order, keeping file order within an image (the reference's getAnnIds).
    group = np.argsort(image_index, kind='stable')
    return KAISTGroundTruth(
        ann_file=str(ann_file),
        image_ids=image_ids,
        frame_keys=frame_keys,
        is_night=is_night,
        image_index=image_index[group],
        **{name: column[group] for name, column in columns.items()})


@dataclass(frozen=True)
class KAISTDetections:
    """Person detections of one method on the evaluator images.

    Attributes:
        image_index (np.ndarray): (D, ) int64 evaluator position of each detection's image.
        boxes (np.ndarray): (D, 4) float64 xywh in original pixels.
        scores (np.ndarray): (D, ) float64.
        source (str): Where they came from (for messages).
    """
    image_index: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray
    source: str = '<arrays>'

    def __post_init__(self):
        num = len(self.scores)
        if self.image_index.shape != (num, ) or self.boxes.shape != (num, 4) or self.scores.shape != (num, ):
            raise ValueError(f'{self.source}: inconsistent detection arrays: image_index '
                             f'{self.image_index.shape}, boxes {self.boxes.shape}, scores {self.scores.shape}; '
                             'expected (D,), (D, 4), (D,)')
        if not (np.isfinite(self.boxes).all() and np.isfinite(self.scores).all()):
            raise ValueError(f'{self.source}: detections contain non-finite box coordinates or scores')

    def __len__(self) -> int:
        return len(self.scores)

    def sorted_per_image(self) -> 'KAISTDetections':
        """Detections in evaluator image order, descending score within an image (stable)."""
        order = np.lexsort((-self.scores, self.image_index))
        return KAISTDetections(self.image_index[order], self.boxes[order], self.scores[order], self.source)


def detections_from_arrays(gt: KAISTGroundTruth,
                           image_ids: np.ndarray,
                           boxes_xywh: np.ndarray,
                           scores: np.ndarray,
                           source: str = '<arrays>') -> KAISTDetections:
    """Build detections from json image ids (D, ), xywh boxes (D, 4) and scores (D, )."""
    image_ids = np.asarray(image_ids)
    if image_ids.size and not np.array_equal(image_ids, np.round(image_ids)):
        raise ValueError(f'{source}: image ids must be integers, got e.g. {image_ids.ravel()[0]!r}')
    image_index = gt.index_of_image_ids(image_ids.astype(np.int64), source=source)
    return KAISTDetections(image_index,
                           np.asarray(boxes_xywh, dtype=np.float64).reshape(-1, 4),
                           np.asarray(scores, dtype=np.float64).reshape(-1), source)


def load_detections_txt(path: str, gt: KAISTGroundTruth) -> KAISTDetections:
    """Load a reference result txt: one ``image_id,x,y,w,h,score`` per line, ``image_id`` = json id + 1."""
    rows = []
    with open(path) as f:
        for line_no, line in enumerate(f, start=1):
            line = line.strip()
            if not line:
                continue
            fields = line.split(',')
            if len(fields) != 6:
                raise ValueError(f'{path}:{line_no}: expected 6 comma-separated columns '
                                 f'"image_id,x,y,w,h,score", got {len(fields)}: {line!r}')
            try:
                rows.append([float(field) for field in fields])
            except ValueError:
                raise ValueError(f'{path}:{line_no}: non-numeric field in {line!r}') from None
    if not rows:
        raise ValueError(f'{path}: no detections (empty file); expected lines "image_id,x,y,w,h,score"')
    table = np.array(rows, dtype=np.float64)
    return detections_from_arrays(gt, table[:, 0] - 1, table[:, 1:5], table[:, 5], source=str(path))


def load_detections_json(path: str, gt: KAISTGroundTruth, person_category_id: Optional[int] = 1) -> KAISTDetections:
    """Load COCO-style results: a list of ``{image_id (json id), bbox xywh, score, category_id}``.

    Args:
        path (str): The json file.
        gt (KAISTGroundTruth): Ground truth the image ids refer to.
        person_category_id (int, optional): Only results of this category are evaluated (the reference loads
            ``catIds = [1]``); results without ``category_id`` count as persons. ``None`` keeps all.
    """
    with open(path) as f:
        results = json.load(f)
    if not isinstance(results, list):
        raise ValueError(f'{path}: expected a json list of detections, got {type(results).__name__}')
    if not results:
        raise ValueError(f'{path}: no detections (empty list)')
    kept = []
    for i, result in enumerate(results):
        _require(result, ('image_id', 'bbox', 'score'), f'{path}: detection {i}')
        if len(result['bbox']) != 4:
            raise ValueError(f'{path}: detection {i} bbox {result["bbox"]!r} is not [x, y, w, h]')
        if person_category_id is None or result.get('category_id', person_category_id) == person_category_id:
            kept.append(result)
    if len(kept) < len(results):
        warnings.warn(f'{path}: {len(results) - len(kept)} detection(s) with category_id != {person_category_id} '
                      'are not evaluated', stacklevel=2)
    return detections_from_arrays(gt, [r['image_id'] for r in kept], [r['bbox'] for r in kept],
                                  [r['score'] for r in kept], source=str(path))


def load_detections(path: str, gt: KAISTGroundTruth) -> KAISTDetections:
    """Load detections from a ``.txt`` (reference format) or ``.json`` (COCO results) file."""
    extension = osp.splitext(str(path))[1].lower()
    if extension == '.txt':
        return load_detections_txt(path, gt)
    if extension == '.json':
        return load_detections_json(path, gt)
    raise ValueError(f'{path}: unsupported detection file type {extension!r}; expected .txt or .json')


@dataclass(frozen=True)
class _CandidatePairs:
    """Detection-GT pairs that can match (crowd IoU >= threshold), setup independent."""
    det: np.ndarray  # (P, ) index into the per-image sorted detections
    gt: np.ndarray  # (P, ) index into the GT boxes, ascending within a detection
    iou: np.ndarray  # (P, ) intersection over union
    crowd_iou: np.ndarray  # (P, ) intersection over detection area (used for ignored GTs)


def _candidate_pairs(gt: KAISTGroundTruth, dets: KAISTDetections, match_thr: float) -> _CandidatePairs:
    """Vectorised per-image IoU of every detection with every GT box of its image."""
    gt_count = np.bincount(gt.image_index, minlength=gt.num_images)
    gt_start = np.cumsum(gt_count) - gt_count
    pairs_per_det = gt_count[dets.image_index]
    pair_det = np.repeat(np.arange(len(dets)), pairs_per_det)
    pair_offset = np.arange(len(pair_det)) - np.repeat(np.cumsum(pairs_per_det) - pairs_per_det, pairs_per_det)
    pair_gt = gt_start[dets.image_index[pair_det]] + pair_offset
    det_boxes, gt_boxes = dets.boxes[pair_det], gt.boxes[pair_gt]
    # Same operations, in the same order, as the reference's scalar IoU.
    inter_w = (np.minimum(det_boxes[:, 0] + det_boxes[:, 2], gt_boxes[:, 0] + gt_boxes[:, 2]) -
               np.maximum(det_boxes[:, 0], gt_boxes[:, 0]))
    inter_h = (np.minimum(det_boxes[:, 1] + det_boxes[:, 3], gt_boxes[:, 1] + gt_boxes[:, 3]) -
               np.maximum(det_boxes[:, 1], gt_boxes[:, 1]))
    overlapping = (inter_w > 0) & (inter_h > 0)
    inter = np.where(overlapping, inter_w * inter_h, 0.0)
    det_area = det_boxes[:, 2] * det_boxes[:, 3]
    gt_area = gt_boxes[:, 2] * gt_boxes[:, 3]
    with np.errstate(divide='ignore', invalid='ignore'):
        iou = np.where(overlapping, inter / (det_area + gt_area - inter), 0.0)
        crowd_iou = np.where(overlapping, inter / det_area, 0.0)
    # crowd_iou >= iou, so this keeps every pair that can match a regular or an ignored GT.
    keep = crowd_iou >= match_thr
    return _CandidatePairs(pair_det[keep], pair_gt[keep], iou[keep], crowd_iou[keep])


def gt_ignore_flags(gt: KAISTGroundTruth, setup: KAISTSetup) -> np.ndarray:
    """(G, ) bool ignore flags of one setup, recomputed from the pristine flags (docs/en/method.md#evaluation-protocols
    step 3)."""
    low, high = setup.height_range
    x1, y1 = gt.boxes[:, 0], gt.boxes[:, 1]
    x2, y2 = x1 + gt.boxes[:, 2], y1 + gt.boxes[:, 3]
    return (gt.ignore | (gt.heights < low) | (gt.heights > high) | ~np.isin(gt.occlusions, setup.occlusions)
            | (x1 < BOUNDARY[0]) | (y1 < BOUNDARY[1]) | (x2 > BOUNDARY[2]) | (y2 > BOUNDARY[3]))


def _greedy_match(pairs: _CandidatePairs, gt_ignored: np.ndarray, num_dets: int, match_thr: float) -> np.ndarray:
    """Reference greedy matching of detections (in per-image score order) to regular GTs.

    Each detection takes the unmatched regular GT with the highest IoU >= ``match_thr`` (ties: the later GT).

    Returns:
        np.ndarray: (D, ) int64 matched GT index, -1 where unmatched.
    """
    regular = ~gt_ignored[pairs.gt] & (pairs.iou >= match_thr)
    pair_det = pairs.det[regular].tolist()
    pair_gt = pairs.gt[regular].tolist()
    pair_iou = pairs.iou[regular].tolist()
    det_match = np.full(num_dets, -1, dtype=np.int64)
    gt_taken = bytearray(len(gt_ignored))
    current_det, best_gt, best_iou = -1, -1, match_thr
    # Pairs are ordered by detection, then GT: one pass reproduces the reference's nested loops.
    for det_idx, gt_idx, iou in zip(pair_det, pair_gt, pair_iou):
        if det_idx != current_det:
            if best_gt >= 0:
                gt_taken[best_gt] = 1
                det_match[current_det] = best_gt
            current_det, best_gt, best_iou = det_idx, -1, match_thr
        if gt_taken[gt_idx] or iou < best_iou:
            continue
        best_gt, best_iou = gt_idx, iou
    if best_gt >= 0:
        det_match[current_det] = best_gt
    return det_match


def log_average_miss_rate(recall_at_points: np.ndarray) -> float:
    """MR^-2 in percent: exp(mean(ln(1 - recall))) * 100 over the FPPI reference points (0 where recall hits 1)."""
    with np.errstate(divide='ignore'):
        return float(np.exp(np.mean(np.log(1.0 - np.asarray(recall_at_points, dtype=np.float64)))) * 100.0)


@dataclass(frozen=True)
class KAISTEvalResult:
    """Evaluation of one detection set.

    Attributes:
        miss_rates (dict): setup key -> subset -> MR^-2 in percent (NaN when the subset has no positive).
        recalls (dict): setup key -> subset -> final recall in percent (all kept detections).
        faithful_quirks (bool): Whether the reference's quirks were reproduced.
        curves (dict): With ``return_curves``: setup key -> subset -> (fppi, miss rate), float64 arrays over the
            kept detections in score order (the MR-FPPI curve the reference evaluator draws); else empty.
    """
    miss_rates: Dict[str, Dict[str, float]]
    recalls: Dict[str, Dict[str, float]]
    faithful_quirks: bool
    curves: Dict[str, Dict[str, Tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)


def evaluate_kaist(gt: KAISTGroundTruth,
                   dets: KAISTDetections,
                   setups: Union[str, Sequence[str]] = ('reference4', 'extended8'),
                   subsets: Sequence[str] = SUBSETS,
                   faithful_quirks: bool = True,
                   iou_thr: float = IOU_THR,
                   max_dets: int = MAX_DETS,
                   return_curves: bool = False,
                   frames: Optional[np.ndarray] = None) -> KAISTEvalResult:
    """Log-average miss rates of ``dets`` for every setup and subset (docs/en/method.md#evaluation-protocols steps 1-9).

    Detections are sorted by descending score within each image (stable) before matching, so their input
    order does not matter.

    ``faithful_quirks=True`` reproduces the reference evaluator: images with GT but no detection are skipped
    (their GTs are not misses); an FPPI point below the first false positive takes the final recall (index -1
    wraps); a detection matched to the GT box whose json id is 0 counts as a false positive (the reference stores
    the matched id and treats id 0 as "unmatched"). ``False`` counts those GTs as misses, gives unreachable points
    recall 0 and counts that match as a true positive.

    ``frames`` (bool, (num_images, ), default all) restricts the evaluation to those frames: the others' GT boxes
    and images leave every subset (positives and the FPPI denominator), as for a run on part of the test set.
    """
    setup_keys = resolve_setups(setups)
    if frames is not None:
        frames = np.asarray(frames, dtype=bool)
        if frames.shape != (gt.num_images, ):
            raise ValueError(f'frames must be a bool mask of shape ({gt.num_images},), got {frames.shape}')
    for subset in subsets:
        gt.subset_mask(subset)  # validates the name
    dets = dets.sorted_per_image()
    # Keep the top ``max_dets`` detections of each image.
    image_start = np.searchsorted(dets.image_index, dets.image_index, side='left')
    within_limit = np.arange(len(dets)) - image_start < max_dets
    if not within_limit.all():
        dets = KAISTDetections(dets.image_index[within_limit], dets.boxes[within_limit], dets.scores[within_limit],
                               dets.source)
    match_thr = min(iou_thr, 1 - 1e-10)  # the reference's starting "best IoU"
    pairs = _candidate_pairs(gt, dets, match_thr)
    # Accumulation order: the reference concatenates images in evaluator order and stably sorts by -score.
    score_order = np.argsort(-dets.scores, kind='stable')
    det_image_sorted = dets.image_index[score_order]
    has_det = np.bincount(dets.image_index, minlength=gt.num_images) > 0
    subset_masks = {
        subset: gt.subset_mask(subset) if frames is None else gt.subset_mask(subset) & frames
        for subset in subsets
    }
    quirk_fp = (gt.ann_ids == 0) if faithful_quirks else np.zeros(len(gt.ann_ids), dtype=bool)

    miss_rates: Dict[str, Dict[str, float]] = {}
    recalls: Dict[str, Dict[str, float]] = {}
    curves: Dict[str, Dict[str, Tuple[np.ndarray, np.ndarray]]] = {}
    for key in setup_keys:
        gt_ignored = gt_ignore_flags(gt, KAIST_SETUPS[key])
        det_match = _greedy_match(pairs, gt_ignored, len(dets), match_thr)
        matched = det_match >= 0
        hits_ignored = np.zeros(len(dets), dtype=bool)
        to_ignored = gt_ignored[pairs.gt] & (pairs.crowd_iou >= match_thr)
        hits_ignored[pairs.det[to_ignored]] = True
        dropped = ~matched & hits_ignored
        true_pos = matched.copy()
        true_pos[matched] &= ~quirk_fp[det_match[matched]]
        # Every kept detection is a TP or an FP; those on ignored GTs are dropped. Score order from here on.
        true_pos_sorted, dropped_sorted = true_pos[score_order], dropped[score_order]
        positives_per_image = np.bincount(gt.image_index[~gt_ignored], minlength=gt.num_images)
        miss_rates[key], recalls[key] = {}, {}
        if return_curves:
            curves[key] = {}
        for subset, in_subset in subset_masks.items():
            counted_images = in_subset & has_det if faithful_quirks else in_subset
            num_positives = int(positives_per_image[counted_images].sum())
            kept = in_subset[det_image_sorted] & ~dropped_sorted
            tp_cum = np.cumsum(true_pos_sorted[kept], dtype=np.float64)
            fp_cum = np.cumsum(~true_pos_sorted[kept], dtype=np.float64)
            if num_positives == 0:
                miss_rates[key][subset], recalls[key][subset] = math.nan, math.nan
                if return_curves:
                    curves[key][subset] = (np.zeros(0), np.zeros(0))
                continue
            recall = tp_cum / num_positives
            fppi = fp_cum / int(in_subset.sum())
            if return_curves:
                curves[key][subset] = (fppi, 1.0 - recall)
            point_index = np.searchsorted(fppi, FPPI_REFERENCE_POINTS, side='right') - 1
            if len(recall) == 0:
                recall_at_points = np.zeros(len(FPPI_REFERENCE_POINTS))
            elif faithful_quirks:
                recall_at_points = recall[point_index]
            else:
                recall_at_points = np.where(point_index >= 0, recall[np.maximum(point_index, 0)], 0.0)
            miss_rates[key][subset] = log_average_miss_rate(recall_at_points)
            recalls[key][subset] = float(recall[-1] * 100.0) if len(recall) else 0.0
    return KAISTEvalResult(miss_rates, recalls, faithful_quirks, curves)


def format_miss_rate_table(miss_rates: Dict[str, Dict[str, float]], subsets: Sequence[str] = SUBSETS) -> str:
    """Plain-text table, one row per setup, one MR^-2 (%) column per subset."""
    width = max([len('setup')] + [len(key) for key in miss_rates])
    lines = [f'{"setup":<{width}}' + ''.join(f'{subset:>9}' for subset in subsets)]
    for key, per_subset in miss_rates.items():
        lines.append(f'{key:<{width}}' + ''.join(f'{per_subset[subset]:>9.2f}' for subset in subsets))
    return '\n'.join(lines)


def evaluate_kaist_file(ann_file: str,
                        result_file: str,
                        setups: Union[str, Sequence[str]] = ('reference4', 'extended8'),
                        faithful_quirks: bool = True) -> KAISTEvalResult:
    """Convenience wrapper: load the GT and a ``.txt`` / ``.json`` result file, then :func:`evaluate_kaist`."""
    gt = load_kaist_gt(ann_file)
    return evaluate_kaist(gt, load_detections(result_file, gt), setups=setups, faithful_quirks=faithful_quirks)


def write_reference_txt(path: str, gt: KAISTGroundTruth, dets: KAISTDetections) -> None:
    """Write the reference result txt: ``image_id,x,y,w,h,score`` (json id + 1; 4 / 8 decimals).

    Lines are in evaluator image order and descending score within an image, the order the reference evaluator
    relies on.
    """
    dets = dets.sorted_per_image()
    image_numbers = gt.image_ids[dets.image_index] + 1
    lines = [
        f'{number},{x:.4f},{y:.4f},{w:.4f},{h:.4f},{score:.8f}\n'
        for number, (x, y, w, h), score in zip(image_numbers.tolist(), dets.boxes.tolist(), dets.scores.tolist())
    ]
    parent = osp.dirname(osp.abspath(path))
    os.makedirs(parent, exist_ok=True)
    with open(path, 'w') as f:
        f.writelines(lines)


def write_matlab_txt(out_dir: str, gt: KAISTGroundTruth, dets: KAISTDetections) -> List[str]:
    """Write one ``setXX_VYYY_IZZZZZ.txt`` per evaluator frame, lines ``person x1 y1 x2 y2 score``.

    Every frame gets a file (empty when it has no detection). Returns the written paths.
    """
    dets = dets.sorted_per_image()
    os.makedirs(out_dir, exist_ok=True)
    boundaries = np.searchsorted(dets.image_index, np.arange(gt.num_images + 1))
    corners = np.concatenate([dets.boxes[:, :2], dets.boxes[:, :2] + dets.boxes[:, 2:]], axis=1).tolist()
    scores = dets.scores.tolist()
    paths = []
    for position, key in enumerate(gt.frame_keys):
        path = osp.join(out_dir, key.replace('/', '_') + '.txt')
        with open(path, 'w') as f:
            f.writelines(f'person {x1:.4f} {y1:.4f} {x2:.4f} {y2:.4f} {scores[i]:.8f}\n'
                         for i, (x1, y1, x2, y2) in enumerate(
                             corners[boundaries[position]:boundaries[position + 1]], start=boundaries[position]))
        paths.append(path)
    return paths
