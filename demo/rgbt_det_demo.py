# Copyright (c) mmspecgene contributors. All rights reserved.
"""Detect on one RGB-thermal pair and draw the detections on RGB and thermal side by side.

Example:
    python demo/rgbt_det_demo.py rgb.jpg thermal.jpg CONFIG CKPT --out-file out.png
"""
from argparse import ArgumentParser

from mmengine.registry import VISUALIZERS

from mmspecgene.apis import inference_rgbt, init_rgbt_model
from mmspecgene.utils.checkpoint_loader import add_trust_checkpoint_code_argument
from mmspecgene.visualization import det_sample_for_canvas, read_rgbt_pair, side_by_side


def main():
    parser = ArgumentParser(description=__doc__)
    parser.add_argument('rgb', help='RGB image file')
    parser.add_argument('thermal', help='thermal image file')
    parser.add_argument('config', help='detection config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out-file', default='rgbt_det_result.png', help='output image')
    parser.add_argument('--device', default='cpu', help='device, e.g. cuda:0')
    parser.add_argument('--score-thr', type=float, default=0.3, help='bbox score threshold')
    add_trust_checkpoint_code_argument(parser)
    args = parser.parse_args()

    model = init_rgbt_model(args.config, args.checkpoint, device=args.device)
    result = inference_rgbt(model, args.rgb, args.thermal)
    visualizer = VISUALIZERS.build(model.cfg.visualizer)
    visualizer.dataset_meta = model.dataset_meta
    rgb, thermal = read_rgbt_pair(args.rgb, args.thermal)
    visualizer.add_datasample(
        'rgbt_det', side_by_side(rgb, thermal), data_sample=det_sample_for_canvas(result, rgb.shape[1]),
        draw_gt=False, show=False, pred_score_thr=args.score_thr, out_file=args.out_file)
    num = int((result.pred_instances.scores >= args.score_thr).sum())
    print(f'{num} detections with score >= {args.score_thr}; drawn to {args.out_file}')


if __name__ == '__main__':
    main()
