# Copyright (c) mmspecgene contributors. All rights reserved.
"""Unlabelled RGB-thermal pairs for pretraining."""
import os.path as osp
from typing import List, Optional

from mmengine.dataset import BaseDataset
from mmengine.fileio import exists, list_dir_or_file
from mmpretrain.registry import DATASETS

from ..datasets.ann_checks import read_pair_list


@DATASETS.register_module()
class RGBTPairDataset(BaseDataset):
    """RGBT pairs from a pair list or from two mirrored roots.

    * With ``ann_file``: one ``<visible_rel> <infrared_rel>`` line per pair, joined to
      ``data_prefix['img_path']`` and ``data_prefix['ir_path']``.
    * Without: every ``img_suffix`` file under the visible root is paired with the file of the same
      relative path (``ir_suffix``) under the infrared root.

    Args:
        data_prefix (dict): ``img_path`` (visible root) and ``ir_path`` (infrared root).
        img_suffix, ir_suffix (str | tuple): Suffixes for the mirrored mode.
        check_files (bool): Check that every listed file exists when loading.
        backend_args (dict, optional): mmengine file backend arguments for the pair list.
    """
    METAINFO = dict(modalities=('rgb', 'thermal'))

    def __init__(self, *args, data_prefix: dict = dict(img_path='visible/', ir_path='infrared/'),
                 img_suffix=('.jpg', '.png'), ir_suffix=None, check_files: bool = True,
                 backend_args: Optional[dict] = None, **kwargs):
        for key in ('img_path', 'ir_path'):
            if key not in data_prefix:
                raise KeyError(f'{type(self).__name__} needs data_prefix[{key!r}], got {data_prefix}')
        self.img_suffix = img_suffix
        self.ir_suffix = ir_suffix
        self.check_files = check_files
        self.backend_args = backend_args
        super().__init__(*args, data_prefix=data_prefix, **kwargs)

    def _mirrored_pairs(self, rgb_root: str) -> List[tuple]:
        if not osp.isdir(rgb_root):
            raise FileNotFoundError(f'{type(self).__name__}: visible root not found: {rgb_root}')
        rels = sorted(list_dir_or_file(rgb_root, list_dir=False, suffix=self.img_suffix, recursive=True))
        if self.ir_suffix is None:
            return [(rel, rel) for rel in rels]
        return [(rel, osp.splitext(rel)[0] + self.ir_suffix) for rel in rels]

    def load_data_list(self) -> List[dict]:
        rgb_root, ir_root = self.data_prefix['img_path'], self.data_prefix['ir_path']
        pairs = read_pair_list(self.ann_file, self.backend_args) if self.ann_file else self._mirrored_pairs(rgb_root)
        if not pairs:
            raise ValueError(f'{type(self).__name__}: no pairs found under {rgb_root}')
        data_list = [dict(img_path=osp.join(rgb_root, rgb), ir_path=osp.join(ir_root, ir)) for rgb, ir in pairs]
        if self.check_files:
            missing = [p for info in data_list for p in (info['img_path'], info['ir_path']) if not exists(p)]
            if missing:
                raise FileNotFoundError(f'{type(self).__name__}: {len(missing)} listed files are missing, e.g. '
                                        f'{missing[:5]}')
        return data_list
