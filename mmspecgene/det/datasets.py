# Copyright (c) mmspecgene contributors. All rights reserved.
"""COCO-style RGBT detection datasets (explicit visible/ and infrared/ roots)."""
import os.path as osp

from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS
from mmengine.logging import print_log

from ..datasets.ann_checks import coco_category_labels, load_coco_json
from ..datasets.metainfo import (FLIR_CLASSES, FLIR_PALETTE, KAIST_CLASSES, LLVIP_CLASSES, PERSON_CLASSES,
                                 PERSON_PALETTE, SYNTHETIC_DET_CLASSES, SYNTHETIC_DET_PALETTE)


@DATASETS.register_module()
class RGBTCocoDataset(CocoDataset):
    """COCO json with paired images: ``img_path`` from ``data_prefix['img']`` + ``file_name`` and
    ``ir_path`` from ``data_prefix['ir']`` + ``ir_file_name`` (default: ``file_name``).

    Label index = position of the category name in ``METAINFO['classes']`` (not the json order).
    Every json category must be a dataset class unless ``ignore_unknown_categories=True`` (then its
    annotations are dropped and counted in the log); ``check_category_order=True`` asserts that the
    json order equals the class order.
    """
    METAINFO = dict(classes=PERSON_CLASSES, palette=PERSON_PALETTE)

    def __init__(self, *args, ignore_unknown_categories: bool = False, check_category_order: bool = False,
                 data_prefix: dict = dict(img='visible/', ir='infrared/'), **kwargs):
        if 'ir' not in data_prefix:
            raise KeyError(f"{type(self).__name__} needs data_prefix['ir'] (thermal root), got {data_prefix}")
        self.ignore_unknown_categories = ignore_unknown_categories
        self.check_category_order = check_category_order
        super().__init__(*args, data_prefix=data_prefix, **kwargs)

    def load_data_list(self):
        data = load_coco_json(self.ann_file, self.backend_args)
        classes = list(self.metainfo['classes'])
        self._label_of_cat, ignored = coco_category_labels(
            data, classes, self.ann_file, self.ignore_unknown_categories, self.check_category_order)
        if ignored:
            print_log(f'{type(self).__name__}: dropped annotations of categories outside {tuple(classes)}: '
                      f'{ignored} ({self.ann_file})', logger='current')
        num_anns = len(data['annotations'])
        del data
        data_list = super().load_data_list()
        kept = sum(len(info['instances']) for info in data_list)
        dropped = num_anns - kept - sum(ignored.values())
        if dropped:
            print_log(f'{type(self).__name__}: {dropped} annotations dropped as degenerate (zero area, outside '
                      f'the image or flagged ignore) in {self.ann_file}', logger='current')
        return data_list

    def parse_data_info(self, raw_data_info: dict) -> dict:
        # label = position in METAINFO, whatever the json category order (host default: json order)
        self.cat2label = self._label_of_cat
        data_info = super().parse_data_info(raw_data_info)
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
