# Copyright (c) mmspecgene contributors. All rights reserved.
"""Shared helpers of the dataset converters (SPEC §10, docs/en/dataset_prepare.md).

One place for: the conversion report, pair checking (existence, identical H×W, label values), copying or hard
linking (never symlinks), re-encoding on request, COCO json writing with rectangle polygons, VOC XML parsing and
split-list reading. Converters only walk their raw tree and describe each sample as a list of :class:`FileItem`.
"""
import errno
import json
import os
import os.path as osp
import shutil
import xml.etree.ElementTree as ET
from collections import Counter, OrderedDict, namedtuple
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image

# Class tuples fixed by SPEC §7.4 / §8.4; they must equal the dataset classes' METAINFO.
KAIST_CLASSES = ('person', )
LLVIP_CLASSES = ('person', )
FLIR_CLASSES = ('person', 'bicycle', 'car')
SEG_NUM_CLASSES = dict(semanticrt=13, mvseg=26, fmb=15, sod=2)
IGNORE_INDEX = 255

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')
LINK_MODES = ('copy', 'hardlink')

# Skip reasons printed by the report.
MISSING_PARTNER = 'missing partner'
SIZE_MISMATCH = 'size mismatch'
UNREADABLE = 'unreadable'
BAD_LABEL = 'bad label'
SUFFIX_MISMATCH = 'suffix mismatch'
MISSING_ANNOTATION = 'missing annotation'

FileItem = namedtuple('FileItem', ['role', 'src', 'dst'])
FileItem.__doc__ = """One file of a sample.

Args:
    role (str): 'visible', 'infrared' or 'label'.
    src (str | None): raw path (None when the partner was not found; then ``dst`` may hold the expected name).
    dst (str): output path; its suffix is the documented one of the layout.
"""


class ConversionError(RuntimeError):
    """Raised for a ``--strict`` violation or an output that cannot be written."""


