# Copyright (c) mmspecgene contributors. All rights reserved.
"""Detection samples: Pascal-VOC parsing, COCO json writing (rectangle polygons) and conversion of a split."""
import os
import os.path as osp
import xml.etree.ElementTree as ET
from collections import Counter
from typing import List, Optional, Sequence, Tuple, Union

from .report import MISSING_ANNOTATION, ConversionReport, dump_json, iter_progress
from .samples import FileItem, check_sample, write_sample

# (report key, [visible, infrared] items, VOC xml path or [dict(name, bbox xywh[, difficult, iscrowd])])
DetSample = Tuple[str, List[FileItem], Union[str, None, List[dict]]]


# -------------------------------------------------------------------------- COCO
def rectangle_polygon(bbox: Sequence[float]) -> List[List[float]]:
    """Rectangle polygon [[x1, y1, x2, y1, x2, y2, x1, y2]] of an xywh box."""
    x1, y1, w, h = bbox
    x2, y2 = x1 + w, y1 + h
    return [[x1, y1, x2, y1, x2, y2, x1, y2]]


def coco_annotation(ann_id: int, image_id: int, category_id: int, bbox: Sequence[float], iscrowd: int = 0,
                    **extra) -> dict:
    """COCO annotation with float xywh ``bbox``, ``area`` = w·h and the rectangle ``segmentation``."""
    bbox = [float(v) for v in bbox]
    ann = dict(
        id=int(ann_id),
        image_id=int(image_id),
        category_id=int(category_id),
        bbox=bbox,
        area=bbox[2] * bbox[3],
        iscrowd=int(iscrowd),
        segmentation=rectangle_polygon(bbox))
    ann.update(extra)
    return ann


def coco_image(image_id: int, file_name: str, height: int, width: int, ir_file_name: Optional[str] = None) -> dict:
    """COCO image entry; ``ir_file_name`` only when it differs from ``file_name``."""
    image = dict(id=int(image_id), file_name=file_name, width=int(width), height=int(height))
    if ir_file_name is not None and ir_file_name != file_name:
        image['ir_file_name'] = ir_file_name
    return image


def coco_categories(class_names: Sequence[str]) -> List[dict]:
    """Categories in METAINFO order, ids from 1."""
    return [dict(id=i + 1, name=name) for i, name in enumerate(class_names)]


def write_coco_json(path: str, images: List[dict], annotations: List[dict], class_names: Sequence[str],
                    info: Optional[dict] = None) -> None:
    """Write a COCO detection json (annotation ids must start at 1: pycocotools treats id 0 as unmatched)."""
    if annotations and min(ann['id'] for ann in annotations) < 1:
        raise ValueError(f'{path}: COCO annotation ids must be >= 1')
    coco = dict(images=images, annotations=annotations, categories=coco_categories(class_names))
    if info is not None:
        coco = dict(info=info, **coco)
    dump_json(coco, path)


def valid_box(bbox: Sequence[float]) -> bool:
    """A box is kept when its width and height are positive."""
    return bbox[2] > 0 and bbox[3] > 0


# --------------------------------------------------------------------------- VOC
def parse_voc_xml(path: str) -> dict:
    """Parse a Pascal-VOC annotation.

    Returns:
        dict: ``width``/``height`` (None when absent) and ``objects`` = [dict(name, bbox xywh
        [xmin, ymin, xmax - xmin, ymax - ymin], difficult)].

    Raises:
        ValueError: malformed XML or an object without a complete ``bndbox``.
    """
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise ValueError(f'{path}: malformed XML: {err}') from err
    size = root.find('size')

    def number(node, tag):
        child = node.find(tag) if node is not None else None
        if child is None or child.text is None or not child.text.strip():
            return None
        return float(child.text)

    width, height = number(size, 'width'), number(size, 'height')
    objects = []
    for obj in root.iter('object'):
        name_node = obj.find('name')
        if name_node is None or not (name_node.text or '').strip():
            raise ValueError(f'{path}: <object> without <name>')
        box = obj.find('bndbox')
        coords = [number(box, tag) for tag in ('xmin', 'ymin', 'xmax', 'ymax')]
        if any(c is None for c in coords):
            raise ValueError(f'{path}: object {name_node.text!r} needs bndbox xmin, ymin, xmax, ymax')
        xmin, ymin, xmax, ymax = coords
        difficult = number(obj, 'difficult')
        objects.append(
            dict(
                name=name_node.text.strip(),
                bbox=[xmin, ymin, xmax - xmin, ymax - ymin],
                difficult=int(difficult or 0)))
    return dict(width=int(width) if width else None, height=int(height) if height else None, objects=objects)


