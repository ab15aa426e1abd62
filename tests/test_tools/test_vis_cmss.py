# Copyright (c) mmspecgene contributors. All rights reserved.
"""tools/analysis_tools/vis_cmss.py: the figure, the masks it shows, the checkpoint it loads, and the aspect of camera
frames (short-side resize + centre crop, stated on the figure)."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from mmspecgene.testing.scripts import load_script

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLI = osp.join(REPO, 'tools', 'analysis_tools', 'vis_cmss.py')
CFG = osp.join(REPO, 'configs', 'pretrain', 'specgene', 'specgene_vit-tiny-p16_1xb16-30e_synthetic.py')


@pytest.fixture(scope='module')
def vis_cmss():
    return load_script(CLI)


def _pair(root):
    name = osp.join('day', '000001.jpg')
    return osp.join(root, 'pretrain', 'visible', name), osp.join(root, 'pretrain', 'infrared', name)


def test_masks_and_reconstruction_of_one_pair(vis_cmss, synthetic_root):
    torch.manual_seed(0)
    model = vis_cmss.build_model(CFG, None, 'cpu')
    pair = vis_cmss.load_pair(*_pair(synthetic_root), model.backbone.img_size)
    assert pair.shape == (96, 96, 6) and pair.dtype == np.uint8
    out = vis_cmss.run(model, pair, with_recon=True)
    assert out['cmss'].shape == (6, 6) and 0 < out['cmss'].min() and out['cmss'].max() <= 1 + 1e-6
    masker = model.backbone.masker
    visible = {}
    for modality in ('rgb', 'thermal'):
        mask = out[f'{modality}_mask']
        assert mask.shape == (96, 96)
        visible[modality] = mask == 0
        # each visible 16 x 16 patch counts once: the kept tokens of this modality's budget
        assert int(visible[modality].sum()) == masker.keep_counts[modality] * 16 * 16
        # the reconstruction shows the input itself on the visible patches
        assert out[f'{modality}_recon'].shape == out[modality].shape == (96, 96, 3)
        np.testing.assert_allclose(out[f'{modality}_recon'][visible[modality]].astype(int),
                                   out[modality][visible[modality]].astype(int), atol=1)
    assert not (visible['rgb'] & visible['thermal']).any()  # disjoint visible sets


def test_cli_writes_the_figure_with_and_without_checkpoint(vis_cmss, synthetic_root, tmp_path, capsys):
    rgb, thermal = _pair(synthetic_root)
    no_ckpt = str(tmp_path / 'no_ckpt.png')
    vis_cmss.main([rgb, thermal, '--config', CFG, '--out-file', no_ckpt])
    # pair, CMSS and both visible sets: one row of five panels
    assert cv2.imread(no_ckpt).shape == (340, 1600, 3)

    torch.manual_seed(1)
    model = vis_cmss.build_model(CFG, None, 'cpu')
    ckpt = str(tmp_path / 'pretrain.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), ckpt)
    with_ckpt = str(tmp_path / 'sub' / 'with_ckpt.png')
    vis_cmss.main([rgb, thermal, '--config', CFG, '--checkpoint', ckpt, '--out-file', with_ckpt])
    # plus both reconstructions: two rows of four panels
    assert cv2.imread(with_ckpt).shape == (680, 1280, 3)
    assert f'wrote {with_ckpt}' in capsys.readouterr().out


def test_cli_rejects_a_non_pretraining_checkpoint(vis_cmss, tmp_path):
    ckpt = str(tmp_path / 'det.pth')
    torch.save(dict(state_dict={'roi_head.bbox_head.fc_cls.weight': torch.zeros(2, 4)}), ckpt)
    with pytest.raises(ValueError, match=r"det\.pth: expected a pretraining checkpoint.*'det-finetuned'"):
        vis_cmss.build_model(CFG, ckpt, 'cpu')


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
