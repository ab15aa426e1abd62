# Copyright (c) mmspecgene contributors. All rights reserved.
"""Convert the raw FMB download to the mmspecgene segmentation layout (docs/en/dataset_prepare.md).

Raw (folder names unverified, hence the options)::

    <raw>/{train,test}/Visible/<name>.png, <raw>/{train,test}/Infrared/<name>.png, <raw>/{train,test}/Label/<name>.png

Output::

    <out>/visible/<split>/<name>.png, <out>/infrared/<split>/<name>.png, <out>/labels/<split>/<name>.png
    labels uint8 0..14 or 255 (15 classes, class 0 Background); other values are reported (error with --strict)
"""
import argparse
import os.path as osp

from mmspecgene.datasets.converters import (
    add_common_args,
    add_reencode_arg,
    convert_seg_samples,
    folder_samples,
    index_label_fn,
    make_report,
)
from mmspecgene.datasets.metainfo import FMB_CLASSES

SUFFIXES = dict(visible='.png', infrared='.png', label='.png')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='FMB raw download -> mmspecgene segmentation layout')
    parser.add_argument('raw_root', help='raw FMB root holding train/ and test/')
    parser.add_argument('--out-dir', default='data/fmb', help='output root')
    parser.add_argument('--splits', nargs='+', default=['train', 'test'], help='split folders under raw root')
    parser.add_argument('--visible-dir', default='Visible', help='RGB folder inside a split')
    parser.add_argument('--infrared-dir', default='Infrared', help='thermal folder inside a split')
    parser.add_argument('--label-dir', default='Label', help='label folder inside a split')
    add_reencode_arg(parser)
    add_common_args(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    report = make_report('fmb2mmspecgene', args)
    label_fn = index_label_fn(len(FMB_CLASSES))
    for split in args.splits:
        split_dir = osp.join(args.raw_root, split)
        folders = dict(
            visible=osp.join(split_dir, args.visible_dir),
            infrared=osp.join(split_dir, args.infrared_dir),
            label=osp.join(split_dir, args.label_dir))
        samples = folder_samples(report, args.out_dir, split, folders, SUFFIXES)
        print(f'[fmb2mmspecgene] {split}: {len(samples)} samples', flush=True)
        convert_seg_samples(
            report, split, samples, args.link, label_fn, check_size=not args.skip_size_check, reencode=args.reencode)
    report.finish(args.report_file)
    return report


if __name__ == '__main__':
    main()
