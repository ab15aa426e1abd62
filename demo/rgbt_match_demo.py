# Copyright (c) mmspecgene contributors. All rights reserved.
"""Match one RGB-thermal pair and draw RGB‖thermal with the match lines coloured by their error.

An aligned pair is warped first (thermal, by a homography drawn with ``--seed`` from the config's test
distribution), so every match has a known ground-truth position; ``--homography H.json`` (a 3x3 RGB -> thermal
matrix of the original images) evaluates an unaligned pair as it is instead.

Example:
    python demo/rgbt_match_demo.py rgb.jpg thermal.jpg CONFIG CKPT --out-file matches.png
"""
import json
from argparse import ArgumentParser

import numpy as np
import torch
from mmengine.dataset import Compose, pseudo_collate

from mmspecgene.apis import init_rgbt_model
from mmspecgene.match.geometry import match_errors, sample_homography
from mmspecgene.match.metric import evaluate_pair
from mmspecgene.match.visualization import draw_matches
from mmspecgene.visualization import split_stack


def build_inputs(cfg, rgb: str, thermal: str, seed: int, homography: str = None) -> dict:
    """The config's test pipeline on one pair: a seeded warp of an aligned pair, or a given homography."""
    steps = [dict(step) for step in cfg.test_dataloader.dataset.pipeline]
    load = next((step for step in steps if step['type'] == 'LoadRGBTMatchPair'), None)
    if load is None:
        raise KeyError(f'{cfg.filename}: the test pipeline has no LoadRGBTMatchPair step')
    info = dict(img_path=rgb, ir_path=thermal, sample_idx=0)
    if homography is not None:
        with open(homography) as f:
            info['gt_homography'] = np.asarray(json.load(f), dtype=np.float64)
        steps = [step for step in steps if step['type'] not in ('RGBTHomographyWarp', 'RGBTRandomHomographyWarp')]
    else:
        ranges = cfg.test_dataloader.dataset.get('homography_ranges')
        info['warp_homography'] = sample_homography(np.random.default_rng(seed), tuple(load['img_size']), ranges)
        info['warp_modality'] = 'thermal'
    return Compose(steps)(info)


def main(argv=None):
    parser = ArgumentParser(description=__doc__)
    parser.add_argument('rgb', help='RGB image file')
    parser.add_argument('thermal', help='thermal image file')
    parser.add_argument('config', help='matching config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out-file', default='rgbt_match_result.png', help='output figure')
    parser.add_argument('--device', default='cpu', help='device, e.g. cuda:0')
    parser.add_argument('--seed', type=int, default=0, help='seed of the homography that warps an aligned pair')
    parser.add_argument('--homography', help='json 3x3 RGB -> thermal homography of an unaligned pair (no warp)')
    parser.add_argument('--max-error', type=float, default=10.0, help='error (px) drawn fully red')
    args = parser.parse_args(argv)

    model = init_rgbt_model(args.config, args.checkpoint, device=args.device)
    data = build_inputs(model.cfg, args.rgb, args.thermal, args.seed, args.homography)
    with torch.no_grad():
        result = model.test_step(pseudo_collate([data]))[0]
    kpts0, kpts1 = result.pred_kpts0.cpu().numpy(), result.pred_kpts1.cpu().numpy()
    H = result.gt_homography
    stats = evaluate_pair(kpts0, kpts1, H, result.img_shape, name=f'{args.rgb} | {args.thermal}')
    rgb, thermal = split_stack(data['inputs'])
    title = (f'{len(kpts0)} matches, precision@3px {100 * stats["precision@3px"]:.1f}%, '
             f'homography corner error {stats["corner_error"]:.2f} px')
    draw_matches(rgb, thermal, kpts0, kpts1, match_errors(kpts0, kpts1, H), args.out_file, args.max_error, title)
    print(f'{title}; drawn to {args.out_file}')
    return stats


if __name__ == '__main__':
    main()
