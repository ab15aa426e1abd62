# Copyright (c) mmspecgene contributors. All rights reserved.
"""Host-free validation of annotation files, with errors that name the file and the offending value."""
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.fileio import get_local_path

from .tar_shards import short_repr

COCO_KEYS = ('images', 'annotations', 'categories')
COCO_IMAGE_KEYS = ('id', 'file_name', 'width', 'height')


def load_coco_json(ann_file: str, backend_args=None, image_keys: Sequence[str] = COCO_IMAGE_KEYS) -> dict:
    """Read a COCO json and check its top-level structure and that every image entry has ``image_keys``."""
    with get_local_path(ann_file, backend_args=backend_args) as local_path:
        if not osp.isfile(local_path):
            raise FileNotFoundError(f'annotation file not found: {ann_file}')
        if osp.getsize(local_path) == 0:
            raise ValueError(f'annotation file is empty: {ann_file}')
        try:
            with open(local_path, encoding='utf-8') as f:
                data = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'annotation file is not valid JSON ({err}): {ann_file}') from None
    if not isinstance(data, dict):
        raise ValueError(f'annotation file must hold a COCO dict with keys {COCO_KEYS}, got '
                         f'{type(data).__name__}: {ann_file}')
    missing = [k for k in COCO_KEYS if k not in data]
    if missing:
        raise ValueError(f'annotation file lacks COCO keys {missing}: {ann_file}')
    if not isinstance(data['images'], list) or not data['images']:
        raise ValueError(f'annotation file lists no images: {ann_file}')
    for number, img in enumerate(data['images']):
        lacking = [key for key in image_keys if key not in img] if isinstance(img, dict) else list(image_keys)
        if lacking:
            raise ValueError(f'images[{number}] of {ann_file} lacks {lacking} (an image entry needs '
                             f'{list(image_keys)}): {short_repr(img)}')
    return data


def coco_category_labels(data: dict, classes: Sequence[str], ann_file: str,
                         ignore_unknown_categories: bool = False,
                         check_category_order: bool = False) -> Tuple[Dict[int, int], Dict[str, int]]:
    """Map json category ids to label indices = positions in ``classes``.

    Returns:
        tuple: ``{category_id: label}`` and ``{ignored category name: number of annotations}``.
    """
    cat_names = {}
    for cat in data['categories']:
        if 'id' not in cat or 'name' not in cat:
            raise ValueError(f'category entry {cat} lacks id/name: {ann_file}')
        cat_names[cat['id']] = cat['name']
    unknown = [name for name in cat_names.values() if name not in classes]
    if unknown and not ignore_unknown_categories:
        raise ValueError(f'categories {unknown} of {ann_file} are not in the dataset classes {tuple(classes)}; '
                         f'set ignore_unknown_categories=True to drop (and count) them')
    if check_category_order:
        json_order = [name for name in cat_names.values() if name in classes]
        if json_order != list(classes)[:len(json_order)] or len(json_order) != len(classes):
            raise ValueError(f'category order {json_order} of {ann_file} differs from the dataset classes '
                             f'{tuple(classes)} (check_category_order=True)')
    cat2label = {cid: classes.index(name) for cid, name in cat_names.items() if name in classes}
    ignored: Dict[str, int] = {}
    image_ids = {img['id'] for img in data['images']}
    for ann in data['annotations']:
        cid = ann.get('category_id')
        if cid not in cat_names:
            raise ValueError(f'annotation id={ann.get("id")} has category_id={cid!r}, which is not listed in '
                             f'the categories {sorted(cat_names)} of {ann_file}')
        if ann.get('image_id') not in image_ids:
            raise ValueError(f'annotation id={ann.get("id")} refers to image_id={ann.get("image_id")!r}, which '
                             f'is not in the images of {ann_file}')
        bbox = ann.get('bbox')
        if not isinstance(bbox, (list, tuple)) or len(bbox) != 4:
            raise ValueError(f'annotation id={ann.get("id")} has bbox={bbox!r}; expected [x, y, w, h]: {ann_file}')
        if cid not in cat2label:
            ignored[cat_names[cid]] = ignored.get(cat_names[cid], 0) + 1
    return cat2label, ignored


def degenerate_reason(bbox: Sequence[float], area, img_w: float, img_h: float) -> Optional[Tuple[str, str]]:
    """Why mmdet's ``CocoDataset`` drops a box ``[x, y, w, h]`` (no overlap with the image, area <= 0, width or
    height below one pixel) as ``(reason, details)``, or None when it keeps it. The first matching reason is given.
    """
    x, y, w, h = bbox
    details = f'bbox={list(bbox)}, area={area}, image {img_w}x{img_h}'
    if w <= 0 or h <= 0:
        return 'non-positive width or height', details
    if w < 1 or h < 1:
        return 'width or height below 1 px', details
    if min(x + w, img_w) - max(x, 0) <= 0 or min(y + h, img_h) - max(y, 0) <= 0:
        return 'outside the image', details
    if area <= 0:
        return 'area <= 0', details
    return None


