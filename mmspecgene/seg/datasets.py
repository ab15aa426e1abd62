# Copyright (c) mmspecgene contributors. All rights reserved.
"""RGBT semantic segmentation and salient object detection datasets.

Layout: ``<root>/visible/<split>/<rel><img_suffix>``, ``<root>/infrared/<split>/<rel><ir_suffix>`` and
``<root>/labels/<split>/<rel><seg_map_suffix>``; the suffixes come from each class's METAINFO.
"""
import os.path as osp
from typing import List, Optional

from mmengine.fileio import exists
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from ..datasets.ann_checks import check_label_values, mirrored_pairs
from ..datasets.metainfo import (
    FMB_CLASSES,
    MVSEG_CLASSES,
    SEG_PALETTE,
    SEMANTICRT_CLASSES,
    SOD_CLASSES,
    SOD_PALETTE,
    SYNTHETIC_SEG_CLASSES,
    SYNTHETIC_SEG_PALETTE,
)


@DATASETS.register_module()
class RGBTSegDataset(BaseSegDataset):
    """Paired segmentation dataset with explicit ``img_path``, ``ir_path`` and ``seg_map_path``.

    Args:
        data_prefix (dict): ``img_path`` (visible root), ``ir_path`` (infrared root), ``seg_map_path``.
        ir_suffix (str, optional): Thermal suffix; default from METAINFO.
        img_suffix, seg_map_suffix (str, optional): Defaults from METAINFO.
        check_files (bool): Check at load time that every thermal file and label exists.

    Every loaded label map is checked (a cheap comparison) for values outside the classes other than
    ``ignore_index``: the error names the label file and the values, instead of an out-of-bounds target in the loss.
    """
    METAINFO = dict(classes=(), palette=[], img_suffix='.jpg', ir_suffix='.jpg', seg_map_suffix='.png')
    # label maps may hold ``ignore_index`` (unlabelled pixels)
    LABELS_MAY_BE_IGNORED = True
    LABEL_HINT = ''

    def __init__(self, *args, data_prefix: Optional[dict] = None,
                 img_suffix=None, ir_suffix=None, seg_map_suffix=None, check_files: bool = True, **kwargs):
        if data_prefix is None:
            data_prefix = dict(img_path='', ir_path='', seg_map_path='')
        if 'ir_path' not in data_prefix:
            raise KeyError(f"{type(self).__name__} needs data_prefix['ir_path'] (thermal root), got {data_prefix}")
        self.ir_suffix = ir_suffix or self.METAINFO['ir_suffix']
        self.check_files = check_files
        super().__init__(
            *args,
            data_prefix=data_prefix,
            img_suffix=img_suffix or self.METAINFO['img_suffix'],
            seg_map_suffix=seg_map_suffix or self.METAINFO['seg_map_suffix'],
            **kwargs)

    def prepare_data(self, idx: int):
        data = super().prepare_data(idx)
        sample = data.get('data_samples') if isinstance(data, dict) else None
        if sample is not None and 'gt_sem_seg' in sample:
            label = sample.gt_sem_seg.data
            if label.ndim != 3 or label.shape[0] != 1:
                raise ValueError(
                    f"{type(self).__name__}: label map {sample.metainfo.get('seg_map_path', f'sample {idx}')} gives "
                    f'gt_sem_seg of shape {tuple(label.shape)}, not (1, H, W): expected a one-band label PNG (a grey '
                    'label saved with 3 colour bands? the dataset converters write one band)')
            check_label_values(sample.gt_sem_seg.data, len(self.metainfo['classes']),
                               self.ignore_index if self.LABELS_MAY_BE_IGNORED else None,
                               sample.metainfo.get('seg_map_path', f'sample {idx}'),
                               sample.metainfo.get('reduce_zero_label', self.reduce_zero_label), self.LABEL_HINT)
        return data

    def load_data_list(self) -> List[dict]:
        img_dir = self.data_prefix['img_path']
        ir_dir = self.data_prefix['ir_path']
        if not osp.isdir(img_dir) and not (self.ann_file and not osp.isdir(self.ann_file)):
            raise FileNotFoundError(f'{type(self).__name__}: visible image folder not found: {img_dir}')
        if self.ann_file and not osp.isdir(self.ann_file):
            data_list = super().load_data_list()
        else:
            data_list = self._scan_folders(img_dir)
        if not data_list:
            raise ValueError(f'{type(self).__name__}: no images with suffix {self.img_suffix!r} under {img_dir}')
        missing = []
        for info in data_list:
            rel = osp.relpath(info['img_path'], img_dir)
            stem, img_suffix = rel[:-len(self.img_suffix)], rel[-len(self.img_suffix):]
            # a thermal suffix equal to the visible one is spelt like the visible file's ('.JPG' pairs '.JPG')
            ir_suffix = img_suffix if img_suffix.lower() == self.ir_suffix.lower() else self.ir_suffix
            info['ir_path'] = osp.join(ir_dir, stem + ir_suffix)
            if self.check_files:
                missing += [info[k] for k in ('ir_path', 'seg_map_path') if info.get(k) and not exists(info[k])]
        if missing:
            raise FileNotFoundError(f'{type(self).__name__}: {len(missing)} paired files are missing, e.g. '
                                    f'{missing[:5]}')
        return data_list


    def _scan_folders(self, img_dir: str) -> List[dict]:
        """Sample dicts for every visible image under ``img_dir``: suffix matched case-insensitively, linked
        folders followed once (a link loop cannot hang the scan), sorted by path."""
        seg_dir = self.data_prefix.get('seg_map_path')
        data_list = []
        suffix = self.img_suffix.lower()
        for rel, _ in mirrored_pairs(img_dir, osp.splitext(suffix)[1] or suffix):
            if not rel.lower().endswith(suffix):  # a suffix longer than the extension, e.g. '_rgb.png'
                continue
            info = dict(img_path=osp.join(img_dir, rel))
            if seg_dir is not None:
                info['seg_map_path'] = osp.join(seg_dir, rel[:-len(self.img_suffix)] + self.seg_map_suffix)
            info.update(label_map=self.label_map, reduce_zero_label=self.reduce_zero_label, seg_fields=[])
            data_list.append(info)
        return data_list


