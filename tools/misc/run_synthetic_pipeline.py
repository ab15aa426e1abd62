# Copyright (c) mmspecgene contributors. All rights reserved.
"""The main job on the embedded synthetic default, end to end, through the project's own CLIs:

1. generate synthetic RGBT datasets (pretrain, det, seg, sod);
2. pretrain a tiny M-SpecGene (GMM-CMSS masking) on the pairs;
3. convert the checkpoint to the detection and segmentation backbone inits;
4. fine-tune and evaluate RGBT ViTDet (bbox mAP) and RGBT UperNet (mIoU) from it (and SOD with --with-sod);
5. draw figures under WORK_DIR/figures: the CMSS / masks / reconstructions of the pretrained model
   (tools/analysis_tools/vis_cmss.py), RGB‖thermal detections and segmentation overlays of a few test pairs
   (demo/rgbt_det_demo.py, demo/rgbt_seg_demo.py);
6. print the metrics and the figure paths.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time
from glob import glob

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = dict(
    pretrain='configs/pretrain/specgene/specgene_vit-tiny-p16_1xb16-30e_synthetic.py',
    det='configs/det/vitdet/vitdet_mask-rcnn_rgbt-vit-tiny_1xb4-400i_synthetic.py',
    seg='configs/seg/upernet/upernet_rgbt-vit-tiny_1xb4-400i_synthetic.py',
    sod='configs/sod/upernet/upernet-sod_rgbt-vit-tiny_1xb4-300i_synthetic.py',
)
INIT_FORMAT = dict(det='det-init', seg='seg-init', sod='seg-init')


def run(step: str, args: list) -> None:
    """Run a project CLI with this interpreter; stop with its exit code on failure."""
    start = time.time()
    print(f'\n=== {step}: {" ".join(args)}', flush=True)
    proc = subprocess.run([sys.executable] + args, cwd=REPO)
    if proc.returncode:
        raise SystemExit(f'step "{step}" failed with exit code {proc.returncode}')
    print(f'=== {step} done in {time.time() - start:.0f} s', flush=True)


def latest(pattern: str) -> str:
    files = sorted(glob(pattern), key=osp.getmtime)
    if not files:
        raise FileNotFoundError(f'nothing matches {pattern}')
    return files[-1]


def pretrain_losses(work_dir: str) -> tuple:
    """(first, last) logged total loss of the pretraining run."""
    scalars = latest(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
    with open(scalars) as f:
        losses = [json.loads(line)['loss'] for line in f if '"loss"' in line]
    return losses[0], losses[-1]


def write_finetune_config(task: str, work_dir: str, init_ckpt: str, data_root: str) -> str:
    """A child config of the synthetic config that initialises the backbone from ``init_ckpt``."""
    # kept outside the task's work dir: the runner dumps its expanded config there under the same name
    cfg_dir = osp.join(osp.dirname(work_dir), 'configs')
    os.makedirs(cfg_dir, exist_ok=True)
    path = osp.join(cfg_dir, f'{task}_from_pretrain.py')
    base = osp.join(REPO, CONFIGS[task])
    root_key = dict(det='det/', seg='seg/', sod='sod/synthetic/')[task]
    with open(path, 'w') as f:
        f.write(f'_base_ = [{base!r}]\n'
                f'data_root = {osp.join(data_root, root_key)!r}\n'
                f'model = dict(backbone=dict(init_cfg=dict(type="Pretrained", checkpoint={init_ckpt!r}, '
                f'src_format="auto")))\n'
                f'train_dataloader = dict(dataset=dict(data_root=data_root))\n'
                f'val_dataloader = dict(dataset=dict(data_root=data_root))\n'
                f'test_dataloader = val_dataloader\n')
        if task == 'det':
            f.write("val_evaluator = dict(ann_file=data_root + 'annotations/synthetic_test.json')\n"
                    'test_evaluator = val_evaluator\n')
    return path


def test_pairs(data_root: str, task: str, num: int) -> list:
    """The first ``num`` (rgb, thermal) test pairs of a synthetic task, in file name order."""
    sub, split = dict(det=('det', 'test'), seg=('seg', 'val'), pretrain=('pretrain', '*'))[task]
    rgbs = sorted(glob(osp.join(data_root, sub, 'visible', split, '*.*')))[:num]
    if not rgbs:
        raise FileNotFoundError(f'no {task} test images under {osp.join(data_root, sub, "visible", split)}')
    pairs = []
    for rgb in rgbs:
        stem = osp.join(osp.dirname(rgb).replace(osp.join(sub, 'visible'), osp.join(sub, 'infrared')),
                        osp.splitext(osp.basename(rgb))[0])
        thermal = glob(stem + '.*')
        if len(thermal) != 1:
            raise FileNotFoundError(f'expected one thermal partner {stem}.* of {rgb}, found {thermal}')
        pairs.append((rgb, thermal[0]))
    return pairs


def draw_figures(work_dir: str, data_root: str, pre_ckpt: str, finetuned: dict, num_pairs: int = 3) -> list:
    """CMSS figure of the pretrained model, det drawings and seg overlays of a few test pairs; returns paths."""
    fig_dir = osp.join(work_dir, 'figures')
    os.makedirs(fig_dir, exist_ok=True)
    figures = []
    rgb, thermal = test_pairs(data_root, 'pretrain', 1)[0]
    out = osp.join(fig_dir, 'cmss_pretrained.png')
    run('figure: CMSS, masks and reconstructions', [
        'tools/analysis_tools/vis_cmss.py', rgb, thermal, '--config', CONFIGS['pretrain'], '--checkpoint', pre_ckpt,
        '--out-file', out
    ])
    figures.append(out)
    demos = dict(det='demo/rgbt_det_demo.py', seg='demo/rgbt_seg_demo.py')
    for task, (cfg, ckpt) in finetuned.items():
        if task not in demos:
            continue
        for rgb, thermal in test_pairs(data_root, task, num_pairs):
            out = osp.join(fig_dir, f'{task}_{osp.splitext(osp.basename(rgb))[0]}.png')
            run(f'figure: {task} on {osp.basename(rgb)}',
                [demos[task], rgb, thermal, cfg, ckpt, '--out-file', out])
            figures.append(out)
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--work-dir', default='work_dirs/synthetic_demo')
    parser.add_argument('--data-root', default='data/synthetic', help='where the synthetic datasets go')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--with-sod', action='store_true', help='also fine-tune and evaluate the SOD model')
    args = parser.parse_args()
    work_dir = osp.abspath(osp.join(REPO, args.work_dir))
    data_root = osp.abspath(osp.join(REPO, args.data_root))
    os.makedirs(work_dir, exist_ok=True)
    start = time.time()

    run('synthetic data', ['tools/misc/make_synthetic_rgbt.py', '--out', data_root, '--task', 'all', '--seed',
                           str(args.seed), '--overwrite'])
    pre_dir = osp.join(work_dir, 'pretrain')
    run('pretrain', [
        'tools/train.py', CONFIGS['pretrain'], '--work-dir', pre_dir, '--cfg-options',
        f'train_dataloader.dataset.data_root={osp.join(data_root, "pretrain")}/', f'randomness.seed={args.seed}'
    ])
    pre_ckpt = latest(osp.join(pre_dir, 'epoch_*.pth'))
    tasks = ['det', 'seg'] + (['sod'] if args.with_sod else [])
    metrics, finetuned = {}, {}
    for task in tasks:
        init_ckpt = osp.join(pre_dir, f'{INIT_FORMAT[task]}.pth')
        if task != 'sod':  # sod reuses the seg-init written for seg
            run(f'convert to {INIT_FORMAT[task]}', [
                'tools/model_converters/specgene_convert.py', pre_ckpt, init_ckpt, '--dst-format', INIT_FORMAT[task]
            ])
        task_dir = osp.join(work_dir, task)
        os.makedirs(task_dir, exist_ok=True)
        cfg = write_finetune_config(task, task_dir, init_ckpt, data_root)
        run(f'fine-tune {task}', ['tools/train.py', cfg, '--work-dir', task_dir])
        ckpt = latest(osp.join(task_dir, 'iter_*.pth'))
        out_json = osp.join(task_dir, 'test_metrics.json')
        run(f'evaluate {task}', ['tools/test.py', cfg, ckpt, '--work-dir', task_dir, '--metrics-json', out_json])
        with open(out_json) as f:
            metrics[task] = json.load(f)
        finetuned[task] = (cfg, ckpt)
    figures = draw_figures(work_dir, data_root, pre_ckpt, finetuned)

    first, last = pretrain_losses(pre_dir)
    print('\n================ mmspecgene synthetic pipeline ================')
    print(f'pretrain  loss (rgb + thermal): first {first:.4f} -> last {last:.4f}  ({pre_ckpt})')
    if 'det' in metrics:
        m = metrics['det']
        print(f"det       bbox mAP {m.get('coco/bbox_mAP', float('nan')):.3f}  "
              f"mAP50 {m.get('coco/bbox_mAP_50', float('nan')):.3f}")
    if 'seg' in metrics:
        m = metrics['seg']
        print(f"seg       mIoU {m.get('mIoU', float('nan')):.2f}  aAcc {m.get('aAcc', float('nan')):.2f}  "
              f"mIoU_excl_bg {m.get('mIoU_excl_bg', float('nan')):.2f}")
    if 'sod' in metrics:
        m = metrics['sod']
        print(f"sod       S {m.get('sod/synthetic/S', float('nan')):.3f}  "
              f"MAE {m.get('sod/synthetic/MAE', float('nan')):.3f}")
    print('figures:')
    for path in figures:
        print(f'  {path}')
    print(f'total time {time.time() - start:.0f} s; all outputs under {work_dir}')
    with open(osp.join(work_dir, 'summary.json'), 'w') as f:
        json.dump(dict(pretrain_loss=[first, last], figures=figures, **metrics), f, indent=2)


if __name__ == '__main__':
    main()
