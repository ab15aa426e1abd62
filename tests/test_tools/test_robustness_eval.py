# Copyright (c) mmspecgene contributors. All rights reserved.
"""robustness_eval.py (and tools/test.py --missing-modality) on the synthetic configs.

Default: a state_dict-only checkpoint of the tiny seg model through all three conditions. Slow (``--runslow``):
the synthetic det and seg configs trained with and without modality dropout; the dropout-trained models lose
clearly less when a modality is missing (the table of docs/en/robustness.md).
"""
import json
import os
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmspecgene.testing.scripts import load_script, run_script
from mmspecgene.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = 'tools/analysis_tools/robustness_eval.py'
CONFIGS = dict(
    det=('configs/det/vitdet/vitdet_mask-rcnn_rgbt-vit-tiny_1xb4-400i_synthetic.py',
         'configs/det/vitdet/vitdet_mask-rcnn_rgbt-vit-tiny-modality-dropout_1xb4-400i_synthetic.py'),
    seg=('configs/seg/upernet/upernet_rgbt-vit-tiny_1xb4-400i_synthetic.py',
         'configs/seg/upernet/upernet_rgbt-vit-tiny-modality-dropout_1xb4-400i_synthetic.py'))
METRIC = {'det': 'coco/bbox_mAP', 'seg': 'mIoU'}
# Schedules of the comparison: seg as shipped (400 iterations); det on half its schedule (200 iterations, LR step
# at 150) to keep the four CPU trainings affordable. docs/en/robustness.md reports runs of these commands.
SCHEDULES = dict(
    seg=(400, []),
    det=(200, ['train_cfg.max_iters=200', 'train_cfg.val_interval=200', 'default_hooks.checkpoint.interval=200',
               'param_scheduler.1.end=200', 'param_scheduler.1.milestones=[150]']))
# "Clearly less": with its worse modality missing, the dropout-trained model loses at most this fraction of what
# the model trained on complete pairs loses with its worse modality missing. (Worst case, not the mean: the
# complete-pair det model gains without the noisy RGB half, which would reward a model for ignoring RGB.)
MAX_LOSS_RATIO = 0.75


def _data_options(task, root):
    data = osp.join(root, task) + '/'
    opts = [f'{split}_dataloader.dataset.data_root={data}' for split in ('train', 'val', 'test')]
    if task == 'det':
        ann = f'{data}annotations/synthetic_test.json'
        opts += [f'val_evaluator.ann_file={ann}', f'test_evaluator.ann_file={ann}']
    return opts


def test_robustness_eval_state_dict_checkpoint(tmp_path, synthetic_root):
    """Three tools/test.py runs, one table, the json; the checkpoint holds nothing but the weights."""
    register_all_modules('seg')
    from mmseg.registry import MODELS
    cfg = Config.fromfile(osp.join(REPO, CONFIGS['seg'][0]))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    ckpt = str(tmp_path / 'weights.pth')
    torch.save(model.state_dict(), ckpt)
    out_json = str(tmp_path / 'robustness.json')
    opts = _data_options('seg', synthetic_root) + ['test_dataloader.num_workers=0']
    log = run_script([TOOL, CONFIGS['seg'][0], ckpt, '--work-dir', str(tmp_path / 'work'), '--fill', 'noise',
                      '--out-json', out_json, '--cfg-options'] + opts, REPO, env=dict(OMP_NUM_THREADS='1'))
    summary = json.load(open(out_json))
    assert summary['metric'] == 'mIoU' and summary['fill'] == 'noise'
    assert list(summary['results']) == ['none', 'rgb', 'thermal']
    for metrics in summary['results'].values():
        assert {'mIoU', 'aAcc'} <= set(metrics)
    for name in ('RGB + thermal', 'RGB missing', 'thermal missing'):
        assert name in log
    assert "filled by 'noise'" in log
    # the drop really ran in the test pipelines of the two conditions (and only there)
    dumped = {c: open(osp.join(tmp_path, 'work', c, osp.basename(CONFIGS['seg'][0]))).read()
              for c in ('none', 'rgb', 'thermal')}
    assert 'NoiseFillModalityDropout' not in dumped['none']
    assert "modality='rgb'" in dumped['rgb'] and "modality='thermal'" in dumped['thermal']


