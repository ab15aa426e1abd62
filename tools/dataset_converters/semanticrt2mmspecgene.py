# Copyright (c) mmspecgene contributors. All rights reserved.
"""Convert the raw SemanticRT download to the mmspecgene segmentation layout (docs/en/dataset_prepare.md).

Raw::

    <raw>/rgb/<name>.*, <raw>/thermal/<name>.*, <raw>/labels/<name>.png, <raw>/{train,val,test}.txt
    (list entries: names with or without suffix, optionally prefixed by the rgb folder)

Output::

    <out>/visible/<split>/<name>.jpg, <out>/infrared/<split>/<name>.jpg, <out>/labels/<split>/<name>.png
    labels uint8 0..12 or 255 (13 classes, class 0 Background); other values are reported (error with --strict)
"""
import argparse
import os.path as osp

from mmspecgene.datasets.converters import (
    add_common_args,
    add_reencode_arg,
    convert_seg_samples,
    index_label_fn,
    make_report,
    read_list,
    report_scan,
    resolve_list,
    scan_tree,
    seg_items,
)
from mmspecgene.datasets.metainfo import SEMANTICRT_CLASSES

SUFFIXES = dict(visible='.jpg', infrared='.jpg', label='.png')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='SemanticRT raw download -> mmspecgene segmentation layout')
    parser.add_argument('raw_root', help='raw SemanticRT root')
    parser.add_argument('--out-dir', default='data/semanticrt', help='output root')
    parser.add_argument('--rgb-dir', default='rgb', help='RGB folder under raw root')
    parser.add_argument('--thermal-dir', default='thermal', help='thermal folder under raw root')
    parser.add_argument('--label-dir', default='labels', help='label folder under raw root')
    parser.add_argument('--splits', nargs='+', default=['train', 'val', 'test'], help='splits to convert')
    parser.add_argument('--list-pattern', default='{}.txt', help='split list name of a split')
    add_reencode_arg(parser)
    add_common_args(parser)
    return parser.parse_args(argv)


def entry_rel(entry, prefixes):
    """List entry -> relative name without suffix ('rgb/00001.jpg' -> '00001')."""
    entry = entry.replace('\\', '/')
    for prefix in prefixes:
        if entry.startswith(prefix + '/'):
            entry = entry[len(prefix) + 1:]
    return osp.splitext(entry)[0]


def main(argv=None):
    args = parse_args(argv)
    report = make_report('semanticrt2mmspecgene', args)
    folders = dict(visible=args.rgb_dir, infrared=args.thermal_dir, label=args.label_dir)
    indexes = {}
    for role, folder in folders.items():
        scan = scan_tree(osp.join(args.raw_root, folder), f'SemanticRT {role} files')
        report_scan(report, scan, f'{folder}/')
        indexes[role] = scan.by_stem()
    label_fn = index_label_fn(len(SEMANTICRT_CLASSES))
    listed = set()
    for split in args.splits:
        list_path = resolve_list(args.raw_root, args.list_pattern.format(split))
        rels = [entry_rel(entry, folders.values()) for entry in read_list(list_path)]
        listed.update(rels)
        print(f'[semanticrt2mmspecgene] {split}: {len(rels)} entries from {list_path}', flush=True)
        samples = []
        for rel in rels:
            sources = {
                role: indexes[role].get(rel, osp.join(args.raw_root, folder, rel + '.*'))
                for role, folder in folders.items()
            }
            samples.append((f'{split}/{rel}', seg_items(args.out_dir, split, rel, sources, SUFFIXES)))
        convert_seg_samples(
            report,
            split,
            samples,
            args.link,
            label_fn,
            check_size=not args.skip_size_check,
            reencode=args.reencode)
    unlisted = len(set(indexes['visible']) - listed)
    if unlisted:
        report.note(f'{unlisted} RGB images are in none of the converted split lists')
    report.finish(args.report_file)
    return report


if __name__ == '__main__':
    main()
