# Copyright (c) mmspecgene contributors. All rights reserved.
"""Pack RGBT pretraining pairs into tar shards plus an offset index (``RGBTTarPairDataset``).

Input: a pair data root as ``RGBTPairDataset`` reads it, i.e. ``<root>/visible/``, ``<root>/infrared/`` and a pair
list (default ``annotations/pairs_train.txt`` if present, else every visible image with the same relative path
under infrared/). Output::

    <out>/<prefix>-00000.tar ...   members <key>.rgb.<ext>, <key>.ir.<ext> (key = visible path without extension)
    <out>/index.json               offsets and sizes of every member, in pair-list order

``--index-only SHARD [SHARD ...]`` indexes existing shards (same member naming) instead. Examples::

    python tools/dataset_converters/rgbt_pairs_to_tar.py data/rgbt550k --out-dir data/rgbt550k_shards
    python tools/dataset_converters/rgbt_pairs_to_tar.py --index-only data/rgbt550k_shards/*.tar \\
        --out-dir data/rgbt550k_shards
"""
import argparse
import os.path as osp
import time

from mmengine.utils import ProgressBar

from mmspecgene.datasets.ann_checks import mirrored_pairs, read_pair_list
from mmspecgene.datasets.tar_shards import build_index, pack_pairs, write_index


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='RGBT pairs -> tar shards + offset index')
    parser.add_argument('data_root', nargs='?', help='pair data root (visible/, infrared/, annotations/)')
    parser.add_argument('--ann-file', default=None, help='pair list relative to data_root (default: '
                        'annotations/pairs_train.txt if present, else mirrored roots)')
    parser.add_argument('--visible-dir', default='visible', help='visible root under data_root')
    parser.add_argument('--img-suffix', nargs='+', default=None, metavar='SUFFIX',
                        help='without a pair list: visible image suffixes to pack (default: .jpg .jpeg .png .bmp .tif '
                        '.tiff, any letter case)')
    parser.add_argument('--infrared-dir', default='infrared', help='infrared root under data_root')
    parser.add_argument('--out-dir', required=True, help='folder of the shards and index.json')
    parser.add_argument('--pairs-per-shard', type=int, default=2000, help='pairs per tar shard')
    parser.add_argument('--prefix', default='pairs', help='shard file name prefix')
    parser.add_argument('--index-only', nargs='+', default=None, metavar='SHARD', help='index existing shards')
    args = parser.parse_args(argv)
    if args.index_only is None and args.data_root is None:
        parser.error('give data_root, or --index-only SHARD ...')
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    start = time.time()
    if args.index_only:
        for shard in args.index_only:
            if osp.abspath(osp.dirname(shard)) != osp.abspath(args.out_dir):
                raise ValueError(f'--index-only: shard {shard} must lie in --out-dir {args.out_dir}')
        index = build_index(sorted(args.index_only))
        write_index(index, osp.join(args.out_dir, 'index.json'))
    else:
        rgb_root = osp.join(args.data_root, args.visible_dir)
        ir_root = osp.join(args.data_root, args.infrared_dir)
        ann_file = args.ann_file
        if ann_file is None and osp.isfile(osp.join(args.data_root, 'annotations', 'pairs_train.txt')):
            ann_file = osp.join('annotations', 'pairs_train.txt')
        if ann_file:
            pairs = read_pair_list(osp.join(args.data_root, ann_file))
        else:
            pairs = mirrored_pairs(rgb_root, args.img_suffix)
        bar = ProgressBar(len(pairs))
        index = pack_pairs(pairs, rgb_root, ir_root, args.out_dir, args.pairs_per_shard, args.prefix, bar.update)
        print()
    num_pairs = sum(len(shard['pairs']) for shard in index['shards'])
    num_bytes = sum(shard['bytes'] for shard in index['shards'])
    print(f'[rgbt_pairs_to_tar] {num_pairs} pairs in {len(index["shards"])} shards ({num_bytes / 2**20:.1f} MiB), '
          f'index {osp.join(args.out_dir, "index.json")}, {time.time() - start:.1f} s')
    return index


if __name__ == '__main__':
    main()