def coco_dropped_annotations(data: dict, cat_ids: Sequence[int],
                             ann_file: str) -> Tuple[List[tuple], List[Tuple[int, int]]]:
    """The annotations of ``cat_ids`` that mmdet's ``CocoDataset`` silently leaves out.

    Returns:
        tuple: ``[(annotation id, image id, reason)]`` for degenerate boxes (:func:`degenerate_reason`) and
        ``[(annotation id, image id)]`` for annotations flagged ``ignore`` (legitimately skipped); a reason is
        ``(reason, details)``.
    """
    images = {img['id']: img for img in data['images']}
    wanted = set(cat_ids)
    degenerate, flagged = [], []
    for ann in data['annotations']:
        if ann.get('category_id') not in wanted:
            continue
        ids = (ann.get('id'), ann.get('image_id'))
        if ann.get('ignore', False):
            flagged.append(ids)
            continue
        if 'area' not in ann:
            raise ValueError(f'annotation id={ids[0]} (image id={ids[1]}) has no "area": {ann_file}')
        img = images[ann['image_id']]
        reason = degenerate_reason(ann['bbox'], ann['area'], img['width'], img['height'])
        if reason is not None:
            degenerate.append(ids + (reason, ))
    return degenerate, flagged


def check_label_values(label, num_classes: int, ignore_index: Optional[int], seg_map_path: str,
                       reduce_zero_label: bool = False, hint: str = '') -> None:
    """Raise a ValueError naming ``seg_map_path`` when a label map holds values outside ``0..num_classes-1`` other
    than ``ignore_index`` (otherwise the loss fails later inside torch, without the file).

    Args:
        label: The label map as the model will see it (numpy array or tensor, after ``reduce_zero_label``).
        ignore_index (int, optional): The allowed ignore label; None allows none.
        reduce_zero_label (bool): The map was reduced (file value ``v`` became ``v - 1``, 0 became the ignore
            index); the message then gives the file values too.
        hint (str): Appended to the message.
    """
    bad = (label >= num_classes) | (label < 0)
    if ignore_index is not None:
        bad &= label != ignore_index
    if not bad.any():
        return
    values = sorted({int(v) for v in label[bad].reshape(-1).tolist()})[:20]
    ignore = '' if ignore_index is None else f', or the ignore index {ignore_index}'
    if reduce_zero_label:
        raise ValueError(f'label values {values} of {seg_map_path} are out of range after reduce_zero_label '
                         f'(file values {[v + 1 for v in values]}): expected file values 0 (ignored) and 1..'
                         f'{num_classes} for the {num_classes} classes{ignore}{hint}')
    raise ValueError(f'label values {values} of {seg_map_path} are out of range: expected 0..{num_classes - 1} for '
                     f'the {num_classes} classes{ignore}{hint}')


def read_pair_list(ann_file: str, backend_args=None) -> List[Tuple[str, str]]:
    """Read ``<visible_rel> <infrared_rel>`` lines; errors name the file and line."""
    with get_local_path(ann_file, backend_args=backend_args) as local_path:
        if not osp.isfile(local_path):
            raise FileNotFoundError(f'pair list not found: {ann_file}')
        with open(local_path, encoding='utf-8') as f:
            lines = f.read().splitlines()
    pairs = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith('#'):
            continue
        fields = line.split()
        if len(fields) != 2:
            raise ValueError(f'{ann_file}:{lineno}: expected "<visible_rel> <infrared_rel>", got {line!r}')
        pairs.append((fields[0], fields[1]))
    if not pairs:
        raise ValueError(f'pair list has no pairs: {ann_file}')
    return pairs


def mirrored_pairs(rgb_root: str, img_suffix=None, ir_suffix=None) -> List[Tuple[str, str]]:
    """(rel, rel) for every ``img_suffix`` file under ``rgb_root`` (sorted; default: every image suffix of
    ``IMG_EXTENSIONS``, any letter case); ``ir_suffix`` replaces the thermal file's suffix.

    Linked folders are followed and each real folder is listed once (a link loop cannot hang the scan); finding
    no image, or a link that points nowhere, is an error naming the folder.
    """
    from .converters.files import IMG_EXTENSIONS
    from .converters.trees import scan_tree  # the one link-following, loop-safe folder scan
    if img_suffix is None:
        img_suffix = IMG_EXTENSIONS
    suffixes = (img_suffix, ) if isinstance(img_suffix, str) else tuple(img_suffix)
    scan = scan_tree(rgb_root, 'visible images', exts=tuple(s.lower() for s in suffixes))
    if scan.broken:
        raise FileNotFoundError(f'{len(scan.broken)} broken symbolic link(s) under the visible root {rgb_root}: '
                                f'{scan.broken[:5]}')
    if ir_suffix is None:
        return [(rel, rel) for rel in scan.files]
    return [(rel, osp.splitext(rel)[0] + ir_suffix) for rel in scan.files]
