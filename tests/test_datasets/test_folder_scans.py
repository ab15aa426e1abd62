# Copyright (c) mmspecgene contributors. All rights reserved.
"""Mirrored-folder datasets (pretraining pairs, matching pairs, segmentation) scan their roots alike:
suffixes case-insensitively, linked folders followed once, link loops and broken links reported."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

pytest.importorskip('mmseg')
pytest.importorskip('mmpretrain')
from mmspecgene.match.datasets import RGBTMatchDataset  # noqa: E402
from mmspecgene.pretrain.datasets import RGBTPairDataset  # noqa: E402
from mmspecgene.seg.datasets import RGBTSegDataset  # noqa: E402

SUBS = ('visible', 'infrared', 'labels')


def build(cls, root):
    prefix = dict(img_path='visible/train', ir_path='infrared/train')
    if cls is RGBTSegDataset:
        prefix['seg_map_path'] = 'labels/train'
    return cls(data_root=str(root), data_prefix=prefix, pipeline=[])


def write(root, rel):
    """One sample ``rel``: visible and thermal JPEG bytes under that name, a PNG label under its stem."""
    jpeg = cv2.imencode('.jpg', np.zeros((8, 8, 3), np.uint8))[1].tobytes()
    png = cv2.imencode('.png', np.zeros((8, 8), np.uint8))[1].tobytes()
    for sub in SUBS:
        path = root / sub / 'train' / (osp.splitext(rel)[0] + '.png' if sub == 'labels' else rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png if sub == 'labels' else jpeg)


def names(dataset):
    return sorted(osp.relpath(dataset.get_data_info(i)['img_path'], dataset.data_prefix['img_path'])
                  for i in range(len(dataset)))


@pytest.mark.parametrize('cls', [RGBTPairDataset, RGBTMatchDataset, RGBTSegDataset])
def test_upper_case_suffix_and_linked_folder_loop(tmp_path, cls):
    write(tmp_path, 'a.jpg')
    write(tmp_path, 'cam/b.JPG')
    for sub in SUBS:
        os.symlink('..', tmp_path / sub / 'train' / 'cam' / 'again')  # a loop back to train/
    dataset = build(cls, tmp_path)
    assert names(dataset) == ['a.jpg', 'cam/b.JPG']
    info = dataset.get_data_info(1)
    assert info['ir_path'].endswith(osp.join('infrared', 'train', 'cam', 'b.JPG'))
    if cls is RGBTSegDataset:
        assert info['seg_map_path'].endswith(osp.join('labels', 'train', 'cam', 'b.png'))


@pytest.mark.parametrize('cls', [RGBTPairDataset, RGBTMatchDataset, RGBTSegDataset])
def test_broken_link_in_the_visible_root_is_named(tmp_path, cls):
    write(tmp_path, 'a.jpg')
    os.symlink(tmp_path / 'nowhere.jpg', tmp_path / 'visible' / 'train' / 'gone.jpg')
    with pytest.raises(FileNotFoundError, match=r'broken symbolic link.*gone\.jpg'):
        build(cls, tmp_path)


@pytest.mark.parametrize('cls', [RGBTPairDataset, RGBTMatchDataset, RGBTSegDataset])
def test_a_link_alias_does_not_replace_the_real_folder(tmp_path, cls):
    """``visible/train/current -> set05`` (one side only) sorts first; set05 is still paired under its own name."""
    write(tmp_path, 'set05/0001.jpg')
    os.symlink('set05', tmp_path / 'visible' / 'train' / 'current')
    assert names(build(cls, tmp_path)) == ['set05/0001.jpg']


def test_scan_prefers_real_paths_at_any_depth(tmp_path):
    from mmspecgene.datasets.converters.trees import scan_tree
    (tmp_path / 'z' / 'real').mkdir(parents=True)
    (tmp_path / 'z' / 'real' / 'f.jpg').write_bytes(b'')
    os.symlink(osp.join('z', 'real'), tmp_path / 'a')  # a shallower link, met before z/ in sorted order
    os.symlink(osp.join('z'), tmp_path / 'b')  # a link to a folder above it
    scan = scan_tree(str(tmp_path), 'images')
    assert scan.files == ['z/real/f.jpg']
    assert sorted(scan.revisited) == [('a', 'z/real'), ('b', 'z')]
