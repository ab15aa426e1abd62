# Copyright (c) mmspecgene contributors. All rights reserved.
"""Synthetic camera frames: real camera sizes, 3-channel grey thermal, a pretraining pair of different native
resolutions."""
import glob
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from mmspecgene.datasets.synthetic import make_det
from mmspecgene.datasets.transforms import LoadRGBTImagePair


def _shape(path):
    return cv2.imread(path, cv2.IMREAD_UNCHANGED).shape


@pytest.mark.parametrize('task, ext', [('det', 'jpg'), ('seg', 'png'), ('sod/synthetic', 'png')])
def test_camera_sizes_and_3_channel_grey_thermal(camera_root, task, ext):
    sizes = {}
    for rgb in sorted(glob.glob(osp.join(camera_root, task, 'visible', '*', f'*.{ext}'))):
        thermal = rgb.replace(osp.join(task, 'visible'), osp.join(task, 'infrared'))
        assert _shape(rgb) == _shape(thermal) and _shape(thermal)[2] == 3
        grey = cv2.imread(thermal, cv2.IMREAD_UNCHANGED).astype(int)
        assert np.abs(grey - grey[..., :1]).max() <= 3  # equal channels (JPEG rounding aside)
        sizes[osp.relpath(rgb, osp.join(camera_root, task, 'visible'))] = _shape(rgb)[:2]
    # 1 train + 2 test/val images, the last two of each split at camera sizes
    assert sorted(sizes.values()) == [(512, 640), (1024, 1280), (1024, 1280)]
    if task == 'det':
        ann = json.load(open(osp.join(camera_root, 'det', 'annotations', 'synthetic_test.json')))
        assert [(img['height'], img['width']) for img in ann['images']] == [(1024, 1280), (512, 640)]
        assert max(a['bbox'][0] + a['bbox'][2] for a in ann['annotations']) > 160  # objects scale with the frame


def test_pretraining_pair_of_different_native_resolutions(camera_root):
    root = osp.join(camera_root, 'pretrain')
    lines = open(osp.join(root, 'annotations', 'pairs_train.txt')).read().split()
    shapes = [(_shape(osp.join(root, 'visible', rel)), _shape(osp.join(root, 'infrared', rel))) for rel in lines[::2]]
    assert shapes == [((128, 128, 3), (128, 128)), ((1024, 1280, 3), (512, 640, 3)), ((512, 640, 3), (512, 640, 3))]
    pair = dict(img_path=osp.join(root, 'visible', lines[2]), ir_path=osp.join(root, 'infrared', lines[2]))
    with pytest.raises(ValueError, match='size mismatch'):
        LoadRGBTImagePair().transform(dict(pair))
    assert LoadRGBTImagePair(size_mismatch='resize_thermal').transform(dict(pair))['img'].shape == (1024, 1280, 6)


def test_camera_frames_is_checked(tmp_path):
    with pytest.raises(ValueError, match='camera_frames'):
        make_det(str(tmp_path), 1, 1, camera_frames=-1)
