# Copyright (c) mmspecgene contributors. All rights reserved.
"""Build the RGBT550K pretraining pair list (docs/en/dataset_prepare.md).

Raw::

    <raw>/ir/<subset>/.../<name>, <raw>/rgb/<subset>/.../<name>

``rgb/`` mirrors ``ir/``; directory components named ``ir`` / ``infrared`` inside a subset correspond to ``rgb`` /
``visible`` in the mirror. That mapping happens HERE ONLY: the pair list carries both relative paths and runtime code
never derives one from the other.

Output::

    --link copy|hardlink: <out>/visible/<rgb_rel>, <out>/infrared/<ir_rel>, <out>/annotations/pairs_train.txt
    --link none:          <out>/annotations/pairs_train.txt only, relative to <raw>/rgb and <raw>/ir
                          (use those two folders as the dataset's visible/infrared roots)

Each line is "<visible_rel> <infrared_rel>"; the report prints the pair count. Linked folders in the raw trees are
followed (each real folder once); trees without images, or without a single valid pair, are an error.
"""
import argparse
import os
import os.path as osp

from mmspecgene.datasets.converters import (
    ConversionError,
    FileItem,
    add_common_args,
    check_sample,
    convert_sample,
    iter_progress,
    make_report,
    report_scan,
    report_unpaired,
    scan_tree,
)

WHITESPACE_IN_PATH = 'whitespace in path'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='RGBT550K raw tree -> pair list (+ optional explicit layout)')
    parser.add_argument('raw_root', help='RGBT_CLEAN_v6 folder holding ir/ and rgb/')
    parser.add_argument('--out-dir', default='data/rgbt550k', help='output root')
    parser.add_argument('--infrared-dir', default='ir', help='thermal tree (absolute or under raw root)')
    parser.add_argument('--visible-dir', default='rgb', help='RGB tree (absolute or under raw root)')
    parser.add_argument(
        '--component-map',
        nargs='+',
        default=['ir=rgb', 'infrared=visible'],
        help='directory components of a thermal path renamed in its RGB partner (OLD=NEW)')
    parser.add_argument('--list-name', default='pairs_train.txt', help='pair list name under <out>/annotations')
    add_common_args(parser, link_choices=('copy', 'hardlink', 'none'))
    return parser.parse_args(argv)


def parse_component_map(pairs):
    mapping = {}
    for pair in pairs:
        if pair.count('=') != 1 or not all(pair.split('=')):
            raise ValueError(f'--component-map entry {pair!r} must look like OLD=NEW')
        old, new = pair.split('=')
        mapping[old] = new
    return mapping


def visible_candidates(ir_rel, mapping):
    """RGB partner candidates of a thermal relative path: components mapped first, then the identical path."""
    parts = ir_rel.split('/')
    mapped = '/'.join([mapping.get(p, p) for p in parts[:-1]] + parts[-1:])
    return [mapped, ir_rel] if mapped != ir_rel else [ir_rel]


def main(argv=None):
    args = parse_args(argv)
    report = make_report('rgbt550k_pairs', args)
    mapping = parse_component_map(args.component_map)
    infrared_root = osp.join(args.raw_root, args.infrared_dir)
    visible_root = osp.join(args.raw_root, args.visible_dir)
    infrared_scan = scan_tree(infrared_root, 'RGBT550K thermal images')
    visible_scan = scan_tree(visible_root, 'RGBT550K RGB images')
    report_scan(report, infrared_scan, f'{args.infrared_dir}/')
    report_scan(report, visible_scan, f'{args.visible_dir}/')
    infrared_rels, visible_rels = infrared_scan.files, set(visible_scan.files)
    print(f'[rgbt550k_pairs] {len(infrared_rels)} thermal and {len(visible_rels)} RGB images found', flush=True)
    pairs, used_visible = [], set()
    for ir_rel in iter_progress(infrared_rels):
        candidates = visible_candidates(ir_rel, mapping)
        rgb_rel = next((c for c in candidates if c in visible_rels), candidates[0])
        if rgb_rel in visible_rels:
            used_visible.add(rgb_rel)
        if any(ch.isspace() for ch in rgb_rel + ir_rel):
            report.skip(ir_rel, WHITESPACE_IN_PATH, 'pair lists are space-separated')
            continue
        out_visible = osp.join(args.out_dir, 'visible', rgb_rel)
        out_infrared = osp.join(args.out_dir, 'infrared', ir_rel)
        items = [
            FileItem('visible', osp.join(visible_root, rgb_rel), out_visible),
            FileItem('infrared', osp.join(infrared_root, ir_rel), out_infrared),
        ]
        if args.link == 'none':
            if check_sample(report, ir_rel, items, check_size=not args.skip_size_check) is None:
                continue
            report.add_written('pairs')
        elif convert_sample(report, ir_rel, 'pairs', items, args.link, check_size=not args.skip_size_check) is None:
            continue
        if rgb_rel != ir_rel:
            report.count('pairs whose RGB path differs from the thermal path')
        pairs.append(f'{rgb_rel} {ir_rel}')
    report_unpaired(report, args.visible_dir, 'rgb', visible_rels - used_visible, 'thermal')
    if not pairs:
        report.finish(args.report_file)
        raise ConversionError(f'no RGB-thermal pair found: {len(infrared_rels)} thermal images under {infrared_root} '
                              f'and {len(visible_rels)} RGB images under {visible_root}, none paired and valid '
                              '(see the report above)')
    list_path = osp.join(args.out_dir, 'annotations', args.list_name)
    os.makedirs(osp.dirname(list_path), exist_ok=True)
    with open(list_path, 'w', encoding='utf-8') as f:
        f.writelines(line + '\n' for line in pairs)
    if args.link == 'none':
        report.note(f'pair list relative to visible root {osp.abspath(visible_root)} and infrared root '
                    f'{osp.abspath(infrared_root)}')
    report.note(f'{len(pairs)} pairs written to {list_path}')
    report.finish(args.report_file)
    return report


if __name__ == '__main__':
    main()
