# Copyright (c) mmspecgene contributors. All rights reserved.
"""The figures step of ``make demo`` (tools/misc/run_synthetic_pipeline.py): which pairs, which files, their sizes."""
import os.path as osp

import cv2
import pytest

from mmspecgene.testing.scripts import load_script, run_script

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PIPELINE = osp.join(REPO, 'tools', 'misc', 'run_synthetic_pipeline.py')


@pytest.fixture(scope='module')
def pipeline():
    return load_script(PIPELINE, 'run_synthetic_pipeline_tool')


def test_test_pairs(pipeline, synthetic_root):
    det = pipeline.test_pairs(synthetic_root, 'det', 3)
    assert len(det) == 3 and det == sorted(det)
    for rgb, thermal in det + pipeline.test_pairs(synthetic_root, 'seg', 2):
        assert osp.isfile(rgb) and osp.isfile(thermal)
        assert osp.splitext(osp.basename(rgb))[0] == osp.splitext(osp.basename(thermal))[0]
        assert '/visible/' in rgb and '/infrared/' in thermal
    (rgb, thermal), = pipeline.test_pairs(synthetic_root, 'pretrain', 1)
    assert osp.dirname(rgb).replace('visible', 'infrared') == osp.dirname(thermal)
    with pytest.raises(FileNotFoundError, match='no det test images'):
        pipeline.test_pairs(osp.join(synthetic_root, 'nowhere'), 'det', 1)


@pytest.mark.slow
def test_draw_figures(pipeline, synthetic_root, tmp_path):
    """Short trainings give the checkpoints; every figure is written, readable and RGB‖thermal wide."""
    env = dict(OMP_NUM_THREADS='1')
    pre_work, det_work, seg_work = (str(tmp_path / name) for name in ('pretrain', 'det', 'seg'))
    run_script(['tools/train.py', pipeline.CONFIGS['pretrain'], '--work-dir', pre_work, '--cfg-options',
                f'train_dataloader.dataset.data_root={osp.join(synthetic_root, "pretrain")}/',
                'train_cfg.max_epochs=1'], REPO, env)
    finetuned = {}
    for task, work in (('det', det_work), ('seg', seg_work)):
        data = osp.join(synthetic_root, task) + '/'
        run_script(['tools/train.py', pipeline.CONFIGS[task], '--work-dir', work, '--cfg-options',
                    f'train_dataloader.dataset.data_root={data}', 'train_cfg.max_iters=1', 'train_cfg.val_interval=1',
                    'default_hooks.checkpoint.interval=1', 'train_dataloader.num_workers=0',
                    'val_dataloader.num_workers=0', 'val_dataloader.dataset.data_root=' + data] +
                   ([f'val_evaluator.ann_file={data}annotations/synthetic_test.json'] if task == 'det' else []),
                   REPO, env)
        finetuned[task] = (pipeline.CONFIGS[task], osp.join(work, 'iter_1.pth'))
    figures = pipeline.draw_figures(str(tmp_path / 'demo'), synthetic_root, osp.join(pre_work, 'epoch_1.pth'),
                                    finetuned, num_pairs=2)
    names = [osp.basename(f) for f in figures]
    assert names[0] == 'cmss_pretrained.png' and len(figures) == 5
    assert cv2.imread(figures[0]) is not None
    for task in ('det', 'seg'):
        drawn = [f for f in figures if osp.basename(f).startswith(task + '_')]
        for (rgb, _), path in zip(pipeline.test_pairs(synthetic_root, task, 2), drawn):
            image, source = cv2.imread(path), cv2.imread(rgb)
            assert image is not None and image.shape[:2] == (source.shape[0], 2 * source.shape[1]), path
