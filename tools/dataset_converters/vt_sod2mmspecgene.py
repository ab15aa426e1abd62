# Copyright (c) mmspecgene contributors. All rights reserved.
"""Convert an RGB-T SOD set (VT5000, VT1000, VT821, VI-RGBT1500) to the mmspecgene SOD layout
(docs/en/method.md#segmentation-and-sod).

Raw (other layouts unverified, hence the options)::

    <raw>/{Train,Test}/RGB/<name>.jpg, <raw>/{Train,Test}/T/<name>.jpg, <raw>/{Train,Test}/GT/<name>.png
    or, for a test-only set, <raw>/{RGB,T,GT}/ directly

Output::

    <out>/<set>/visible/<split>/<name>.jpg, <out>/<set>/infrared/<split>/<name>.jpg,
    <out>/<set>/labels/<split>/<name>.png     uint8 0/1

GT handling (docs/en/method.md#segmentation-and-sod): the scale is detected by the maximum value; a 0/1 GT is copied as
is (idempotent), a 0/255 GT is stored as GT > 128 (the threshold of the SOD metrics). Values other than 0 and 255 on
the 0/255 scale are reported as out of range (and thresholded), an error with --strict.
"""
import argparse
import os.path as osp

import numpy as np

from mmspecgene.datasets.converters import (
    LabelCheck,
    add_common_args,
    add_reencode_arg,
    convert_seg_samples,
    folder_samples,
    make_report,
)
from mmspecgene.evaluation.sod import SOD_GT_THRESHOLD

SETS = ('vt5000', 'vt1000', 'vt821', 'vi-rgbt1500')
SUFFIXES = dict(visible='.jpg', infrared='.jpg', label='.png')
DEFAULT_SPLIT_DIRS = (('train', 'Train'), ('test', 'Test'))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='RGB-T SOD raw set -> mmspecgene SOD layout')
    parser.add_argument('raw_root', help='raw root of one set')
    parser.add_argument('--set', required=True, choices=SETS, help='set name (output folder)')
    parser.add_argument('--out-dir', default='data/sod', help='output root; the set goes to <out>/<set>')
    parser.add_argument(
        '--split-dirs',
        nargs='+',
        default=None,
        help='split=raw_folder pairs, e.g. train=Train test=Test or test=. (default: Train/Test when present, '
        'else test=.)')
    parser.add_argument('--rgb-dir', default='RGB', help='RGB folder inside a split folder')
    parser.add_argument('--thermal-dir', default='T', help='thermal folder inside a split folder')
    parser.add_argument('--gt-dir', default='GT', help='GT folder inside a split folder')
    add_reencode_arg(parser)
    add_common_args(parser)
    return parser.parse_args(argv)


def sod_label_fn(label: np.ndarray) -> LabelCheck:
    """Check an (H, W) GT: the scale is detected by the maximum value.

    A 0/1 GT is kept (idempotent; rewritten only when it is not uint8); otherwise GT > 128 is stored as 1 and
    values other than 0 and 255 are out of range.
    """
    allowed = f'0/1 or 0/255 (salient where > {SOD_GT_THRESHOLD})'
    if label.max(initial=0) <= 1:
        rewritten = None if label.dtype == np.uint8 else label.astype(np.uint8)
        return LabelCheck(rewritten, np.zeros(0, np.int64), allowed, ['GT already 0/1 (kept)'])
    values = np.unique(label)
    bad = values[(values != 0) & (values != 255)]
    return LabelCheck((label > SOD_GT_THRESHOLD).astype(np.uint8), bad, allowed,
                      ['GT on the 0/255 scale (stored as 0/1)'])


def split_dirs(args):
    if args.split_dirs:
        pairs = []
        for item in args.split_dirs:
            if item.count('=') != 1:
                raise ValueError(f'--split-dirs entry {item!r} must look like split=folder')
            pairs.append(tuple(item.split('=')))
        return pairs
    pairs = [(split, folder) for split, folder in DEFAULT_SPLIT_DIRS if osp.isdir(osp.join(args.raw_root, folder))]
    if not pairs and osp.isdir(osp.join(args.raw_root, args.rgb_dir)):
        pairs = [('test', '.')]
    if not pairs:
        raise FileNotFoundError(f'{args.raw_root}: neither Train/ nor Test/ nor {args.rgb_dir}/ found; '
                                'pass --split-dirs')
    return pairs


def main(argv=None):
    args = parse_args(argv)
    report = make_report('vt_sod2mmspecgene', args)
    out_dir = osp.join(args.out_dir, args.set)
    for split, raw_folder in split_dirs(args):
        split_dir = osp.normpath(osp.join(args.raw_root, raw_folder))
        folders = dict(
            visible=osp.join(split_dir, args.rgb_dir),
            infrared=osp.join(split_dir, args.thermal_dir),
            label=osp.join(split_dir, args.gt_dir))
        samples = folder_samples(report, out_dir, split, folders, SUFFIXES)
        print(f'[vt_sod2mmspecgene] {args.set} {split}: {len(samples)} samples from {split_dir}', flush=True)
        convert_seg_samples(
            report,
            split,
            samples,
            args.link,
            sod_label_fn,
            check_size=not args.skip_size_check,
            reencode=args.reencode)
    report.finish(args.report_file)
    return report


if __name__ == '__main__':
    main()