def test_headline_metric_and_table():
    tool = load_script(osp.join(REPO, TOOL), 'robustness_eval_tool')
    assert tool.headline_metric({'coco/bbox_mAP_50': 0.9, 'coco/bbox_mAP': 0.5}) == 'coco/bbox_mAP'
    assert tool.headline_metric({'sod/vt821/MAE': 0.1, 'sod/vt821/S': 0.8}) == 'sod/vt821/S'
    kaist = {'coco/bbox_mAP': 0.4, 'kaist/MR_all_all': 30.0, 'kaist/MR_far_all': 60.0,
             'kaist/MR_reasonable_all': 10.0, 'kaist/MR_reasonable_night': 8.0}
    assert tool.headline_metric(kaist) == 'kaist/MR_reasonable_all'
    with pytest.raises(KeyError, match='mAcc'):
        tool.headline_metric({'mIoU': 1.0}, 'mAcc')
    table = tool.format_table({'none': {'mIoU': 80.0}, 'rgb': {'mIoU': 60.5}, 'thermal': {'mIoU': 70.25}}, 'mIoU',
                              'mean')
    assert '-19.500' in table and '-9.750' in table and 'thermal missing' in table


@pytest.mark.slow
def test_modality_dropout_makes_models_robust(tmp_path, synthetic_root):
    """Train each task with and without modality dropout, evaluate both under none / RGB / thermal missing."""
    table = {}
    for task, (base_cfg, drop_cfg) in sorted(CONFIGS.items(), reverse=True):  # seg first: it is faster
        iters, schedule = SCHEDULES[task]
        opts = _data_options(task, synthetic_root) + schedule
        for name, cfg in (('complete pairs', base_cfg), ('modality dropout', drop_cfg)):
            work = str(tmp_path / task / name.replace(' ', '_'))
            run_script(['tools/train.py', cfg, '--work-dir', work, '--cfg-options'] + opts, REPO)
            out_json = osp.join(work, 'robustness.json')
            run_script([TOOL, cfg, osp.join(work, f'iter_{iters}.pth'), '--work-dir', osp.join(work, 'robustness'),
                        '--out-json', out_json, '--cfg-options'] + opts, REPO)
            summary = json.load(open(out_json))
            assert summary['metric'] == METRIC[task]
            table[(task, name)] = {c: m[METRIC[task]] for c, m in summary['results'].items()}
    lines = [f'{"task":<5}{"trained on":<18}{"RGB + thermal":>15}{"RGB missing":>13}{"thermal missing":>17}']
    for (task, name), row in table.items():
        lines.append(f'{task:<5}{name:<18}{row["none"]:>15.3f}{row["rgb"]:>13.3f}{row["thermal"]:>17.3f}')
    print('\n' + '\n'.join(lines))
    if os.environ.get('MMSPECGENE_ROBUSTNESS_TABLE'):
        with open(os.environ['MMSPECGENE_ROBUSTNESS_TABLE'], 'w') as f:
            json.dump({f'{task}/{name}': row for (task, name), row in table.items()}, f, indent=2)
    for task in CONFIGS:
        base, drop = table[(task, 'complete pairs')], table[(task, 'modality dropout')]
        base_loss = {m: base['none'] - base[m] for m in ('rgb', 'thermal')}
        drop_loss = {m: drop['none'] - drop[m] for m in ('rgb', 'thermal')}
        assert max(drop_loss.values()) < MAX_LOSS_RATIO * max(base_loss.values()), (task, base, drop)
        assert min(drop['rgb'], drop['thermal']) > min(base['rgb'], base['thermal']), (task, base, drop)
