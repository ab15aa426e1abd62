# Copyright (c) mmspecgene contributors. All rights reserved.
"""End-to-end CLI runs on the synthetic data: train, resume, load_from, test, demos, browse, 2-process gloo."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

from mmspecgene.testing.scripts import run_script

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DET_CFG = 'configs/det/vitdet/vitdet_mask-rcnn_rgbt-vit-tiny_1xb4-400i_synthetic.py'
SEG_CFG = 'configs/seg/upernet/upernet_rgbt-vit-tiny_1xb4-400i_synthetic.py'
PRE_CFG = 'configs/pretrain/specgene/specgene_vit-tiny-p16_1xb16-30e_synthetic.py'


def _run(args):
    return run_script(args, REPO, env=dict(OMP_NUM_THREADS='1'))


def _seg_options(root, iters):
    data = osp.join(root, 'seg') + '/'
    return ['--cfg-options', f'train_dataloader.dataset.data_root={data}', f'val_dataloader.dataset.data_root={data}',
            f'test_dataloader.dataset.data_root={data}', f'train_cfg.max_iters={iters}',
            f'train_cfg.val_interval={iters}', 'default_hooks.checkpoint.interval=1',
            'default_hooks.checkpoint.max_keep_ckpts=5', 'train_dataloader.batch_size=2',
            'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0', 'test_dataloader.num_workers=0']


def test_train_resume_load_from_and_test(tmp_path, synthetic_root):
    """Checkpoints that mmengine saved (HistoryBuffer, numpy) resume and load under torch>=2.6."""
    work = str(tmp_path / 'seg')
    _run(['tools/train.py', SEG_CFG, '--work-dir', work] + _seg_options(synthetic_root, 2))
    assert osp.exists(osp.join(work, 'iter_2.pth'))
    log = _run(['tools/train.py', SEG_CFG, '--work-dir', work, '--resume'] +
               _seg_options(synthetic_root, 3))
    assert 'resumed' in log.lower() and osp.exists(osp.join(work, 'iter_3.pth'))
    work2 = str(tmp_path / 'seg_load')
    _run(['tools/train.py', SEG_CFG, '--work-dir', work2] + _seg_options(synthetic_root, 1) +
         [f'load_from={osp.join(work, "iter_3.pth")}'])
    metrics = str(tmp_path / 'metrics.json')
    _run(['tools/test.py', SEG_CFG, osp.join(work, 'iter_3.pth'), '--work-dir', work,
          '--metrics-json', metrics, '--show-dir', 'vis'] + _seg_options(synthetic_root, 3))
    result = json.load(open(metrics))
    assert {'mIoU', 'aAcc', 'mAcc', 'mIoU_excl_bg'} <= set(result)
    assert glob.glob(osp.join(work, '**', 'vis', '**', '*.png'), recursive=True)


def test_det_train_test_and_demo(tmp_path, synthetic_root):
    data = osp.join(synthetic_root, 'det') + '/'
    work = str(tmp_path / 'det')
    opts = ['--cfg-options', f'train_dataloader.dataset.data_root={data}', f'val_dataloader.dataset.data_root={data}',
            f'test_dataloader.dataset.data_root={data}',
            f'val_evaluator.ann_file={data}annotations/synthetic_test.json',
            f'test_evaluator.ann_file={data}annotations/synthetic_test.json', 'train_cfg.max_iters=2',
            'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2', 'train_dataloader.batch_size=2',
            'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0', 'test_dataloader.num_workers=0']
    _run(['tools/train.py', DET_CFG, '--work-dir', work] + opts)
    ckpt = osp.join(work, 'iter_2.pth')
    metrics = str(tmp_path / 'det_metrics.json')
    _run(['tools/test.py', DET_CFG, ckpt, '--work-dir', work, '--metrics-json', metrics] + opts)
    assert 'coco/bbox_mAP' in json.load(open(metrics))
    rgb = sorted(glob.glob(osp.join(data, 'visible', 'test', '*.jpg')))[0]
    ir = rgb.replace(osp.join('det', 'visible'), osp.join('det', 'infrared'))
    out_file = str(tmp_path / 'demo.png')
    _run(['demo/rgbt_det_demo.py', rgb, ir, DET_CFG, ckpt, '--out-file', out_file,
          '--score-thr', '0.0'])
    import cv2
    drawn = cv2.imread(out_file)
    assert drawn is not None and drawn.shape[1] == 2 * cv2.imread(rgb).shape[1]  # RGB‖thermal
    out_dir = str(tmp_path / 'browse')
    _run(['tools/analysis_tools/browse_dataset.py', DET_CFG, '--output-dir', out_dir, '--num', '2',
          '--cfg-options', f'train_dataloader.dataset.data_root={data}'])
    assert len(glob.glob(osp.join(out_dir, '*'))) == 2


def test_seg_demo(tmp_path, synthetic_root):
    work = str(tmp_path / 'segdemo')
    _run(['tools/train.py', SEG_CFG, '--work-dir', work] + _seg_options(synthetic_root, 1))
    rgb = sorted(glob.glob(osp.join(synthetic_root, 'seg', 'visible', 'val', '*.png')))[0]
    ir = rgb.replace(osp.join('seg', 'visible'), osp.join('seg', 'infrared'))
    out_file = str(tmp_path / 'seg_demo.png')
    log = _run(['demo/rgbt_seg_demo.py', rgb, ir, SEG_CFG, osp.join(work, 'iter_1.pth'),
                '--out-file', out_file])
    assert osp.exists(out_file) and 'classes present' in log


def test_dist_train_two_processes_cpu(tmp_path, synthetic_root):
    """tools/dist_train.sh with 2 gloo processes on CPU completes a synthetic pretraining epoch."""
    work = str(tmp_path / 'dist')
    data = osp.join(synthetic_root, 'pretrain') + '/'
    env_python = dict(PYTHON=sys.executable, PORT=str(29500 + os.getpid() % 1000))
    proc = subprocess.run(
        ['bash', 'tools/dist_train.sh', PRE_CFG, '2', '--work-dir', work, '--cfg-options',
         f'train_dataloader.dataset.data_root={data}', 'train_cfg.max_epochs=1', 'train_dataloader.batch_size=8',
         'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
         'default_hooks.checkpoint.interval=1'],
        cwd=REPO, env=dict(os.environ, OMP_NUM_THREADS='1', **env_python), capture_output=True, text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert 'gloo' in proc.stdout + proc.stderr
    assert osp.exists(osp.join(work, 'epoch_1.pth'))
