# Copyright (c) mmspecgene contributors. All rights reserved.
"""One sample = the files of one RGB-thermal pair (plus its label): check them, then write them to the layout.

A converter describes each sample as a list of :class:`FileItem`. :func:`check_sample` checks, in order: every file
exists, image suffixes match the layout (unless re-encoding), all images and the label have identical H×W (header
reads), label values (a :data:`LabelFn`). A failed check is recorded in the report as a skip.
"""
import os.path as osp
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from .files import (
    label_needs_rewrite,
    normalized_suffix,
    read_image_size,
    read_label,
    reencode_image,
    same_format,
    transfer_file,
    write_label,
)
from .report import BAD_LABEL, MISSING_PARTNER, SIZE_MISMATCH, SUFFIX_MISMATCH, UNREADABLE, ConversionReport


@dataclass(frozen=True)
class FileItem:
    """One file of a sample.

    Attributes:
        role (str): 'visible', 'infrared' or 'label'.
        src (str | None): raw path (None when the partner was not found; then ``dst`` names the expected file).
        dst (str): output path; its suffix is the documented one of the layout.
    """
    role: str
    src: Optional[str]
    dst: str


@dataclass
class LabelCheck:
    """What a :data:`LabelFn` found in one (H, W) label map.

    Attributes:
        rewritten (np.ndarray | None): uint8 label to write instead of the raw file; None keeps the raw file.
        out_of_range (np.ndarray): the label values outside the allowed set (empty when all are valid).
        allowed (str): the allowed values, as printed by the report.
        counters (list[str]): report counters to increment once for this label.
    """
    rewritten: Optional[np.ndarray]
    out_of_range: np.ndarray
    allowed: str
    counters: List[str] = field(default_factory=list)


LabelFn = Callable[[np.ndarray], LabelCheck]


@dataclass
class CheckedSample:
    """A sample that passed :func:`check_sample`.

    Attributes:
        size (tuple[int, int] | None): (H, W) read from the image headers; None when the sizes were not read.
        labels (dict[str, np.ndarray | None]): role -> label to write instead of transferring the raw file (None).
    """
    size: Optional[Tuple[int, int]]
    labels: Dict[str, Optional[np.ndarray]] = field(default_factory=dict)


def _check_label(report: ConversionReport, key: str, item: FileItem, size: Optional[Tuple[int, int]],
                 label_fn: Optional[LabelFn]) -> Tuple[bool, Optional[np.ndarray]]:
    """Read and check one label; returns (passed, label to write or None)."""
    try:
        label = read_label(item.src)
    except OSError as err:
        report.skip(key, UNREADABLE, f'label {item.src}: {err}')
        return False, None
    except ValueError as err:
        report.skip(key, BAD_LABEL, f'{item.src}: {err}')
        return False, None
    if size is not None and label.shape != size:
        report.skip(key, SIZE_MISMATCH, f'images {size[1]}x{size[0]} vs label {label.shape[1]}x{label.shape[0]}')
        return False, None
    # a multi-band file (grey label stored as RGB/RGBA) is written as the one-band label read from it
    multi_band = label_needs_rewrite(item.src)
    if multi_band:
        report.count('labels stored with equal colour bands (written as one band)')
    if label_fn is None:
        rewritten = None
    else:
        result = label_fn(label)
        for name in result.counters:
            report.count(name)
        if result.out_of_range.size:
            report.add_out_of_range(key, result.out_of_range.tolist(), result.allowed)
        rewritten = result.rewritten
        if rewritten is None and label.dtype != np.uint8:
            report.skip(key, BAD_LABEL, f'{item.src}: {label.dtype} values do not fit uint8')
            return False, None
    if rewritten is None and multi_band:
        rewritten = label
    return True, rewritten


def check_sample(report: ConversionReport,
                 key: str,
                 items: Sequence[FileItem],
                 check_size: bool = True,
                 need_size: bool = False,
                 reencode: bool = False,
                 reencode_flag: str = '--reencode',
                 label_fn: Optional[LabelFn] = None) -> Optional[CheckedSample]:
    """Check one sample (see the module docstring); return None after recording a skip.

    Args:
        check_size: compare the H×W of all files (header reads).
        need_size: read the first image's H×W even when ``check_size`` is off (COCO jsons need it).
        reencode: accept images whose suffix differs from the layout's (they are re-encoded on writing).
        reencode_flag: the converter's flag named by the suffix-mismatch message.
        label_fn: check of the label values.
    """
    missing = [item for item in items if item.src is None or not osp.isfile(item.src)]
    if missing:
        report.skip(key, MISSING_PARTNER,
                    '; '.join(f'{item.role} missing ({item.src or item.dst})' for item in missing))
        return None
    images = [item for item in items if item.role != 'label']
    for item in images:
        if not same_format(item.src, item.dst) and not reencode:
            report.skip(
                key, SUFFIX_MISMATCH, f'{item.role} {item.src} is {normalized_suffix(item.src)}, the layout needs '
                f'{normalized_suffix(item.dst)} (pass {reencode_flag} to re-encode)')
            return None
    size = None
    if check_size or need_size:
        sizes = []
        for item in images if check_size else images[:1]:
            try:
                sizes.append((item.role, read_image_size(item.src)))
            except (OSError, ValueError) as err:
                report.skip(key, UNREADABLE, f'{item.role} {item.src}: {err}')
                return None
        size = sizes[0][1] if sizes else None
        if any(s != size for _, s in sizes):
            report.skip(key, SIZE_MISMATCH, ' vs '.join(f'{role} {s[1]}x{s[0]}' for role, s in sizes))
            return None
    checked = CheckedSample(size)
    for item in items:
        if item.role == 'label':
            passed, checked.labels[item.role] = _check_label(report, key, item, size if check_size else None,
                                                             label_fn)
            if not passed:
                return None
    return checked


def write_sample(items: Sequence[FileItem], checked: CheckedSample, link: str) -> None:
    """Write the files of a checked sample: transfer, re-encode when the suffix changes, or write a new label."""
    for item in items:
        new_label = checked.labels.get(item.role)
        if new_label is not None:
            write_label(new_label, item.dst)
        elif same_format(item.src, item.dst):
            transfer_file(item.src, item.dst, link)
        elif item.role == 'label':
            write_label(read_label(item.src), item.dst)
        else:
            reencode_image(item.src, item.dst)


def convert_sample(report: ConversionReport, key: str, split: str, items: Sequence[FileItem], link: str,
                   **check_kwargs) -> Optional[CheckedSample]:
    """:func:`check_sample`, then :func:`write_sample` and count it as written in ``split``; None when skipped."""
    checked = check_sample(report, key, items, **check_kwargs)
    if checked is not None:
        write_sample(items, checked, link)
        report.add_written(split)
    return checked


def report_unpaired(report: ConversionReport, split: str, role: str, names: Iterable[str], missing_role: str) -> None:
    """Record files of ``role`` that no sample used because their ``missing_role`` partner is absent."""
    for name in sorted(names):
        report.skip(f'{split}/{name}', MISSING_PARTNER, f'{missing_role} missing (only {role} exists)')
