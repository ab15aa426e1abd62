# Copyright (c) mmspecgene contributors. All rights reserved.
"""Browse a config's dataset after its pipeline: RGB and thermal side by side with the annotations.

Matching configs draw the pair the matcher sees (the thermal image warped by the sample's homography) with the
ground-truth correspondences of a grid of RGB pixels.

The drawing shows the transformed image (after resize, crop, flip, pad) and the ground truth in the same
coordinates: a pipeline that loads its annotations after the geometric steps (the usual test pipelines, which
evaluate in original coordinates) is browsed with its ``LoadAnnotations`` moved right after the image loading step,
so that every geometric step transforms boxes, masks and label maps together with the image.
"""
import argparse
import copy
import os
import os.path as osp
import tempfile
from typing import List, Optional

import mmcv
from mmengine.config import Config
from mmengine.registry import DATASETS, VISUALIZERS, init_default_scope
from mmengine.utils import ProgressBar

from mmspecgene.apis.inference import leaf_dataset_cfgs
from mmspecgene.match.geometry import grid_correspondences
from mmspecgene.match.visualization import draw_matches
from mmspecgene.utils import scope_of_config
from mmspecgene.utils.cfg_options import add_cfg_options_arguments, merge_cfg_options
from mmspecgene.visualization import det_sample_for_canvas, seg_sample_for_canvas, side_by_side, split_stack

IMAGE_LOADERS = ('LoadRGBTImagePair', )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Browse an RGBT dataset')
    parser.add_argument('config', help='config file')
    parser.add_argument('--split', choices=['train', 'val', 'test'], default='train')
    parser.add_argument('--output-dir', default=None, help='write RGB‖T images here')
    parser.add_argument('--num', type=int, default=20, help='number of samples to draw')
    parser.add_argument('--show', action='store_true', help='show in a window')
    parser.add_argument('--show-interval', type=float, default=2, help='seconds between shown images')
    add_cfg_options_arguments(parser)
    return parser.parse_args(argv)


def _type_name(step: dict) -> str:
    return str(step.get('type', '')).rsplit('.', 1)[-1]


def annotations_before_geometry(pipeline: List[dict]) -> List[dict]:
    """A copy of ``pipeline`` whose ``LoadAnnotations`` steps follow the image loading step directly.

    Raises:
        ValueError: annotations are loaded but the pipeline has no image loading step to put them after.
    """
    steps = [copy.deepcopy(step) for step in pipeline]
    ann_steps = [step for step in steps if _type_name(step) == 'LoadAnnotations']
    if not ann_steps:
        return steps
    rest = [step for step in steps if _type_name(step) != 'LoadAnnotations']
    loaders = [i for i, step in enumerate(rest) if _type_name(step) in IMAGE_LOADERS]
    if not loaders:
        raise ValueError(f'cannot browse: the pipeline loads annotations but has none of the image loaders '
                         f'{IMAGE_LOADERS}: {[step.get("type") for step in pipeline]}')
    first = loaders[0] + 1
    return rest[:first] + ann_steps + rest[first:]


def build_browse_dataset(cfg: Config, split: str):
    """The dataset of ``<split>_dataloader`` with annotations transformed like the image (see the module doc)."""
    loader = cfg.get(f'{split}_dataloader')
    if loader is None:
        raise KeyError(f'config {cfg.filename} has no {split}_dataloader')
    dataset_cfg = copy.deepcopy(loader.dataset)
    for leaf in leaf_dataset_cfgs(dataset_cfg):  # through ConcatDataset / RepeatDataset wrappers
        if 'pipeline' in leaf:
            leaf['pipeline'] = annotations_before_geometry(leaf['pipeline'])
    return DATASETS.build(dataset_cfg)


def canvas_of(item: dict, scope: str):
    """The RGB‖thermal canvas (H×2W×3 RGB) of a pipeline output and its data sample in canvas coordinates."""
    sample = item['data_samples']
    rgb, thermal = split_stack(item['inputs'])
    canvas = side_by_side(rgb, thermal)
    if scope == 'mmdet':
        sample = det_sample_for_canvas(sample, rgb.shape[1])
    elif scope == 'mmseg':
        sample = seg_sample_for_canvas(sample)
    return canvas, sample


def draw_match_sample(item: dict, out_file: str, title: str, step: int = 16) -> int:
    """Save RGB‖warped thermal with the ground-truth correspondences of a ``step``-pixel grid; returns their count."""
    rgb, thermal = split_stack(item['inputs'])
    kpts0, kpts1 = grid_correspondences(item['data_samples'].gt_homography, (rgb.shape[1], rgb.shape[0]), step)
    draw_matches(rgb, thermal, kpts0, kpts1, None, out_file, title=f'{title}: {len(kpts0)} ground-truth matches')
    return len(kpts0)


def main(argv=None):
    args = parse_args(argv)
    cfg = merge_cfg_options(Config.fromfile(args.config), args)
    scope = scope_of_config(cfg)
    init_default_scope(scope)
    if not args.output_dir and not args.show:
        raise SystemExit('nothing to do: give --output-dir and/or --show')
    dataset = build_browse_dataset(cfg, args.split)
    if args.output_dir:
        os.makedirs(args.output_dir, exist_ok=True)
    visualizer: Optional[object] = VISUALIZERS.build(cfg.visualizer) if scope in ('mmdet', 'mmseg') else None
    if visualizer is not None:
        visualizer.dataset_meta = dataset.metainfo
    num = min(args.num, len(dataset))
    progress = ProgressBar(num)
    for i in range(num):
        item = dataset[i]
        name = osp.basename(item['data_samples'].img_path)
        # png: a lossless drawing, whatever the format of the source image
        out_file = osp.join(args.output_dir, f'{i:05d}_{osp.splitext(name)[0]}.png') if args.output_dir else None
        if scope == 'mmspecgene':  # matching
            with tempfile.TemporaryDirectory() as tmp:
                drawn = out_file or osp.join(tmp, 'match.png')
                draw_match_sample(item, drawn, name)
                if args.show:
                    mmcv.imshow(mmcv.imread(drawn), name, int(args.show_interval * 1000))
            progress.update()
            continue
        canvas, sample = canvas_of(item, scope)
        if visualizer is not None:
            visualizer.add_datasample(name, canvas, sample, draw_pred=False, show=args.show,
                                      wait_time=args.show_interval, out_file=out_file)
        else:
            if out_file:
                mmcv.imwrite(mmcv.rgb2bgr(canvas), out_file)
            if args.show:
                mmcv.imshow(mmcv.rgb2bgr(canvas), name, int(args.show_interval * 1000))
        progress.update()


if __name__ == '__main__':
    main()