# ------------------------------------------------------------ detection samples
def category_id_of(report: ConversionReport, name: str, class_names: Sequence[str], drop_labels: Sequence[str],
                   source: str) -> Optional[int]:
    """1-based category id of ``name`` in METAINFO order; None (counted as dropped) for ``drop_labels``.

    Raises:
        ValueError: a name that is neither a class nor a label to drop.
    """
    if name in class_names:
        return class_names.index(name) + 1
    if name in drop_labels:
        report.drop_label(name)
        return None
    raise ValueError(f'{source}: unknown label {name!r}; expected one of {list(class_names)} '
                     f'(labels dropped on purpose: {list(drop_labels)})')


def convert_det_pairs(report: ConversionReport,
                      split: str,
                      samples: Sequence[DetSample],
                      out_dir: str,
                      class_names: Sequence[str],
                      link: str,
                      check_size: bool = True,
                      reencode: bool = False,
                      drop_labels: Sequence[str] = (),
                      first_image_id: int = 1,
                      image_ids: Optional[Sequence[int]] = None) -> Tuple[List[dict], List[dict]]:
    """Write annotated RGB–T pairs and return COCO ``images`` and ``annotations``.

    Args:
        samples: (key, [visible FileItem, infrared FileItem], annotation) per pair, where the annotation is a VOC
            xml path (None or absent: skipped as missing annotation) or a list of dict(name, bbox xywh, and
            optionally difficult / iscrowd). ``file_name`` = visible ``dst`` relative to ``<out_dir>/visible``,
            ``ir_file_name`` is added when the infrared ``dst`` differs.
        first_image_id: id of the first written image (ids are consecutive over written images) ...
        image_ids: ... unless explicit ids are given, one per sample. Annotation ids always start at 1.
        reencode: re-encode images whose raw suffix differs from their ``dst`` (else they are skipped and
            reported, naming ``--reencode``).
    """
    images, annotations = [], []
    report.add_written(split, 0)  # list the split even when nothing is written
    if image_ids is not None and len(image_ids) != len(samples):
        raise ValueError(f'{len(image_ids)} image ids for {len(samples)} samples')
    visible_root = osp.join(out_dir, 'visible')
    infrared_root = osp.join(out_dir, 'infrared')
    for index in iter_progress(range(len(samples))):
        key, items, source = samples[index]
        checked = check_sample(report, key, items, check_size=check_size, need_size=True, reencode=reencode)
        if checked is None:
            continue
        if isinstance(source, list):
            voc, ann_name = dict(width=None, height=None, objects=source), key
        elif source is None or not osp.isfile(source):
            report.skip(key, MISSING_ANNOTATION, f'annotation file not found: {source}')
            continue
        else:
            voc, ann_name = parse_voc_xml(source), source
        write_sample(items, checked, link)
        report.add_written(split)
        height, width = checked.size
        if voc['width'] is not None and (voc['width'], voc['height']) != (width, height):
            report.count(f'{split} xml <size> differs from the image (image size used)')
        image_id = first_image_id + len(images) if image_ids is None else image_ids[index]
        file_name = osp.relpath(items[0].dst, visible_root).replace(os.sep, '/')
        ir_file_name = osp.relpath(items[1].dst, infrared_root).replace(os.sep, '/')
        images.append(coco_image(image_id, file_name, height, width, ir_file_name))
        for obj in voc['objects']:
            category_id = category_id_of(report, obj['name'], class_names, drop_labels, ann_name)
            if category_id is None:
                continue
            if not valid_box(obj['bbox']):
                report.count(f'{split} degenerate boxes dropped (w or h <= 0)')
                continue
            if obj.get('difficult'):
                report.count(f'{split} boxes marked difficult (kept, iscrowd=0)')
            annotations.append(
                coco_annotation(
                    len(annotations) + 1, image_id, category_id, obj['bbox'], iscrowd=obj.get('iscrowd', 0)))
    report.count(f'{split} boxes', len(annotations))
    per_class = Counter(ann['category_id'] for ann in annotations)
    for i, name in enumerate(class_names):
        report.count(f'{split} boxes {name}', per_class[i + 1])
    return images, annotations
