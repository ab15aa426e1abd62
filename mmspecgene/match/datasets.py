# Copyright (c) mmspecgene contributors. All rights reserved.
"""RGBT matching datasets: aligned pair datasets made into matching samples, and externally given ground truth."""
import json
import logging
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.fileio import exists, get_local_path
from mmengine.logging import print_log

from ..datasets.ann_checks import load_coco_json, mirrored_pairs, read_pair_list
from ..registry import DATASETS
from .geometry import check_homography, check_ranges, sample_homography
from .transforms import WARP_MODALITIES

HOMOGRAPHY_FILE_VERSION = 1


def _pairs_from_ann(ann_file: str, backend_args=None) -> List[Tuple[str, str]]:
    """(rgb_rel, ir_rel) from a COCO json (``file_name`` / ``ir_file_name``) or a ``<rgb> <ir>`` pair list."""
    if ann_file.endswith('.json'):
        data = load_coco_json(ann_file, backend_args, image_keys=('file_name', ))
        return [(img['file_name'], img.get('ir_file_name', img['file_name'])) for img in data['images']]
    return read_pair_list(ann_file, backend_args)


def write_homography_file(path: str, pairs: Sequence[Tuple[str, str]], img_size: Tuple[int, int], seed: int,
                          ranges: Optional[dict] = None, swap_prob: float = 0.0) -> dict:
    """Draw one homography per pair (``numpy`` generator seeded with ``(seed, index)``) and write them as json.

    The json: ``{"version", "seed", "img_size": [w, h], "ranges", "swap_prob", "pairs": [{"img_path", "ir_path",
    "warp_homography": 3x3, "warp_modality"}]}``; the homographies are in pixels of the ``img_size`` frame. The file
    is written to a temporary name and moved into place, so concurrent writers (ranks) leave one whole file.
    """
    ranges = check_ranges(ranges)
    entries = []
    for index, (rgb, ir) in enumerate(pairs):
        rng = np.random.default_rng([seed, index])
        warp = sample_homography(rng, img_size, ranges)
        modality = 'rgb' if rng.random() < swap_prob else 'thermal'
        entries.append(dict(img_path=rgb, ir_path=ir, warp_homography=warp.tolist(), warp_modality=modality))
    content = dict(version=HOMOGRAPHY_FILE_VERSION, seed=int(seed), img_size=list(img_size),
                   ranges={k: list(v) if isinstance(v, tuple) else v for k, v in ranges.items()},
                   swap_prob=float(swap_prob), pairs=entries)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(content, f, indent=1)
    os.replace(tmp, path)
    return content


def _read_json(path: str, what: str, backend_args=None) -> dict:
    with get_local_path(path, backend_args=backend_args) as local:
        if not osp.isfile(local):
            raise FileNotFoundError(f'{what} not found: {path}')
        try:
            with open(local, encoding='utf-8') as f:
                data = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'{what} is not valid JSON ({err}): {path}') from None
    if not isinstance(data, dict) or not isinstance(data.get('pairs'), list):
        raise ValueError(f'{what} must be a dict with a "pairs" list: {path}')
    return data


