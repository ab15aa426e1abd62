# Copyright (c) mmspecgene contributors. All rights reserved.
"""Matching datasets: aligned pair sources, fixed seeded evaluation homographies, external ground truth."""
import json
import logging
import os
import os.path as osp

import numpy as np
import pytest

from mmspecgene.datasets.synthetic import make_det, make_pretrain
from mmspecgene.match.datasets import RGBTExternalMatchDataset, RGBTMatchDataset
from mmspecgene.testing.logs import captured_log_records

SIZE = (160, 128)


@pytest.fixture(scope='module')
def det_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('match_data')
    make_det(str(root), num_train=3, num_test=4, size=(640, 512))
    return str(root / 'det') + '/'


def _eval_dataset(root, **kwargs):
    kwargs.setdefault('homography_file', 'annotations/h_test.json')
    return RGBTMatchDataset(data_root=root, ann_file='annotations/synthetic_test.json', img_size=SIZE,
                            pipeline=[dict(type='LoadRGBTMatchPair', img_size=SIZE), dict(type='RGBTHomographyWarp'),
                                      dict(type='PackRGBTMatchInputs')], **kwargs)


def test_coco_annotation_file_as_pair_source(det_root):
    ds = RGBTMatchDataset(data_root=det_root, ann_file='annotations/synthetic_train.json')
    assert len(ds) == 3
    info = ds.get_data_info(1)
    assert info['img_path'] == osp.join(det_root, 'visible', 'train/000002.jpg')
    assert info['ir_path'] == osp.join(det_root, 'infrared', 'train/000002.jpg')
    assert 'warp_homography' not in info  # training samples draw their warp in the pipeline


def test_pair_list_and_mirrored_roots(tmp_path):
    make_pretrain(str(tmp_path), num=3)
    root = str(tmp_path / 'pretrain') + '/'
    listed = RGBTMatchDataset(data_root=root, ann_file='annotations/pairs_train.txt')
    mirrored = RGBTMatchDataset(data_root=root)
    assert len(listed) == len(mirrored) == 3
    assert sorted(i['img_path'] for i in listed) == sorted(i['img_path'] for i in mirrored)


def test_fixed_homographies_written_once_and_reproducible(det_root):
    path = osp.join(det_root, 'annotations', 'h_test.json')
    if osp.exists(path):
        os.remove(path)
    first = _eval_dataset(det_root)
    content = json.load(open(path))
    assert content['seed'] == 0 and content['img_size'] == list(SIZE) and len(content['pairs']) == 4
    mtime = osp.getmtime(path)
    with captured_log_records() as records:  # an existing file wins over the seed: it is the protocol
        second = _eval_dataset(det_root, homography_seed=5)
    assert osp.getmtime(path) == mtime
    assert any('was drawn with other settings than the dataset asks for (seed: file 0, dataset 5)' in r.getMessage()
               and r.levelno == logging.WARNING for r in records)
    for i in range(4):
        np.testing.assert_array_equal(first.get_data_info(i)['warp_homography'],
                                      second.get_data_info(i)['warp_homography'])
    other = _eval_dataset(det_root, homography_file='annotations/h_seed5.json', homography_seed=5)
    assert not np.allclose(other.get_data_info(0)['warp_homography'], first.get_data_info(0)['warp_homography'])
    sample = first[2]  # the pipeline loads frames of the size the warps were drawn for
    assert first.get_data_info(2)['warp_img_size'] == tuple(SIZE)
    np.testing.assert_allclose(sample['data_samples'].gt_homography, first.get_data_info(2)['warp_homography'])


def test_homography_file_mismatches_raise(det_root):
    _eval_dataset(det_root, homography_file='annotations/h_mismatch.json')
    with pytest.raises(ValueError, match=r'img_size \[160, 128\].*uses \[320, 256\]'):
        RGBTMatchDataset(data_root=det_root, ann_file='annotations/synthetic_test.json', img_size=(320, 256),
                         homography_file='annotations/h_mismatch.json')
    with pytest.raises(ValueError, match='lists 4 pairs and the dataset 3'):
        RGBTMatchDataset(data_root=det_root, ann_file='annotations/synthetic_train.json', img_size=SIZE,
                         homography_file='annotations/h_mismatch.json')
    with pytest.raises(ValueError, match='needs img_size'):
        RGBTMatchDataset(data_root=det_root, ann_file='annotations/synthetic_test.json', homography_file='h.json')


