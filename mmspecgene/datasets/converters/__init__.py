# Copyright (c) mmspecgene contributors. All rights reserved.
"""The library behind the dataset converters in ``tools/dataset_converters/`` (see docs/en/dataset_prepare.md).

The command-line scripts only walk their raw layout and describe each sample as a list of :class:`FileItem`; this
package does the rest:

* :mod:`.report`: the conversion report, ``--strict`` errors and the progress bar;
* :mod:`.cli`: the options every converter shares;
* :mod:`.files`: image headers, label PNGs, copy or hard link (never a symlink), re-encoding;
* :mod:`.trees`: split lists and raw-folder scans that follow symbolic links (each real folder once);
* :mod:`.samples`: checking a sample (existence, suffixes, identical H×W, label values) and writing it;
* :mod:`.detection`: VOC parsing, COCO jsons with rectangle polygons, a detection split;
* :mod:`.segmentation`: label-value checks and (visible, infrared, label) samples of a segmentation / SOD split.
"""
from .cli import add_common_args, add_reencode_arg, make_report
from .detection import (
                        coco_annotation,
                        coco_categories,
                        coco_image,
                        convert_det_pairs,
                        parse_voc_xml,
                        rectangle_polygon,
                        valid_box,
                        write_coco_json,
)
from .files import (
                        IMG_EXTENSIONS,
                        LINK_MODES,
                        label_needs_rewrite,
                        normalized_suffix,
                        read_image_size,
                        read_label,
                        reencode_image,
                        same_format,
                        transfer_file,
                        write_label,
)
from .report import (
                        BAD_LABEL,
                        BROKEN_LINK,
                        MISSING_ANNOTATION,
                        MISSING_PARTNER,
                        SIZE_MISMATCH,
                        SUFFIX_MISMATCH,
                        UNREADABLE,
                        ConversionError,
                        ConversionReport,
                        dump_json,
                        iter_progress,
)
from .samples import (
                        CheckedSample,
                        FileItem,
                        LabelCheck,
                        LabelFn,
                        check_sample,
                        convert_sample,
                        report_unpaired,
                        write_sample,
)
from .segmentation import IGNORE_INDEX, convert_seg_samples, folder_samples, index_label_fn, seg_items
from .trees import TreeScan, find_existing, read_list, report_scan, resolve_list, scan_tree

__all__ = [
    'add_common_args', 'add_reencode_arg', 'make_report', 'coco_annotation', 'coco_categories', 'coco_image',
    'convert_det_pairs', 'parse_voc_xml', 'rectangle_polygon', 'valid_box', 'write_coco_json', 'IMG_EXTENSIONS',
    'LINK_MODES', 'label_needs_rewrite', 'normalized_suffix', 'read_image_size', 'read_label', 'reencode_image',
    'same_format', 'transfer_file', 'write_label', 'BAD_LABEL', 'BROKEN_LINK', 'MISSING_ANNOTATION', 'MISSING_PARTNER',
    'SIZE_MISMATCH', 'SUFFIX_MISMATCH', 'UNREADABLE', 'ConversionError', 'ConversionReport', 'dump_json',
    'iter_progress', 'CheckedSample', 'FileItem', 'LabelCheck', 'LabelFn', 'check_sample', 'convert_sample',
    'report_unpaired', 'write_sample', 'IGNORE_INDEX', 'convert_seg_samples', 'folder_samples', 'index_label_fn',
    'seg_items', 'TreeScan', 'find_existing', 'read_list', 'report_scan', 'resolve_list', 'scan_tree'
]