@DATASETS.register_module()
class RGBTMatchDataset(BaseDataset):
    """Matching samples from an aligned RGBT pair dataset (LLVIP, KAIST, FLIR-aligned, pretraining pair lists).

    Pairs come from ``ann_file``: a COCO json (the detection annotation files: ``images[].file_name`` and optional
    ``ir_file_name``) or a ``<visible_rel> <infrared_rel>`` pair list; without ``ann_file``, every ``img_suffix``
    file under the visible root pairs with the same relative path under the infrared root.

    Training pipelines warp one modality with a random homography (``RGBTRandomHomographyWarp``). For evaluation,
    ``homography_file`` fixes one homography per pair: it is read when it exists (and checked against the pairs
    and ``img_size``) and otherwise drawn once from ``homography_seed`` / ``homography_ranges`` and written, so the
    protocol is reproducible and the file can be shared. Each data info then carries ``warp_homography`` and
    ``warp_modality`` for ``RGBTHomographyWarp``.

    Args:
        data_prefix (dict): ``img_path`` (visible root) and ``ir_path`` (infrared root).
        img_suffix (str | tuple, optional): Suffixes of the mirrored mode (default: every image suffix).
        homography_file (str, optional): Fixed evaluation homographies (relative paths are under ``data_root``).
        img_size (tuple[int, int], optional): (w, h) frame of the fixed homographies (the pipeline's size);
            required with ``homography_file``.
        homography_seed (int): Seed of a newly written ``homography_file``.
        homography_ranges (dict, optional): Distribution of a newly written file (see ``sample_homography``).
        swap_prob (float): Fraction of newly written pairs that warp RGB instead of thermal.
        check_files (bool): Check at load time that every listed image exists (errors name the pairs).
    """
    METAINFO = dict(modalities=('rgb', 'thermal'), task='match')

    def __init__(self, *args, data_prefix: Optional[dict] = None,
                 img_suffix=None, homography_file: Optional[str] = None,
                 img_size: Optional[Sequence[int]] = None, homography_seed: int = 0,
                 homography_ranges: Optional[dict] = None, swap_prob: float = 0.0, check_files: bool = True,
                 **kwargs):
        if data_prefix is None:
            data_prefix = dict(img_path='visible/', ir_path='infrared/')
        for key in ('img_path', 'ir_path'):
            if key not in data_prefix:
                raise KeyError(f'{type(self).__name__} needs data_prefix[{key!r}], got {data_prefix}')
        if homography_file is not None and (img_size is None or len(img_size) != 2):
            raise ValueError(f'{type(self).__name__}: homography_file needs img_size=(w, h), got {img_size!r}')
        self.img_suffix = img_suffix
        self.homography_file = homography_file
        self.img_size = tuple(int(v) for v in img_size) if img_size is not None else None
        self.homography_seed = int(homography_seed)
        self.homography_ranges = check_ranges(homography_ranges)
        self.swap_prob = float(swap_prob)
        self.check_files = check_files
        super().__init__(*args, data_prefix=data_prefix, **kwargs)

    def _pairs(self) -> List[Tuple[str, str]]:
        if self.ann_file:
            return _pairs_from_ann(self.ann_file)
        rgb_root = self.data_prefix['img_path']
        if not osp.isdir(rgb_root):
            raise FileNotFoundError(f'{type(self).__name__}: visible root not found: {rgb_root}')
        return mirrored_pairs(rgb_root, self.img_suffix)

    def _homography_path(self) -> str:
        path = self.homography_file
        return path if osp.isabs(path) or not self.data_root else osp.join(self.data_root, path)

    def _fixed_homographies(self, pairs: List[Tuple[str, str]]) -> List[dict]:
        path = self._homography_path()
        if not exists(path):
            write_homography_file(path, pairs, self.img_size, self.homography_seed, self.homography_ranges,
                                  self.swap_prob)
            print_log(f'{type(self).__name__}: wrote {len(pairs)} fixed evaluation homographies (seed '
                      f'{self.homography_seed}, {self.img_size[0]}x{self.img_size[1]}) to {path}', logger='current')
        data = _read_json(path, 'homography file')
        if list(data.get('img_size', [])) != list(self.img_size):
            raise ValueError(f'homography file {path} is for img_size {data.get("img_size")}, but the dataset '
                             f'uses {list(self.img_size)}; delete it to draw new homographies or set img_size')
        wanted = dict(seed=self.homography_seed, swap_prob=self.swap_prob,
                      ranges={k: list(v) if isinstance(v, tuple) else v for k, v in self.homography_ranges.items()})
        differing = {key: (data.get(key), value) for key, value in wanted.items() if data.get(key) != value}
        if differing:  # the file is the evaluation protocol: it wins, and says so
            detail = '; '.join(f'{key}: file {found!r}, dataset {value!r}' for key, (found, value) in differing.items())
            print_log(f'{type(self).__name__}: homography file {path} was drawn with other settings than the dataset '
                      f'asks for ({detail}); the file\'s homographies are used (delete it to draw new ones)',
                      logger='current', level=logging.WARNING)
        entries = data['pairs']
        listed = [(e.get('img_path'), e.get('ir_path')) for e in entries]
        if listed != [tuple(p) for p in pairs]:
            first = next((i for i, (a, b) in enumerate(zip(listed, pairs)) if tuple(a) != tuple(b)),
                         min(len(listed), len(pairs)))
            raise ValueError(f'homography file {path} lists {len(listed)} pairs and the dataset {len(pairs)}; they '
                             f'differ first at index {first}: {listed[first:first + 1]} vs {pairs[first:first + 1]}')
        out = []
        for index, entry in enumerate(entries):
            name = f'homography file {path}, pair {index} ({entry["img_path"]} | {entry["ir_path"]})'
            if entry.get('warp_modality') not in WARP_MODALITIES:
                raise ValueError(f'{name}: warp_modality must be one of {WARP_MODALITIES}, got '
                                 f'{entry.get("warp_modality")!r}')
            warp = check_homography(entry.get('warp_homography'), self.img_size, name)
            out.append(dict(warp_homography=warp, warp_modality=entry['warp_modality'],
                            warp_img_size=tuple(self.img_size)))
        return out

    def load_data_list(self) -> List[dict]:
        pairs = self._pairs()
        if not pairs:
            raise ValueError(f'{type(self).__name__}: no pairs found ({self.ann_file or self.data_prefix})')
        rgb_root, ir_root = self.data_prefix['img_path'], self.data_prefix['ir_path']
        data_list = [dict(img_path=osp.join(rgb_root, rgb), ir_path=osp.join(ir_root, ir)) for rgb, ir in pairs]
        if self.check_files:
            _check_files(type(self).__name__, data_list)
        if self.homography_file is not None:
            for info, fixed in zip(data_list, self._fixed_homographies(pairs)):
                info.update(fixed)
        return data_list


