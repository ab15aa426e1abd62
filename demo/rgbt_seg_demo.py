# Copyright (c) mmspecgene contributors. All rights reserved.
"""Segment one RGB-thermal pair and write the pair with the coloured mask overlaid.

Example:
    python demo/rgbt_seg_demo.py rgb.jpg thermal.jpg CONFIG CKPT --out-file out.png
"""
from argparse import ArgumentParser

from mmengine.registry import VISUALIZERS

from mmspecgene.apis import inference_rgbt, init_rgbt_model
from mmspecgene.utils.checkpoint_loader import add_trust_checkpoint_code_argument
from mmspecgene.visualization import read_rgbt_pair, seg_sample_for_canvas, side_by_side


def main():
    parser = ArgumentParser(description=__doc__)
    parser.add_argument('rgb', help='RGB image file')
    parser.add_argument('thermal', help='thermal image file')
    parser.add_argument('config', help='segmentation or SOD config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out-file', default='rgbt_seg_result.png', help='output image')
    parser.add_argument('--device', default='cpu', help='device, e.g. cuda:0')
    parser.add_argument('--opacity', type=float, default=0.5, help='mask opacity in (0, 1]')
    add_trust_checkpoint_code_argument(parser)
    args = parser.parse_args()

    model = init_rgbt_model(args.config, args.checkpoint, device=args.device)
    result = inference_rgbt(model, args.rgb, args.thermal)
    visualizer = VISUALIZERS.build(dict(model.cfg.visualizer, alpha=args.opacity))
    visualizer.dataset_meta = model.dataset_meta
    rgb, thermal = read_rgbt_pair(args.rgb, args.thermal)
    visualizer.add_datasample(
        'rgbt_seg', side_by_side(rgb, thermal), data_sample=seg_sample_for_canvas(result), draw_gt=False,
        show=False, out_file=args.out_file)
    labels = result.pred_sem_seg.data.unique().tolist()
    names = [model.dataset_meta['classes'][i] for i in labels]
    print(f'classes present: {names}; drawn to {args.out_file}')


if __name__ == '__main__':
    main()
