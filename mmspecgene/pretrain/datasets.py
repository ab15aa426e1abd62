# Copyright (c) mmspecgene contributors. All rights reserved.
"""Unlabelled RGB-thermal pairs for pretraining: folders (pair list or mirrored roots) or tar shards."""
import os.path as osp
from typing import List, Optional

from mmengine.dataset import BaseDataset
from mmengine.fileio import exists, get_local_path
from mmpretrain.registry import DATASETS

from ..datasets.ann_checks import mirrored_pairs, read_pair_list
from ..datasets.tar_shards import ShardReader, check_shard_sizes, load_index


@DATASETS.register_module()
class RGBTPairDataset(BaseDataset):
    """RGBT pairs from a pair list or from two mirrored roots.

    * With ``ann_file``: one ``<visible_rel> <infrared_rel>`` line per pair, joined to
      ``data_prefix['img_path']`` and ``data_prefix['ir_path']``.
    * Without: every ``img_suffix`` file under the visible root is paired with the file of the same
      relative path (``ir_suffix``) under the infrared root.

    Args:
        data_prefix (dict): ``img_path`` (visible root) and ``ir_path`` (infrared root).
        img_suffix, ir_suffix (str | tuple): Suffixes for the mirrored mode (default: every image suffix,
            ``.jpg .jpeg .png .bmp .tif .tiff`` in any letter case; thermal: the visible file's).
        check_files (bool): Check that every listed file exists when loading.
        backend_args (dict, optional): mmengine file backend arguments for the pair list.
    """
    METAINFO = dict(modalities=('rgb', 'thermal'))

    def __init__(self, *args, data_prefix: Optional[dict] = None,
                 img_suffix=None, ir_suffix=None, check_files: bool = True,
                 backend_args: Optional[dict] = None, **kwargs):
        if data_prefix is None:
            data_prefix = dict(img_path='visible/', ir_path='infrared/')
        for key in ('img_path', 'ir_path'):
            if key not in data_prefix:
                raise KeyError(f'{type(self).__name__} needs data_prefix[{key!r}], got {data_prefix}')
        self.img_suffix = img_suffix
        self.ir_suffix = ir_suffix
        self.check_files = check_files
        self.backend_args = backend_args
        super().__init__(*args, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> List[dict]:
        rgb_root, ir_root = self.data_prefix['img_path'], self.data_prefix['ir_path']
        if self.ann_file:
            pairs = read_pair_list(self.ann_file, self.backend_args)
        else:
            try:
                pairs = mirrored_pairs(rgb_root, self.img_suffix, self.ir_suffix)
            except FileNotFoundError as err:
                raise FileNotFoundError(f'{type(self).__name__}: {err}') from None
        if not pairs:
            raise ValueError(f'{type(self).__name__}: no pairs found under {rgb_root}')
        data_list = [dict(img_path=osp.join(rgb_root, rgb), ir_path=osp.join(ir_root, ir)) for rgb, ir in pairs]
        if self.check_files:
            missing = [p for info in data_list for p in (info['img_path'], info['ir_path']) if not exists(p)]
            if missing:
                raise FileNotFoundError(f'{type(self).__name__}: {len(missing)} listed files are missing, e.g. '
                                        f'{missing[:5]}')
        return data_list


@DATASETS.register_module()
class RGBTTarPairDataset(BaseDataset):
    """RGBT pairs read by offset from tar shards (``tools/dataset_converters/rgbt_pairs_to_tar.py``).

    ``ann_file`` is the shards' ``index.json``; the shards lie next to it. Pairs keep the order of the pair list
    they were packed from, so the same seed gives the same samples as :class:`RGBTPairDataset` on the folders.
    Each worker reads a pair with two ``os.pread`` calls on one open file per shard and passes the encoded bytes
    to the pipeline as ``img_bytes`` / ``ir_bytes``; ``img_path`` / ``ir_path`` read ``<shard>/<member>``.

    Truncated shards, shards whose size disagrees with the index, and index entries that do not match the tar
    header in front of their data raise errors naming the shard and the key.

    Args:
        check_sizes (bool): Compare every shard's byte size with the index when loading.
        max_open_shards (int): Shard files each process keeps open (least recently read closed first). Default 64.
    """
    METAINFO = dict(modalities=('rgb', 'thermal'))

    def __init__(self,
                 *args,
                 check_sizes: bool = True,
                 max_open_shards: int = 64,
                 backend_args: Optional[dict] = None,
                 **kwargs):
        self.check_sizes = check_sizes
        self.backend_args = backend_args
        self.reader = ShardReader(max_open=max_open_shards)
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        with get_local_path(self.ann_file, backend_args=self.backend_args) as local_path:
            if not osp.isfile(local_path):
                raise FileNotFoundError(f'{type(self).__name__}: tar shard index not found: {self.ann_file}')
            index = load_index(self.ann_file, local_path)
        shard_dir = osp.dirname(self.ann_file)
        if self.check_sizes:
            check_shard_sizes(index, shard_dir)
        data_list = []
        for shard in index['shards']:
            path = osp.join(shard_dir, shard['name'])
            for key, rgb_member, rgb_offset, rgb_size, ir_member, ir_offset, ir_size in shard['pairs']:
                data_list.append(
                    dict(img_path=osp.join(path, rgb_member), ir_path=osp.join(path, ir_member), shard=path, key=key,
                         rgb_member=rgb_member, rgb_offset=rgb_offset, rgb_size=rgb_size, ir_member=ir_member,
                         ir_offset=ir_offset, ir_size=ir_size))
        if not data_list:
            raise ValueError(f'{type(self).__name__}: the index {self.ann_file} lists no pairs')
        return data_list

    def read_pair(self, info: dict) -> tuple:
        """Encoded (RGB, thermal) bytes of one data info."""
        shard, key = info['shard'], info['key']
        return (self.reader.read(shard, key, info['rgb_member'], info['rgb_offset'], info['rgb_size']),
                self.reader.read(shard, key, info['ir_member'], info['ir_offset'], info['ir_size']))

    def prepare_data(self, idx: int):
        data_info = self.get_data_info(idx)
        data_info['img_bytes'], data_info['ir_bytes'] = self.read_pair(data_info)
        return self.pipeline(data_info)
