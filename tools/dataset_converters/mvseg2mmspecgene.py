# Copyright (c) mmspecgene contributors. All rights reserved.
"""Convert the raw MVSeg download to the mmspecgene segmentation layout (docs/en/dataset_prepare.md).

Raw (the visible folder name and suffix are unverified, hence the options)::

    <raw>/{train,test}.txt                          one sequence name per line
    <raw>/data/<seq>/label/<frame>X.png             labelled frames (one trailing letter after the frame id)
    <raw>/data/<seq>/infrared/<frame>i.jpg|png
    <raw>/data/<seq>/visible/<frame>v.jpg|png

Output (``<seq>/<frame>`` relative paths are kept; nothing is flattened)::

    <out>/visible/<split>/<seq>/<frame>.jpg, <out>/infrared/<split>/<seq>/<frame>.jpg,
    <out>/labels/<split>/<seq>/<frame>.png       uint8 0..25 or 255 (26 classes, class 0 Background)

Nothing is re-encoded unless ``--convert-png-to-jpg`` is given: a .png frame is otherwise skipped and reported.
"""
import argparse
import os.path as osp

from mmspecgene.datasets.converters import (
    add_common_args,
    add_reencode_arg,
    convert_seg_samples,
    find_existing,
    index_label_fn,
    make_report,
    read_list,
    report_scan,
    resolve_list,
    scan_tree,
    seg_items,
)
from mmspecgene.datasets.metainfo import MVSEG_CLASSES

SUFFIXES = dict(visible='.jpg', infrared='.jpg', label='.png')
MISSING_SEQUENCE = 'missing sequence folder'
EMPTY_SEQUENCE = 'sequence without labels'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='MVSeg raw download -> mmspecgene segmentation layout')
    parser.add_argument('raw_root', help='MVSeg_Dataset folder holding train.txt, test.txt and data/')
    parser.add_argument('--out-dir', default='data/mvseg', help='output root')
    parser.add_argument('--data-dir', default='data', help='sequence folder under raw root')
    parser.add_argument('--splits', nargs='+', default=['train', 'test'], help='splits (lists <split>.txt)')
    parser.add_argument('--visible-dir', default='visible', help='RGB folder inside a sequence (unverified)')
    parser.add_argument(
        '--visible-suffix',
        nargs='+',
        default=['v.jpg', 'v.png'],
        help='RGB file name after the frame id, candidates in order (unverified)')
    parser.add_argument('--infrared-dir', default='infrared', help='thermal folder inside a sequence')
    parser.add_argument(
        '--infrared-suffix', nargs='+', default=['i.jpg', 'i.png'], help='thermal file name after the frame id')
    parser.add_argument('--label-dir', default='label', help='label folder inside a sequence')
    add_reencode_arg(parser, '--convert-png-to-jpg')
    add_common_args(parser)
    return parser.parse_args(argv)


def frame_of(label_name):
    """'00237X.png' -> '00237': drop the suffix and one trailing letter."""
    stem = osp.splitext(label_name)[0]
    return stem[:-1] if len(stem) > 1 and stem[-1].isalpha() else stem


def sequence_samples(args, report, split, seq):
    seq_dir = osp.join(args.raw_root, args.data_dir, seq)
    label_dir = osp.join(seq_dir, args.label_dir)
    if not osp.isdir(label_dir):
        report.skip(f'{split}/{seq}', MISSING_SEQUENCE, f'{label_dir} not found')
        return []
    scan = scan_tree(label_dir, f'MVSeg {seq} labels', recursive=False, allow_empty=True)
    report_scan(report, scan, f'{split}/{seq}/')
    if not scan.files:
        report.skip(f'{split}/{seq}', EMPTY_SEQUENCE, f'no label image in {label_dir}')
        return []
    samples = []
    for label_name in scan.files:
        frame = frame_of(label_name)
        sources = dict(label=osp.join(label_dir, label_name))
        for role, folder, tails in (('visible', args.visible_dir, args.visible_suffix),
                                    ('infrared', args.infrared_dir, args.infrared_suffix)):
            candidates = [osp.join(seq_dir, folder, frame + tail) for tail in tails]
            sources[role] = find_existing(candidates) or osp.join(seq_dir, folder, frame + '|'.join(tails))
        rel = f'{seq}/{frame}'
        samples.append((f'{split}/{rel}', seg_items(args.out_dir, split, rel, sources, SUFFIXES)))
    return samples


def main(argv=None):
    args = parse_args(argv)
    report = make_report('mvseg2mmspecgene', args)
    label_fn = index_label_fn(len(MVSEG_CLASSES))
    for split in args.splits:
        list_path = resolve_list(args.raw_root, f'{split}.txt')
        sequences = read_list(list_path)
        samples = []
        for seq in sequences:
            samples += sequence_samples(args, report, split, seq)
        print(f'[mvseg2mmspecgene] {split}: {len(sequences)} sequences, {len(samples)} labelled frames', flush=True)
        convert_seg_samples(
            report,
            split,
            samples,
            args.link,
            label_fn,
            check_size=not args.skip_size_check,
            reencode=args.convert_png_to_jpg,
            reencode_flag='--convert-png-to-jpg')
    report.finish(args.report_file)
    return report


if __name__ == '__main__':
    main()
