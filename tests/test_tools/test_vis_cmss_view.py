# Copyright (c) mmspecgene contributors. All rights reserved.
"""tools/analysis_tools/vis_cmss.py keeps the aspect of camera frames (short-side resize + centre crop) and says so
on the figure."""
import os.path as osp

import cv2
import numpy as np
import pytest

from mmspecgene.testing.scripts import load_script

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLI = osp.join(REPO, 'tools', 'analysis_tools', 'vis_cmss.py')
CFG = osp.join(REPO, 'configs', 'pretrain', 'specgene', 'specgene_vit-tiny-p16_1xb16-30e_synthetic.py')


@pytest.fixture(scope='module')
def vis_cmss():
    return load_script(CLI)


def _camera_pair(root):
    """The 640x512 (5:4) pretraining pair, thermal stored as a 3-channel grey JPEG."""
    name = osp.join('night', '000003.jpg')
    return osp.join(root, 'pretrain', 'visible', name), osp.join(root, 'pretrain', 'infrared', name)


def test_camera_frame_keeps_its_aspect(vis_cmss, camera_root):
    rgb_path, thermal_path = _camera_pair(camera_root)
    assert cv2.imread(thermal_path, cv2.IMREAD_UNCHANGED).shape == (512, 640, 3)
    pair = vis_cmss.load_pair(rgb_path, thermal_path, (96, 96))
    assert pair.shape == (96, 96, 6)
    # 512 -> 96 rows: scale 0.1875, 640 -> 120 columns, of which the central 96 (12 cut on each side)
    rgb = cv2.imread(rgb_path)
    expected = cv2.resize(rgb, (120, 96), interpolation=cv2.INTER_CUBIC)[:, 12:108]
    np.testing.assert_allclose(pair[..., :3].astype(int), expected.astype(int), atol=1)
    squashed = cv2.resize(rgb, (96, 96), interpolation=cv2.INTER_CUBIC)
    assert np.abs(pair[..., :3].astype(int) - squashed.astype(int)).mean() > 3 * np.abs(
        pair[..., :3].astype(int) - expected.astype(int)).mean() + 1


def test_view_is_stated(vis_cmss):
    assert vis_cmss.view_note((512, 640), (96, 96)) == \
        '640x512 frame: short side resized, centre crop 96x96 (aspect kept)'
    assert vis_cmss.view_note((128, 128), (96, 96)) == '128x128 frame resized to 96x96'
    portrait = vis_cmss.pretraining_view(np.zeros((200, 100, 6), np.uint8), (96, 96))
    assert portrait.shape == (96, 96, 6)


def test_cli_on_a_camera_frame(vis_cmss, camera_root, tmp_path, monkeypatch):
    titles = []
    monkeypatch.setattr(vis_cmss, 'plot', lambda out, out_file, title: titles.append(title))
    vis_cmss.main([*_camera_pair(camera_root), '--config', CFG, '--out-file', str(tmp_path / 'cmss.png')])
    assert titles and titles[0].endswith('640x512 frame: short side resized, centre crop 96x96 (aspect kept)')
