# Copyright (c) mmspecgene contributors. All rights reserved.
"""The RGBT visualisation hooks keep one drawing per test frame when frame names repeat across folders
(KAIST ``setXX/V00Y/I#####.jpg``, MVSeg ``<seq>/<frame>``)."""
import glob
import os.path as osp
import types

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope


def _write_frames(root, folders, size=(512, 640)):
    rng = np.random.default_rng(0)
    pairs = []
    for folder in folders:
        paths = []
        for modality, shape in (('visible', (*size, 3)), ('lwir', size)):
            path = root / modality / folder / 'I00019.jpg'
            path.parent.mkdir(parents=True, exist_ok=True)
            assert cv2.imwrite(str(path), rng.integers(0, 255, shape, dtype=np.uint8))
            paths.append(str(path))
        pairs.append(tuple(paths))
    return pairs


def test_det_hook_test_drawings_of_same_named_frames(tmp_path):
    pytest.importorskip('mmdet')
    from mmdet.registry import HOOKS, VISUALIZERS
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData

    import mmspecgene.det  # noqa: F401
    init_default_scope('mmdet')
    pairs = _write_frames(tmp_path, ['set06/V000', 'set07/V001', 'set09/V000'])
    VISUALIZERS.build(dict(type='DetLocalVisualizer', name='det_hook_names', save_dir=str(tmp_path / 'work')))
    hook = HOOKS.build(dict(type='RGBTDetVisualizationHook', draw=True, test_out_dir='vis'))
    hook._visualizer.dataset_meta = dict(classes=('person', ), palette=[(220, 20, 60)])
    samples = []
    for rgb, thermal in pairs:
        sample = DetDataSample(metainfo=dict(img_path=rgb, ir_path=thermal, ori_shape=(512, 640),
                                             img_shape=(512, 640)))
        sample.pred_instances = InstanceData(bboxes=torch.tensor([[10., 10, 50, 100]]), scores=torch.tensor([0.9]),
                                             labels=torch.tensor([0]))
        samples.append(sample)
    runner = types.SimpleNamespace(work_dir=str(tmp_path / 'work'), timestamp='ts')
    hook.after_test_iter(runner, 0, {}, samples[:2])
    hook.after_test_iter(runner, 1, {}, samples[2:])
    drawn = sorted(osp.basename(p) for p in glob.glob(str(tmp_path / 'work' / 'ts' / 'vis' / '*')))
    assert drawn == ['00001_I00019.jpg', '00002_I00019.jpg', '00003_I00019.jpg']
    assert cv2.imread(str(tmp_path / 'work' / 'ts' / 'vis' / drawn[0])).shape[0] == 512


def test_seg_hook_test_drawings_of_same_named_frames(tmp_path):
    pytest.importorskip('mmseg')
    from mmengine.structures import PixelData
    from mmseg.registry import HOOKS, VISUALIZERS
    from mmseg.structures import SegDataSample

    import mmspecgene.seg  # noqa: F401
    init_default_scope('mmseg')
    pairs = _write_frames(tmp_path, ['test/seqA', 'test/seqB'], size=(64, 80))
    VISUALIZERS.build(dict(type='SegLocalVisualizer', vis_backends=[dict(type='LocalVisBackend')],
                           name='seg_hook_names', save_dir=str(tmp_path / 'work')))
    hook = HOOKS.build(dict(type='RGBTSegVisualizationHook', draw=True, interval=1))
    hook._visualizer.dataset_meta = dict(classes=('a', 'b'), palette=[(0, 0, 0), (255, 0, 0)])
    samples = []
    for rgb, thermal in pairs:
        sample = SegDataSample(metainfo=dict(img_path=rgb, ir_path=thermal, ori_shape=(64, 80)))
        sample.pred_sem_seg = PixelData(data=torch.zeros(1, 64, 80, dtype=torch.long))
        samples.append(sample)
    hook.after_test_iter(types.SimpleNamespace(iter=0), 0, {}, samples)
    drawn = glob.glob(str(tmp_path / 'work' / '**' / '*.png'), recursive=True)
    assert sorted(osp.basename(p) for p in drawn) == ['test_I00019.jpg_1.png', 'test_I00019.jpg_2.png']
