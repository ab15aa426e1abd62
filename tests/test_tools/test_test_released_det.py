# Copyright (c) mmspecgene contributors. All rights reserved.
"""``tools/test.py CONFIG CKPT`` with the KAIST ViT-B config and a checkpoint in the released fine-tuned layout
(docs/en/method.md#checkpoint-layouts, random tensors) on the synthetic detection set.

The config stays the repository's; a two-line child config only swaps the KAISTMissRateMetric for a COCO
metric on the synthetic json (an evaluator cannot be replaced through ``--cfg-options``). Data root,
annotation file, image size (pipeline and batch pad; the model keeps its 960 build), workers and the number
of images are set through ``--cfg-options``.
"""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

pytest.importorskip('mmdet', reason='mmdet is not installed')

from mmengine.config import Config  # noqa: E402

from mmspecgene.testing.checkpoint_layouts import det_finetuned_checkpoint  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
KAIST_CFG = osp.join(REPO, 'configs', 'det', 'vitdet', 'vitdet_mask-rcnn_rgbt-vit-b-specgene_lsj-2xb1-25000i_kaist.py')
SMALL_SIZE = 192
MISMATCH_WARNINGS = ('do not match exactly', 'missing keys in source state_dict', 'unexpected key in source')


def _person_only_json(src, dst):
    """The synthetic det test json restricted to KAIST's single class ``person``."""
    with open(src) as f:
        data = json.load(f)
    person_ids = {c['id'] for c in data['categories'] if c['name'] == 'person'}
    data['categories'] = [dict(id=1, name='person')]
    data['annotations'] = [dict(a, category_id=1) for a in data['annotations'] if a['category_id'] in person_ids]
    with open(dst, 'w') as f:
        json.dump(data, f)
    return dst


@pytest.fixture(scope='module')
def kaist_setup(synthetic_root, tmp_path_factory):
    """(child config, cfg-options, released-layout KAIST checkpoint, its state_dict, work root)."""
    root = tmp_path_factory.mktemp('released_kaist')
    det_root = osp.join(synthetic_root, 'det') + '/'
    ann_file = _person_only_json(osp.join(det_root, 'annotations', 'synthetic_test.json'), str(root / 'person.json'))
    child = str(root / 'kaist_synthetic_eval.py')
    metric = f"dict(_delete_=True, type='CocoMetric', ann_file={ann_file!r}, metric='bbox', format_only=False)"
    with open(child, 'w') as f:
        f.write(f'_base_ = [{KAIST_CFG!r}]\nval_evaluator = {metric}\ntest_evaluator = {metric}\n')

    cfg = Config.fromfile(KAIST_CFG)
    steps = [s['type'] for s in cfg.test_dataloader.dataset.pipeline]
    pads = [i for i, a in enumerate(cfg.model.data_preprocessor.batch_augments) if a['type'] == 'BatchFixedSizePad']
    size = f'({SMALL_SIZE},{SMALL_SIZE})'
    options = [
        f'test_dataloader.dataset.data_root={det_root}', f'test_dataloader.dataset.ann_file={ann_file}',
        'test_dataloader.dataset.indices=4', 'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        f'test_dataloader.dataset.pipeline.{steps.index("Resize")}.scale={size}',
        f'test_dataloader.dataset.pipeline.{steps.index("RGBTPad")}.size={size}',
        f'model.data_preprocessor.batch_augments.{pads[0]}.size={size}', 'model.test_cfg.rpn.nms_pre=300',
        'model.test_cfg.rpn.max_per_img=100', 'env_cfg.dist_cfg.backend=gloo'
    ]
    ckpt = det_finetuned_checkpoint(num_classes=1, seed=3)
    ckpt_file = str(root / 'kaist_released_layout.pth')
    torch.save(ckpt, ckpt_file)
    return child, options, ckpt_file, ckpt['state_dict'], root


def _run_test_tool(config, ckpt_file, options, work_dir, metrics_json):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (REPO, os.environ.get('PYTHONPATH')) if p),
               OMP_NUM_THREADS='2')
    args = [sys.executable, 'tools/test.py', config, ckpt_file, '--work-dir', str(work_dir), '--metrics-json',
            str(metrics_json), '--cfg-options'] + options
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True)


def test_tools_test_released_kaist_layout(kaist_setup):
    child, options, ckpt_file, _, root = kaist_setup
    metrics_json = root / 'metrics.json'
    proc = _run_test_tool(child, ckpt_file, options, root / 'work', metrics_json)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f'tools/test.py failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}'
    metrics = json.load(open(metrics_json))
    assert 'coco/bbox_mAP' in metrics, metrics
    assert not [w for w in MISMATCH_WARNINGS if w in log], log[-3000:]


def test_tools_test_rejects_checkpoint_with_a_missing_key(kaist_setup):
    """docs/en/method.md#checkpoint-layouts: the fine-tuned ``load_from`` of tools/test.py is strict and names the
    dropped key."""
    child, options, _, state, root = kaist_setup
    removed = 'roi_head.bbox_head.fc_cls.weight'
    broken_file = str(root / 'kaist_missing_key.pth')
    torch.save(dict(meta=dict(), state_dict={k: v for k, v in state.items() if k != removed}), broken_file)
    options = [o if not o.startswith('test_dataloader.dataset.indices=') else 'test_dataloader.dataset.indices=1'
               for o in options]
    proc = _run_test_tool(child, broken_file, options, root / 'work_broken', root / 'metrics_broken.json')
    assert proc.returncode != 0, ('tools/test.py accepted a fine-tuned checkpoint without '
                                  f'{removed} (non-strict load_from):\n{(proc.stdout + proc.stderr)[-3000:]}')
    assert removed in proc.stderr, proc.stderr[-3000:]