@DATASETS.register_module()
class SemanticRTDataset(RGBTSegDataset):
    """SemanticRT, 13 classes (Background trained and counted)."""
    METAINFO = dict(classes=SEMANTICRT_CLASSES, palette=SEG_PALETTE[:13], img_suffix='.jpg', ir_suffix='.jpg',
                    seg_map_suffix='.png')


@DATASETS.register_module()
class MVSegDataset(RGBTSegDataset):
    """MVSeg, 26 classes; relative paths keep ``<seq>/<frame>``."""
    METAINFO = dict(classes=MVSEG_CLASSES, palette=SEG_PALETTE[:26], img_suffix='.jpg', ir_suffix='.jpg',
                    seg_map_suffix='.png')


@DATASETS.register_module()
class FMBDataset(RGBTSegDataset):
    """FMB, 15 classes, png images."""
    METAINFO = dict(classes=FMB_CLASSES, palette=SEG_PALETTE[:15], img_suffix='.png', ir_suffix='.png',
                    seg_map_suffix='.png')


@DATASETS.register_module()
class RGBTSyntheticSegDataset(RGBTSegDataset):
    """The generated synthetic segmentation set (``make_synthetic_rgbt.py --task seg``)."""
    METAINFO = dict(classes=SYNTHETIC_SEG_CLASSES, palette=SYNTHETIC_SEG_PALETTE, img_suffix='.png',
                    ir_suffix='.png', seg_map_suffix='.png')


@DATASETS.register_module()
class RGBTSODDataset(RGBTSegDataset):
    """RGBT salient object detection: labels 0 (background) / 1 (salient), no ignore label (a raw 0/255 map is an
    error naming the file: convert it with ``tools/dataset_converters/vt_sod2mmspecgene.py``)."""
    METAINFO = dict(classes=SOD_CLASSES, palette=SOD_PALETTE, img_suffix='.jpg', ir_suffix='.jpg',
                    seg_map_suffix='.png')
    LABELS_MAY_BE_IGNORED = False
    LABEL_HINT = ('; SOD labels have no ignore value: convert 0/255 maps to 0/1 with '
                  'tools/dataset_converters/vt_sod2mmspecgene.py')


@DATASETS.register_module()
class VT5000Dataset(RGBTSODDataset):
    """VT5000: 2,500 train / 2,500 test pairs."""


@DATASETS.register_module()
class VT1000Dataset(RGBTSODDataset):
    """VT1000: 1,000 test pairs."""


@DATASETS.register_module()
class VT821Dataset(RGBTSODDataset):
    """VT821: 821 test pairs."""


@DATASETS.register_module()
class VIRGBT1500Dataset(RGBTSODDataset):
    """VI-RGBT1500: 1,500 test pairs."""


@DATASETS.register_module()
class RGBTSyntheticSODDataset(RGBTSODDataset):
    """The generated synthetic SOD set (``make_synthetic_rgbt.py --task sod``), png images."""
    METAINFO = dict(classes=SOD_CLASSES, palette=SOD_PALETTE, img_suffix='.png', ir_suffix='.png',
                    seg_map_suffix='.png')
