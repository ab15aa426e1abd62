# Copyright (c) mmspecgene contributors. All rights reserved.
"""Convert the raw LLVIP download to the mmspecgene detection layout (docs/en/dataset_prepare.md).

Raw::

    <raw>/visible/{train,test}/*.jpg, <raw>/infrared/{train,test}/*.jpg, <raw>/Annotations/<stem>.xml (VOC)

Output::

    <out>/visible/{train,test}/*.jpg, <out>/infrared/{train,test}/*.jpg
    <out>/annotations/llvip_{train,test}.json   integer image ids (from 1, sorted names), category 1 = person,
                                                bbox [xmin, ymin, xmax - xmin, ymax - ymin], rectangle polygons
"""
import argparse
import os.path as osp

from mmspecgene.datasets.converters import (
    FileItem,
    add_common_args,
    add_reencode_arg,
    convert_det_pairs,
    make_report,
    report_scan,
    report_unpaired,
    scan_tree,
    write_coco_json,
)
from mmspecgene.datasets.metainfo import LLVIP_CLASSES


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='LLVIP raw download -> mmspecgene detection layout')
    parser.add_argument('raw_root', help='raw LLVIP root holding visible/, infrared/ and Annotations/')
    parser.add_argument('--out-dir', default='data/llvip', help='output root')
    parser.add_argument('--ann-dir', default=None, help='VOC xml folder (default <raw>/Annotations)')
    parser.add_argument('--splits', nargs='+', default=['train', 'test'], help='split folders to convert')
    add_common_args(parser)
    add_reencode_arg(parser)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    report = make_report('llvip2coco', args)
    ann_dir = args.ann_dir or osp.join(args.raw_root, 'Annotations')
    for split in args.splits:
        visible_dir = osp.join(args.raw_root, 'visible', split)
        infrared_dir = osp.join(args.raw_root, 'infrared', split)
        visible_scan = scan_tree(visible_dir, f'LLVIP {split} visible images', recursive=False)
        infrared_scan = scan_tree(infrared_dir, f'LLVIP {split} infrared images', recursive=False)
        for scan in (visible_scan, infrared_scan):
            report_scan(report, scan, f'{split}/')
        visible_names, infrared_names = visible_scan.files, infrared_scan.files
        samples = []
        for name in visible_names:
            stem = osp.splitext(name)[0]
            out_name = f'{split}/{stem}.jpg'
            items = [
                FileItem('visible', osp.join(visible_dir, name), osp.join(args.out_dir, 'visible', out_name)),
                FileItem('infrared', osp.join(infrared_dir, name), osp.join(args.out_dir, 'infrared', out_name)),
            ]
            samples.append((f'{split}/{stem}', items, osp.join(ann_dir, stem + '.xml')))
        unpaired = {osp.splitext(name)[0] for name in set(infrared_names) - set(visible_names)}
        report_unpaired(report, split, 'infrared', unpaired, 'visible')
        images, annotations = convert_det_pairs(
            report, split, samples, args.out_dir, LLVIP_CLASSES, args.link, check_size=not args.skip_size_check,
            reencode=args.reencode)
        write_coco_json(
            osp.join(args.out_dir, 'annotations', f'llvip_{split}.json'), images, annotations, LLVIP_CLASSES)
    report.finish(args.report_file)
    return report


if __name__ == '__main__':
    main()