def test_degenerate_stored_homography_names_the_pair(det_root):
    path = osp.join(det_root, 'annotations', 'h_bad.json')
    _eval_dataset(det_root, homography_file='annotations/h_bad.json')
    content = json.load(open(path))
    content['pairs'][2]['warp_homography'] = [[1, 0, 0], [0, 0, 0], [0, 0, 1]]
    json.dump(content, open(path, 'w'))
    with pytest.raises(ValueError, match=r'pair 2 \(test/000006.jpg \| test/000006.jpg\): degenerate'):
        _eval_dataset(det_root, homography_file='annotations/h_bad.json')


def test_missing_thermal_image_names_the_pair(det_root, tmp_path):
    ir = osp.join(det_root, 'infrared', 'test', '000005.jpg')
    moved = str(tmp_path / 'moved.jpg')
    os.rename(ir, moved)
    try:
        with pytest.raises(FileNotFoundError, match=r'pair 1 \(.*000005.jpg \| .*000005.jpg\): thermal image'):
            RGBTMatchDataset(data_root=det_root, ann_file='annotations/synthetic_test.json')
        ds = _eval_dataset(det_root, check_files=False)
        with pytest.raises(FileNotFoundError, match=r'matching sample 1 \(.*000005.jpg\): thermal image'):
            ds[1]
    finally:
        os.rename(moved, ir)


def _external(tmp_path, det_root, pairs):
    ann = tmp_path / 'external.json'
    ann.write_text(json.dumps(dict(pairs=pairs)))
    return RGBTExternalMatchDataset(data_root=det_root, ann_file=str(ann), pipeline=[
        dict(type='LoadRGBTMatchPair', img_size=SIZE), dict(type='PackRGBTMatchInputs')])


def test_external_homographies_and_correspondences(tmp_path, det_root):
    shift = [[1, 0, 8], [0, 1, -4], [0, 0, 1]]
    corr = [[x, y, x + 8, y - 4] for x, y in [(10, 10), (600, 20), (300, 400), (50, 480), (620, 500)]]
    ds = _external(tmp_path, det_root, [
        dict(img_path='test/000005.jpg', ir_path='test/000006.jpg', homography=shift),
        dict(img_path='test/000007.jpg', ir_path='test/000007.jpg', correspondences=corr)])
    np.testing.assert_allclose(ds.get_data_info(1)['gt_homography'], shift, atol=1e-6)
    sample = ds[0]['data_samples']
    # 640x512 -> 160x128: the 8 px shift becomes 2 px
    np.testing.assert_allclose(sample.gt_homography, [[1, 0, 2], [0, 1, -1], [0, 0, 1]], atol=1e-9)


@pytest.mark.parametrize('entry,err,match', [
    (dict(correspondences=[]), ValueError, 'correspondence set is empty'),
    (dict(correspondences=[[0, 0, 1, 1]] * 3), ValueError, 'at least 4'),
    (dict(homography=[[0, 0, 0], [0, 0, 0], [0, 0, 0]]), ValueError, 'degenerate .singular. homography'),
    (dict(homography=[[1, 0], [0, 1]]), ValueError, 'finite 3x3'),
    (dict(), KeyError, 'give "homography" or "correspondences"'),
])
def test_external_bad_ground_truth_names_the_pair(tmp_path, det_root, entry, err, match):
    entry = dict(img_path='test/000005.jpg', ir_path='test/000005.jpg', **entry)
    with pytest.raises(err, match=match) as info:
        _external(tmp_path, det_root, [entry])
    assert 'pair 0 (test/000005.jpg | test/000005.jpg)' in str(info.value)
