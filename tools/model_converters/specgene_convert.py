# Copyright (c) mmspecgene contributors. All rights reserved.
"""Convert, validate and publish M-SpecGene checkpoints (SPEC §6.5).

Examples::

    # released pretraining checkpoint -> mmspecgene pretraining layout
    python tools/model_converters/specgene_convert.py M-SpecGene_VIT-B.pth out.pth \
        --dst-format mmspecgene-pretrain
    # any pretraining format -> det / seg backbone init
    python tools/model_converters/specgene_convert.py in.pth det_init.pth --dst-format det-init
    # check a fine-tuned checkpoint against its reference layout, then publish it (sha256 suffix)
    python tools/model_converters/specgene_convert.py seg_iter_320000.pth --validate-only
    python tools/model_converters/specgene_convert.py seg_iter_320000.pth seg_mvseg.pth --publish
"""
import argparse
import sys
from typing import Mapping

import torch

from mmspecgene.models.checkpoint import (FORMATS, convert_checkpoint, detect_format, get_state_dict,
                                          load_checkpoint_file, mmspecgene_to_released, publish,
                                          summarize_keys)
from mmspecgene.testing.checkpoint_layouts import compare_layout, expected_layout

DST_FORMATS = ('released-pretrain', 'mmspecgene-pretrain', 'det-init', 'seg-init')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Convert, validate and publish M-SpecGene checkpoints')
    parser.add_argument('src', help='source checkpoint file')
    parser.add_argument('dst', nargs='?', help='output file (not needed with --validate-only)')
    parser.add_argument('--src-format', default='auto', choices=('auto', ) + FORMATS, help='source layout')
    parser.add_argument(
        '--dst-format', choices=DST_FORMATS, help='output layout (default: the source layout, e.g. to publish)')
    parser.add_argument(
        '--norm-from',
        choices=('rgb', 'thermal'),
        help='mmspecgene -> released: decoder norm written as neck.ln1 when the separate norms differ')
    parser.add_argument(
        '--separate-decoder-norms',
        action='store_true',
        help='released -> mmspecgene: duplicate neck.ln1 into neck.{rgb,thermal}.norm')
    parser.add_argument('--validate-only', action='store_true', help='only report the layout; exit 1 on differences')
    parser.add_argument('--publish', action='store_true', help='strip training state, add a sha256 suffix')
    args = parser.parse_args(argv)
    if not args.validate_only and not args.dst:
        parser.error('dst is required unless --validate-only is given')
    return args


def key_report(title: str, state: Mapping, fmt: str) -> bool:
    """Print tensor counts and the comparison with the reference layout; True if they agree."""
    print(f'{title}: {fmt}, {len(state)} tensors: {summarize_keys(state, max_groups=40)}')
    try:
        if fmt == 'mmspecgene-pretrain':
            state = mmspecgene_to_released(state, norm_from='thermal')
            fmt = 'released-pretrain'
        diff = compare_layout(state, expected_layout(state, fmt))
    except (KeyError, ValueError, RuntimeError) as err:
        print(f'  reference layout: cannot be built ({err})')
        return False
    if not any(diff.values()):
        print('  reference layout: all keys and shapes agree')
        return True
    for kind in ('missing', 'unexpected', 'mismatched'):
        if diff[kind]:
            print(f'  reference layout: {len(diff[kind])} {kind}: {diff[kind]}')
    return False


def main(argv=None):
    args = parse_args(argv)
    ckpt = load_checkpoint_file(args.src)
    src_format = detect_format(ckpt) if args.src_format == 'auto' else args.src_format
    how = 'auto-detected' if args.src_format == 'auto' else 'given'
    ok = key_report(f'source {args.src} ({how})', get_state_dict(ckpt, src_format), src_format)
    if args.validate_only:
        sys.exit(0 if ok else 1)
    if not ok:
        print('warning: the source differs from its reference layout (see above); converting anyway')

    dst_format = args.dst_format or src_format
    out = convert_checkpoint(
        ckpt,
        dst_format,
        src_format=src_format,
        norm_from=args.norm_from,
        shared_decoder_norm=not args.separate_decoder_norms)
    key_report('output', get_state_dict(out, dst_format), dst_format)
    if args.publish:
        final = publish(out, args.dst)
    else:
        torch.save(out, args.dst)
        final = args.dst
    print(f'saved {final}')


if __name__ == '__main__':
    main()
