# Copyright (c) mmspecgene contributors. All rights reserved.
"""COCO-style RGBT detection datasets (explicit visible/ and infrared/ roots)."""
import logging
import os.path as osp
from collections import Counter
from typing import Optional

from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS
from mmengine.logging import print_log

from ..datasets.ann_checks import coco_category_labels, coco_dropped_annotations, load_coco_json
from ..datasets.metainfo import (
    FLIR_CLASSES,
    FLIR_PALETTE,
    KAIST_CLASSES,
    LLVIP_CLASSES,
    PERSON_CLASSES,
    PERSON_PALETTE,
    SYNTHETIC_DET_CLASSES,
    SYNTHETIC_DET_PALETTE,
)

MAX_LISTED = 50


def polygon_problem(mask) -> Optional[str]:
    """Why an instance's ``mask`` (COCO ``segmentation``) is no usable polygon list, or None if it is one."""
    if mask is None:
        return 'no segmentation'
    if isinstance(mask, dict):
        return 'RLE segmentation'
    if not isinstance(mask, list) or not any(len(p) >= 6 and len(p) % 2 == 0 for p in mask):
        return 'no valid polygon'
    return None


def box_polygon(bbox) -> list:
    """[[x1, y1, x2, y1, x2, y2, x1, y2]] of an x1y1x2y2 box."""
    x1, y1, x2, y2 = bbox
    return [[x1, y1, x2, y1, x2, y2, x1, y2]]


