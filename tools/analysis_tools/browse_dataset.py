# Copyright (c) mmspecgene contributors. All rights reserved.
"""Browse a config's dataset after its pipeline: RGB and thermal side by side with the annotations."""
import argparse
import os.path as osp

import mmcv
from mmengine.config import Config, DictAction
from mmengine.registry import DATASETS, VISUALIZERS, init_default_scope
from mmengine.utils import ProgressBar

from mmspecgene.utils import scope_of_config
from mmspecgene.visualization import det_sample_for_canvas, seg_sample_for_canvas, side_by_side, split_stack


def parse_args():
    parser = argparse.ArgumentParser(description='Browse an RGBT dataset')
    parser.add_argument('config', help='config file')
    parser.add_argument('--split', choices=['train', 'val', 'test'], default='train')
    parser.add_argument('--output-dir', default=None, help='write RGB‖T images here')
    parser.add_argument('--num', type=int, default=20, help='number of samples to draw')
    parser.add_argument('--show', action='store_true', help='show in a window')
    parser.add_argument('--show-interval', type=float, default=2, help='seconds between shown images')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config settings')
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    scope = scope_of_config(cfg)
    init_default_scope(scope)
    if not args.output_dir and not args.show:
        raise SystemExit('nothing to do: give --output-dir and/or --show')
    dataset = DATASETS.build(cfg.get(f'{args.split}_dataloader').dataset)
    visualizer = VISUALIZERS.build(cfg.visualizer) if scope != 'mmpretrain' else None
    if visualizer is not None:
        visualizer.dataset_meta = dataset.metainfo
    num = min(args.num, len(dataset))
    progress = ProgressBar(num)
    for i in range(num):
        item = dataset[i]
        sample = item['data_samples']
        rgb, thermal = split_stack(item['inputs'])
        canvas = side_by_side(rgb, thermal)
        name = osp.basename(sample.img_path)
        out_file = osp.join(args.output_dir, f'{i:05d}_{name}') if args.output_dir else None
        if scope == 'mmdet':
            visualizer.add_datasample(name, canvas, det_sample_for_canvas(sample, rgb.shape[1]), draw_pred=False,
                                      show=args.show, wait_time=args.show_interval, out_file=out_file)
        elif scope == 'mmseg':
            visualizer.add_datasample(name, canvas, seg_sample_for_canvas(sample), draw_pred=False, show=args.show,
                                      wait_time=args.show_interval, out_file=out_file)
        else:
            if out_file:
                mmcv.imwrite(mmcv.rgb2bgr(canvas), out_file)
            if args.show:
                mmcv.imshow(mmcv.rgb2bgr(canvas), name, int(args.show_interval * 1000))
        progress.update()


if __name__ == '__main__':
    main()