class ConversionReport:
    """Counts written samples, skipped samples (with reasons), dropped labels and out-of-range label values.

    Args:
        name (str): converter name printed in front of every line.
        strict (bool): raise :class:`ConversionError` on the first skip or out-of-range label value.
        max_examples (int): examples printed per skip reason (all are kept for :meth:`dump`).
    """

    def __init__(self, name: str, strict: bool = False, max_examples: int = 10):
        self.name = name
        self.strict = strict
        self.max_examples = max_examples
        self.written = Counter()  # split -> samples written
        self.counts = OrderedDict()  # free counters, e.g. 'train boxes'
        self.skipped = OrderedDict()  # reason -> [(key, detail)]
        self.dropped_labels = Counter()  # label name -> boxes dropped
        self.out_of_range = []  # [(key, [values])]
        self.notes = []

    # ----------------------------------------------------------------- recording
    def add_written(self, split: str, num: int = 1) -> None:
        self.written[split] += num

    def count(self, name: str, num: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + num

    def skip(self, key: str, reason: str, detail: str = '') -> None:
        """Record a skipped sample; with ``strict`` raise instead."""
        if self.strict:
            raise ConversionError(f'[{self.name}] --strict: {key}: {reason}: {detail}')
        self.skipped.setdefault(reason, []).append((key, detail))

    def drop_label(self, label: str, num: int = 1) -> None:
        """Record boxes of a label that is deliberately not converted (e.g. FLIR ``dog``)."""
        self.dropped_labels[label] += num

    def add_out_of_range(self, key: str, values: Sequence[int], allowed: str) -> None:
        """Record label values outside the allowed set; with ``strict`` raise instead."""
        values = [int(v) for v in values]
        if self.strict:
            raise ConversionError(f'[{self.name}] --strict: {key}: label values {values} out of range '
                                  f'(allowed {allowed})')
        self.out_of_range.append((key, values))

    def note(self, msg: str) -> None:
        self.notes.append(msg)

    @property
    def num_skipped(self) -> int:
        return sum(len(v) for v in self.skipped.values())

    # ------------------------------------------------------------------- output
    def lines(self) -> List[str]:
        """Return the report as text lines, each starting with ``[name]``."""
        tag = f'[{self.name}]'
        written = ', '.join(f'{split} {num}' for split, num in self.written.items()) or 'nothing'
        out = [f'{tag} written: {written} (total {sum(self.written.values())})']
        for name, num in self.counts.items():
            out.append(f'{tag} {name}: {num}')
        out.append(f'{tag} skipped: {self.num_skipped}')
        for reason, items in self.skipped.items():
            out.append(f'{tag}   {reason}: {len(items)}')
            for key, detail in items[:self.max_examples]:
                out.append(f'{tag}     {key}: {detail}')
            if len(items) > self.max_examples:
                out.append(f'{tag}     ... {len(items) - self.max_examples} more')
        dropped = ', '.join(f'{label} {num}' for label, num in sorted(self.dropped_labels.items()))
        out.append(f'{tag} dropped labels: {dropped or "none"}')
        out.append(f'{tag} files with out-of-range label values: {len(self.out_of_range)}')
        for key, values in self.out_of_range[:self.max_examples]:
            out.append(f'{tag}   {key}: {values}')
        if len(self.out_of_range) > self.max_examples:
            out.append(f'{tag}   ... {len(self.out_of_range) - self.max_examples} more')
        for msg in self.notes:
            out.append(f'{tag} note: {msg}')
        return out

    def print(self) -> None:
        print('\n'.join(self.lines()), flush=True)

    def dump(self, path: str) -> None:
        """Write the full report (every skipped key) as json."""
        dump_json(
            dict(
                name=self.name,
                written=dict(self.written),
                counts=dict(self.counts),
                skipped={reason: [dict(key=k, detail=d) for k, d in items]
                         for reason, items in self.skipped.items()},
                dropped_labels=dict(self.dropped_labels),
                out_of_range=[dict(key=k, values=v) for k, v in self.out_of_range],
                notes=self.notes), path, indent=1)

    def finish(self, report_file: Optional[str] = None) -> None:
        """Print the report and optionally dump it."""
        self.print()
        if report_file:
            self.dump(report_file)


# --------------------------------------------------------------------------- CLI
def add_common_args(parser, link_choices: Sequence[str] = LINK_MODES) -> None:
    """Add ``--link --skip-size-check --strict --report-file --max-examples``."""
    link_help = 'how files reach the output layout: copy or hard link (never a symlink)'
    if 'none' in link_choices:
        link_help += '; none: write no image, only the list relative to the raw trees'
    parser.add_argument('--link', choices=list(link_choices), default='copy', help=link_help)
    parser.add_argument(
        '--skip-size-check',
        action='store_true',
        help='check existence only, do not compare the H×W of the partners (faster)')
    parser.add_argument('--strict', action='store_true', help='any skipped sample or out-of-range label is an error')
    parser.add_argument('--report-file', default=None, help='also write the full report (every skip) as json')
    parser.add_argument('--max-examples', type=int, default=10, help='examples printed per skip reason')


def make_report(name: str, args) -> ConversionReport:
    return ConversionReport(name, strict=args.strict, max_examples=args.max_examples)


def iter_progress(items: Sequence):
    """Yield ``items`` while advancing an mmengine ProgressBar."""
    from mmengine.utils import ProgressBar
    items = list(items)
    if not items:
        return
    bar = ProgressBar(len(items))
    for item in items:
        yield item
        bar.update()
    print(flush=True)


# ------------------------------------------------------------------------- files
def normalized_suffix(path: str) -> str:
    """Lower-case suffix with ``.jpeg`` -> ``.jpg`` and ``.tif`` -> ``.tiff`` (same encoding)."""
    suffix = osp.splitext(path)[1].lower()
    return {'.jpeg': '.jpg', '.tif': '.tiff'}.get(suffix, suffix)


def same_format(src: str, dst: str) -> bool:
    return normalized_suffix(src) == normalized_suffix(dst)


def transfer_file(src: str, dst: str, link: str) -> None:
    """Copy or hard link ``src`` to ``dst`` (replacing an existing ``dst``); never a symlink."""
    if link not in LINK_MODES:
        raise ValueError(f'link must be one of {LINK_MODES}, got {link!r}')
    if osp.realpath(src) == osp.realpath(dst):
        return  # converting in place: removing dst would delete the source
    os.makedirs(osp.dirname(dst) or '.', exist_ok=True)
    if osp.lexists(dst):
        os.remove(dst)
    if link == 'copy':
        shutil.copyfile(src, dst)
        return
    try:
        os.link(src, dst)
    except OSError as err:
        if err.errno == errno.EXDEV:
            raise ConversionError(f'cannot hard link {src} -> {dst}: different file systems; use --link copy') \
                from err
        raise


def reencode_image(src: str, dst: str) -> None:
    """Decode ``src`` and encode it in the format of ``dst``'s suffix (8-bit images only)."""
    import cv2
    img = cv2.imread(src, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ConversionError(f'cannot decode {src} for re-encoding')
    if img.dtype != np.uint8:
        raise ConversionError(f'{src}: re-encoding needs an 8-bit image, got {img.dtype}')
    os.makedirs(osp.dirname(dst) or '.', exist_ok=True)
    if osp.lexists(dst):
        os.remove(dst)
    if not cv2.imwrite(dst, img):
        raise ConversionError(f'cannot write {dst}')


def read_image_size(path: str) -> Tuple[int, int]:
    """Return (H, W) from the image header only (no full decode).

    Raises:
        OSError: the file is not a readable image.
    """
    with Image.open(path) as img:
        width, height = img.size
    return height, width


def read_label(path: str) -> np.ndarray:
    """Read a label PNG as mmseg does (pillow, palette indices kept) and return an (H, W) array.

    A 3-channel label whose channels are equal is reduced to one channel.

    Raises:
        OSError: unreadable file. ValueError: not a single-channel index image.
    """
    with Image.open(path) as img:
        label = np.asarray(img)
    if label.ndim == 3:
        if label.shape[2] in (3, 4) and (label[..., :3] == label[..., :1]).all():
            label = label[..., 0]
        else:
            raise ValueError(f'expected a single-channel index image, got shape {label.shape}')
    if label.ndim != 2:
        raise ValueError(f'expected a 2-D label, got shape {label.shape}')
    return label


def write_label(label: np.ndarray, dst: str) -> None:
    """Write an (H, W) uint8 label as a grayscale PNG."""
    os.makedirs(osp.dirname(dst) or '.', exist_ok=True)
    if osp.lexists(dst):
        os.remove(dst)
    Image.fromarray(np.ascontiguousarray(label, dtype=np.uint8), mode='L').save(dst)


# label (H, W) -> (label to write or None when unchanged, out-of-range values, allowed-values text, counters)
LabelFn = Callable[[np.ndarray], Tuple[Optional[np.ndarray], np.ndarray, str, List[str]]]


def index_label_fn(num_classes: int) -> LabelFn:
    """Check that label values lie in ``0..num_classes-1`` or 255.

    Returns:
        callable: a :data:`LabelFn`; it counts the labels that hold the ignore value 255.
    """
    allowed = f'0..{num_classes - 1} or {IGNORE_INDEX}'

    def check(label: np.ndarray):
        values = np.unique(label)
        bad = values[(values >= num_classes) & (values != IGNORE_INDEX) | (values < 0)]
        counters = [f'labels holding {IGNORE_INDEX} (ignore)'] if IGNORE_INDEX in values else []
        out = None
        if label.dtype != np.uint8:
            if bad.size or values.max(initial=0) > 255:
                return None, bad, allowed, counters
            out = label.astype(np.uint8)
        return out, bad, allowed, counters

    return check


def check_sample(report: ConversionReport,
                 key: str,
                 items: Sequence[FileItem],
                 check_size: bool = True,
                 need_size: bool = False,
                 reencode: bool = False,
                 reencode_flag: str = '--reencode',
                 label_fn: Optional[LabelFn] = None):
    """Check one sample; on success return what :func:`write_sample` needs, else record a skip and return None.

    Checks, in order: every file exists, image suffixes match the layout (unless ``reencode``), all images and the
    label have identical H×W (header reads; skipped with ``check_size=False``), label values (``label_fn``).

    Returns:
        tuple | None: ((H, W) or None, {role: label array to write or None}).
    """
    missing = [item for item in items if item.src is None or not osp.isfile(item.src)]
    if missing:
        report.skip(key, MISSING_PARTNER,
                    '; '.join(f'{item.role} missing ({item.src or item.dst})' for item in missing))
        return None
    images = [item for item in items if item.role != 'label']
    labels = [item for item in items if item.role == 'label']
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
    label_out = {}
    for item in labels:
        try:
            label = read_label(item.src)
        except OSError as err:
            report.skip(key, UNREADABLE, f'label {item.src}: {err}')
            return None
        except ValueError as err:
            report.skip(key, BAD_LABEL, f'{item.src}: {err}')
            return None
        if check_size and size is not None and label.shape != size:
            report.skip(key, SIZE_MISMATCH, f'images {size[1]}x{size[0]} vs label {label.shape[1]}x{label.shape[0]}')
            return None
        out = None
        if label_fn is not None:
            out, bad, allowed, counters = label_fn(label)
            for name in counters:
                report.count(name)
            if bad.size:
                report.add_out_of_range(key, bad.tolist(), allowed)
            if out is None and label.dtype != np.uint8:
                report.skip(key, BAD_LABEL, f'{item.src}: {label.dtype} values do not fit uint8')
                return None
        label_out[item.role] = out
    return size, label_out


def write_sample(items: Sequence[FileItem], label_out: Dict[str, Optional[np.ndarray]], link: str) -> None:
    """Write the files of a checked sample: transfer, re-encode when the suffix changes, or write a new label."""
    for item in items:
        new_label = label_out.get(item.role)
        if new_label is not None:
            write_label(new_label, item.dst)
        elif same_format(item.src, item.dst):
            transfer_file(item.src, item.dst, link)
        elif item.role == 'label':
            write_label(read_label(item.src), item.dst)
        else:
            reencode_image(item.src, item.dst)


def convert_sample(report: ConversionReport, key: str, split: str, items: Sequence[FileItem], link: str,
                   **check_kwargs):
    """:func:`check_sample` then :func:`write_sample`; count it as written. Returns (H, W), None or False.

    Returns:
        False when the sample was skipped, else the (H, W) read from the headers (None when not read).
    """
    checked = check_sample(report, key, items, **check_kwargs)
    if checked is None:
        return False
    size, label_out = checked
    write_sample(items, label_out, link)
    report.add_written(split)
    return size


def report_unpaired(report: ConversionReport, split: str, role: str, names: Iterable[str], missing_role: str) -> None:
    """Record files of ``role`` that no sample used because their ``missing_role`` partner is absent."""
    for name in sorted(names):
        report.skip(f'{split}/{name}', MISSING_PARTNER, f'{missing_role} missing (only {role} exists)')


# ------------------------------------------------------------------ lists / trees
def read_list(path: str) -> List[str]:
    """Read a split list: one entry per line (first whitespace-separated token), blank and ``#`` lines skipped."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'split list not found: {path}')
    entries = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith('#'):
                entries.append(line.split()[0])
    return entries


def find_existing(candidates: Iterable[str]) -> Optional[str]:
    """First candidate path that is a file, or None."""
    for path in candidates:
        if path and osp.isfile(path):
            return path
    return None


def resolve_list(raw_root: str, name: str, subdirs: Sequence[str] = ('', )) -> str:
    """Find a split list given as a name under ``raw_root`` (or one of ``subdirs``) or as a path."""
    candidates = [osp.join(raw_root, sub, name) for sub in subdirs] + [name]
    found = find_existing(candidates)
    if found is None:
        raise FileNotFoundError(f'split list {name!r} not found; looked at: {", ".join(candidates)}')
    return found


def index_files(root: str, exts: Sequence[str] = IMG_EXTENSIONS) -> Dict[str, str]:
    """Map 'relative path without suffix' -> path for every file with one of ``exts`` under ``root``.

    Raises:
        FileNotFoundError: ``root`` is not a folder. ValueError: two files differ only by suffix (ambiguous).
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f'folder not found: {root}')
    index = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for filename in sorted(filenames):
            stem, ext = osp.splitext(filename)
            if ext.lower() not in exts:
                continue
            rel = osp.relpath(osp.join(dirpath, stem), root).replace(os.sep, '/')
            if rel in index:
                raise ValueError(f'ambiguous files under {root}: {index[rel]} and {osp.join(dirpath, filename)}')
            index[rel] = osp.join(dirpath, filename)
    return index


def list_images(folder: str, exts: Sequence[str] = IMG_EXTENSIONS) -> List[str]:
    """Sorted file names (not paths) with an image suffix directly in ``folder`` ([] if absent)."""
    if not osp.isdir(folder):
        return []
    return sorted(f for f in os.listdir(folder)
                  if osp.splitext(f)[1].lower() in exts and osp.isfile(osp.join(folder, f)))


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


def dump_json(obj, path: str, indent: Optional[int] = None) -> None:
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(obj, f, indent=indent)


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
    return dict(
        width=int(width) if width else None, height=int(height) if height else None, objects=objects)


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
                      samples: Sequence[Tuple[str, List[FileItem], object]],
                      out_dir: str,
                      class_names: Sequence[str],
                      link: str,
                      check_size: bool = True,
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
    """
    images, annotations = [], []
    report.add_written(split, 0)  # list the split even when nothing is written
    if image_ids is not None and len(image_ids) != len(samples):
        raise ValueError(f'{len(image_ids)} image ids for {len(samples)} samples')
    visible_root = osp.join(out_dir, 'visible')
    infrared_root = osp.join(out_dir, 'infrared')
    for index in iter_progress(range(len(samples))):
        key, items, source = samples[index]
        checked = check_sample(report, key, items, check_size=check_size, need_size=True)
        if checked is None:
            continue
        if isinstance(source, list):
            voc, ann_name = dict(width=None, height=None, objects=source), key
        elif source is None or not osp.isfile(source):
            report.skip(key, MISSING_ANNOTATION, f'annotation file not found: {source}')
            continue
        else:
            voc, ann_name = parse_voc_xml(source), source
        size, label_out = checked
        write_sample(items, label_out, link)
        report.add_written(split)
        height, width = size
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


# --------------------------------------------------------- segmentation samples
def seg_items(out_dir: str, split: str, rel: str, sources: Dict[str, Optional[str]],
              suffixes: Dict[str, str]) -> List[FileItem]:
    """Visible / infrared / label FileItems of one sample: ``<out>/<role dir>/<split>/<rel><suffix>``.

    Args:
        sources: role -> raw path (a non-existent path such as '<folder>/<rel>.*' when the partner is missing).
        suffixes: role -> documented output suffix, e.g. dict(visible='.jpg', infrared='.jpg', label='.png').
    """
    role_dirs = dict(visible='visible', infrared='infrared', label='labels')
    return [
        FileItem(role, sources.get(role), osp.join(out_dir, role_dirs[role], split, rel + suffixes[role]))
        for role in ('visible', 'infrared', 'label')
    ]


def folder_samples(out_dir: str, split: str, folders: Dict[str, str],
                   suffixes: Dict[str, str]) -> List[Tuple[str, List[FileItem]]]:
    """Samples of flat raw folders paired by file stem (the union of stems, so any orphan is reported).

    Args:
        folders: role -> raw folder holding that role's files.

    Raises:
        ValueError: two files of one folder share a stem.
    """
    stem_maps = {}
    for role, folder in folders.items():
        stem_map = {}
        for name in list_images(folder):
            stem = osp.splitext(name)[0]
            if stem in stem_map:
                raise ValueError(f'ambiguous files in {folder}: {stem_map[stem]} and {name}')
            stem_map[stem] = name
        stem_maps[role] = stem_map
    stems = sorted(set().union(*[set(m) for m in stem_maps.values()]))
    samples = []
    for stem in stems:
        sources = {
            role: osp.join(folders[role], stem_maps[role].get(stem, stem + '.*'))  # '.*': shown when missing
            for role in folders
        }
        samples.append((f'{split}/{stem}', seg_items(out_dir, split, stem, sources, suffixes)))
    return samples


def convert_seg_samples(report: ConversionReport, split: str, samples: Sequence[Tuple[str, List[FileItem]]],
                        link: str, label_fn: LabelFn, **check_kwargs) -> int:
    """Check and write (visible, infrared, label) samples; return the number written."""
    report.add_written(split, 0)  # list the split even when nothing is written
    before = report.written[split]
    for key, items in iter_progress(samples):
        convert_sample(report, key, split, items, link, label_fn=label_fn, **check_kwargs)
    return report.written[split] - before


def add_reencode_arg(parser, flag: str = '--reencode') -> None:
    parser.add_argument(
        flag,
        action='store_true',
        help='re-encode images whose raw format differs from the documented suffix (otherwise they are skipped '
        'and reported)')