@DATASETS.register_module()
class RGBTCocoDataset(CocoDataset):
    """COCO json with paired images: ``img_path`` from ``data_prefix['img']`` + ``file_name`` and
    ``ir_path`` from ``data_prefix['ir']`` + ``ir_file_name`` (default: ``file_name``).

    Label index = position of the category name in ``METAINFO['classes']`` (not the json order).
    Every json category must be a dataset class unless ``ignore_unknown_categories=True`` (then its
    annotations are dropped and counted in the log); ``check_category_order=True`` asserts that the
    json order equals the class order.

    Annotations that mmdet leaves out are reported: degenerate boxes (no overlap with the image, width or height
    below one pixel, area <= 0) at WARNING level with their annotation id, image id and reason, and counted per
    reason; ``strict_annotations=True`` makes them an error. Annotations flagged ``ignore`` are legitimately skipped
    (counted at INFO level); ``iscrowd=1`` ones are kept as ignored regions.

    The Mask R-CNN pipelines load polygon masks (``poly2mask=False``), with which the host would fail on an
    annotation without ``segmentation`` and silently ignore one with an RLE or invalid segmentation. Such an
    annotation gets its box rectangle as polygon instead (the converters' own masks), counted per reason at WARNING.
    """
    METAINFO = dict(classes=PERSON_CLASSES, palette=PERSON_PALETTE)

    def __init__(self, *args, ignore_unknown_categories: bool = False, check_category_order: bool = False,
                 strict_annotations: bool = False, data_prefix: Optional[dict] = None,
                 **kwargs):
        if data_prefix is None:
            data_prefix = dict(img='visible/', ir='infrared/')
        if 'ir' not in data_prefix:
            raise KeyError(f"{type(self).__name__} needs data_prefix['ir'] (thermal root), got {data_prefix}")
        self.ignore_unknown_categories = ignore_unknown_categories
        self.check_category_order = check_category_order
        self.strict_annotations = strict_annotations
        super().__init__(*args, data_prefix=data_prefix, **kwargs)

    def load_data_list(self):
        data = load_coco_json(self.ann_file, self.backend_args)
        classes = list(self.metainfo['classes'])
        self._label_of_cat, ignored = coco_category_labels(
            data, classes, self.ann_file, self.ignore_unknown_categories, self.check_category_order)
        if ignored:
            print_log(f'{type(self).__name__}: dropped annotations of categories outside {tuple(classes)}: '
                      f'{ignored} ({self.ann_file})', logger='current')
        cat_ids = [cid for cid in self._label_of_cat]
        degenerate, flagged = coco_dropped_annotations(data, cat_ids, self.ann_file)
        self._report_dropped(degenerate, flagged)
        num_anns = len(data['annotations'])
        del data
        self._box_masks = Counter()
        data_list = super().load_data_list()
        if self._box_masks:
            print_log(f'{type(self).__name__}: {sum(self._box_masks.values())} annotations have no usable polygon '
                      f'(per reason: {dict(self._box_masks)}); their box rectangle is their mask ({self.ann_file})',
                      logger='current', level=logging.WARNING)
        kept = sum(len(info['instances']) for info in data_list)
        unexplained = num_anns - kept - sum(ignored.values()) - len(degenerate) - len(flagged)
        if unexplained:
            print_log(f'{type(self).__name__}: {unexplained} further annotations were not loaded by the host '
                      f'dataset ({self.ann_file})', logger='current', level=logging.WARNING)
        return data_list

    def filter_data(self):
        """The host's ``filter_cfg`` filter (images without usable annotations, smaller than ``min_size``), with
        the number of images it leaves out in the log."""
        data_list = super().filter_data()
        num_left_out = len(self.data_list) - len(data_list)
        if num_left_out:
            print_log(f'{type(self).__name__}: filter_cfg={self.filter_cfg} leaves out {num_left_out} of '
                      f'{len(self.data_list)} images ({self.ann_file})', logger='current')
        return data_list

    def _report_dropped(self, degenerate, flagged) -> None:
        """Warn about (or, strict, raise on) degenerate boxes; count ``ignore``-flagged annotations at INFO."""
        name = type(self).__name__
        if flagged:
            print_log(f'{name}: {len(flagged)} annotations flagged "ignore" are skipped ({self.ann_file})',
                      logger='current')
        if not degenerate:
            return
        counts = Counter(reason for _, _, (reason, _) in degenerate)
        lines = [f'annotation id={ann_id} image id={img_id}: {reason} ({details})'
                 for ann_id, img_id, (reason, details) in degenerate[:MAX_LISTED]]
        if len(degenerate) > MAX_LISTED:
            lines.append(f'... and {len(degenerate) - MAX_LISTED} more')
        message = (f'{name}: {len(degenerate)} degenerate annotations in {self.ann_file} (per reason: '
                   f'{dict(counts)}):\n  ' + '\n  '.join(lines))
        if self.strict_annotations:
            raise ValueError(message + '\n(strict_annotations=True; fix the boxes or drop strict mode to skip them)')
        print_log(message + '\nThey are dropped (strict_annotations=True makes this an error).', logger='current',
                  level=logging.WARNING)

    def parse_data_info(self, raw_data_info: dict) -> dict:
        # label = position in METAINFO, whatever the json category order (host default: json order)
        self.cat2label = self._label_of_cat
        data_info = super().parse_data_info(raw_data_info)
        for instance in data_info['instances']:
            problem = polygon_problem(instance.get('mask'))
            if problem is not None:
                instance['mask'] = box_polygon(instance['bbox'])
                self._box_masks[problem] += 1
        img_info = raw_data_info['raw_img_info']
        data_info['ir_path'] = osp.join(self.data_prefix['ir'], img_info.get('ir_file_name', img_info['file_name']))
        return data_info


@DATASETS.register_module()
class KAISTDataset(RGBTCocoDataset):
    """KAIST multispectral pedestrian (``visible/setXX/V00Y/I#####.jpg``); ``person`` only."""
    METAINFO = dict(classes=KAIST_CLASSES, palette=PERSON_PALETTE)


@DATASETS.register_module()
class LLVIPDataset(RGBTCocoDataset):
    """LLVIP (1280×1024 aligned pairs); ``person`` only."""
    METAINFO = dict(classes=LLVIP_CLASSES, palette=PERSON_PALETTE)


@DATASETS.register_module()
class FLIRAlignedDataset(RGBTCocoDataset):
    """FLIR-aligned: ``person``, ``bicycle``, ``car`` (COCO-id order; stray ``dog`` labels are dropped by the
    converter, or at load time with ``ignore_unknown_categories=True``)."""
    METAINFO = dict(classes=FLIR_CLASSES, palette=FLIR_PALETTE)


@DATASETS.register_module()
class RGBTSyntheticDetDataset(RGBTCocoDataset):
    """The generated synthetic RGBT detection set (``tools/misc/make_synthetic_rgbt.py --task det``)."""
    METAINFO = dict(classes=SYNTHETIC_DET_CLASSES, palette=SYNTHETIC_DET_PALETTE)
