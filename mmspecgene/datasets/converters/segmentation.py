# Copyright (c) mmspecgene contributors. All rights reserved.
"""Segmentation and SOD samples: (visible, infrared, label) file triples, label-value checks, conversion of a split."""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .report import ConversionError, ConversionReport, iter_progress
from .samples import FileItem, LabelCheck, LabelFn, convert_sample
from .trees import report_scan, scan_tree

IGNORE_INDEX = 255
ROLE_DIRS = dict(visible='visible', infrared='infrared', label='labels')

SegSample = Tuple[str, List[FileItem]]  # (report key, [visible, infrared, label] items)


def index_label_fn(num_classes: int) -> LabelFn:
    """Label check: values must lie in ``0..num_classes-1`` or be the ignore index 255.

    The check counts the labels that hold 255; a non-uint8 label whose values fit is rewritten as uint8.
    """
    allowed = f'0..{num_classes - 1} or {IGNORE_INDEX}'

    def check(label: np.ndarray) -> LabelCheck:
        values = np.unique(label)
        bad = values[(values >= num_classes) & (values != IGNORE_INDEX) | (values < 0)]
        counters = [f'labels holding {IGNORE_INDEX} (ignore)'] if IGNORE_INDEX in values else []
        rewritten = None
        if label.dtype != np.uint8 and not bad.size and values.max(initial=0) <= 255:
            rewritten = label.astype(np.uint8)
        return LabelCheck(rewritten, bad, allowed, counters)

    return check


def seg_items(out_dir: str, split: str, rel: str, sources: Dict[str, Optional[str]],
              suffixes: Dict[str, str]) -> List[FileItem]:
    """Visible / infrared / label FileItems of one sample: ``<out>/<role dir>/<split>/<rel><suffix>``.

    Args:
        sources: role -> raw path (a non-existent path such as '<folder>/<rel>.*' when the partner is missing).
        suffixes: role -> documented output suffix, e.g. dict(visible='.jpg', infrared='.jpg', label='.png').
    """
    return [
        FileItem(role, sources.get(role), osp.join(out_dir, ROLE_DIRS[role], split, rel + suffixes[role]))
        for role in ('visible', 'infrared', 'label')
    ]


def folder_samples(report: ConversionReport, out_dir: str, split: str, folders: Dict[str, str],
                   suffixes: Dict[str, str]) -> List[SegSample]:
    """Samples of flat raw folders paired by file stem (the union of stems, so any orphan is reported).

    Args:
        folders: role -> raw folder holding that role's files (links followed).

    Raises:
        FileNotFoundError: a folder is missing. ConversionError: the folders hold no image at all.
        ValueError: two files of one folder share a stem.
    """
    stem_maps = {}
    for role, folder in folders.items():
        scan = scan_tree(folder, f'{split} {role} files', recursive=False, allow_empty=True)
        report_scan(report, scan, f'{split}/')
        stem_maps[role] = scan.by_stem()
    stems = sorted(set().union(*stem_maps.values()))
    if not stems:
        raise ConversionError(f'{split}: no images found in {", ".join(folders.values())}')
    samples = []
    for stem in stems:
        sources = {
            role: stem_maps[role].get(stem, osp.join(folders[role], stem + '.*'))  # '.*': shown when missing
            for role in folders
        }
        samples.append((f'{split}/{stem}', seg_items(out_dir, split, stem, sources, suffixes)))
    return samples


def convert_seg_samples(report: ConversionReport, split: str, samples: Sequence[SegSample], link: str,
                        label_fn: LabelFn, **check_kwargs) -> int:
    """Check and write (visible, infrared, label) samples; return the number written."""
    report.add_written(split, 0)  # list the split even when nothing is written
    before = report.written[split]
    for key, items in iter_progress(samples):
        convert_sample(report, key, split, items, link, label_fn=label_fn, **check_kwargs)
    return report.written[split] - before