def _check_files(owner: str, data_list: List[dict]) -> None:
    missing = [f'pair {i} ({info["img_path"]} | {info["ir_path"]}): {what} image {info[key]} is missing'
               for i, info in enumerate(data_list) for key, what in (('img_path', 'RGB'), ('ir_path', 'thermal'))
               if not exists(info[key])]
    if missing:
        raise FileNotFoundError(f'{owner}: {len(missing)} listed images are missing, e.g. ' + '; '.join(missing[:5]))


@DATASETS.register_module()
class RGBTExternalMatchDataset(BaseDataset):
    """Pairs with externally given ground truth (real, unaligned benchmarks).

    ``ann_file`` json: ``{"pairs": [{"img_path": rgb_rel, "ir_path": ir_rel, "homography": 3x3}, ...]}`` with the
    homography mapping original RGB pixels to original thermal pixels, or ``"correspondences": [[x_rgb, y_rgb,
    x_t, y_t], ...]`` instead (at least 4; a homography is fitted to all of them by least squares, which holds for
    planar or distant scenes; the fit's mean residual must stay under ``max_fit_error`` pixels). Images may differ
    in size; pipelines use ``LoadRGBTMatchPair`` (which resizes and carries the homography) and no warp.
    """
    METAINFO = dict(modalities=('rgb', 'thermal'), task='match')

    def __init__(self, *args, data_prefix: Optional[dict] = None,
                 max_fit_error: float = 3.0, check_files: bool = True, **kwargs):
        if data_prefix is None:
            data_prefix = dict(img_path='visible/', ir_path='infrared/')
        for key in ('img_path', 'ir_path'):
            if key not in data_prefix:
                raise KeyError(f'{type(self).__name__} needs data_prefix[{key!r}], got {data_prefix}')
        self.max_fit_error = float(max_fit_error)
        self.check_files = check_files
        super().__init__(*args, data_prefix=data_prefix, **kwargs)

    def _homography(self, entry: dict, name: str) -> np.ndarray:
        if 'homography' in entry:
            # the image sizes are unknown here: LoadRGBTMatchPair checks the corners when it loads the pair
            return check_homography(entry['homography'], None, f'{name}: homography')
        if 'correspondences' not in entry:
            raise KeyError(f'{name}: give "homography" or "correspondences"')
        corr = np.asarray(entry['correspondences'], dtype=np.float64)
        if corr.size == 0:
            raise ValueError(f'{name}: the correspondence set is empty (need at least 4 [x_rgb, y_rgb, x_t, y_t])')
        if corr.ndim != 2 or corr.shape[1] != 4 or len(corr) < 4 or not np.isfinite(corr).all():
            raise ValueError(f'{name}: correspondences must be at least 4 finite [x_rgb, y_rgb, x_t, y_t] rows, got '
                             f'shape {corr.shape}')
        H, _ = cv2.findHomography(corr[:, :2], corr[:, 2:], 0)
        if H is None:
            raise ValueError(f'{name}: no homography fits the {len(corr)} correspondences (collinear points?)')
        residual = np.linalg.norm(cv2.perspectiveTransform(corr[None, :, :2], H)[0] - corr[:, 2:], axis=1).mean()
        if residual > self.max_fit_error:
            raise ValueError(f'{name}: the homography fitted to the correspondences leaves a mean residual of '
                             f'{residual:.2f} px > max_fit_error={self.max_fit_error} (not a planar scene?)')
        return H

    def load_data_list(self) -> List[dict]:
        data = _read_json(self.ann_file, 'matching annotation file')
        if not data['pairs']:
            raise ValueError(f'matching annotation file lists no pairs: {self.ann_file}')
        rgb_root, ir_root = self.data_prefix['img_path'], self.data_prefix['ir_path']
        data_list = []
        for index, entry in enumerate(data['pairs']):
            if not isinstance(entry, dict) or 'img_path' not in entry or 'ir_path' not in entry:
                raise ValueError(f'{self.ann_file}: pair {index} needs "img_path" and "ir_path", got {entry!r}')
            name = f'{self.ann_file}: pair {index} ({entry["img_path"]} | {entry["ir_path"]})'
            data_list.append(dict(img_path=osp.join(rgb_root, entry['img_path']),
                                  ir_path=osp.join(ir_root, entry['ir_path']),
                                  gt_homography=self._homography(entry, name)))
        if self.check_files:
            _check_files(type(self).__name__, data_list)
        return data_list
