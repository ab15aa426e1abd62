# Copyright (c) mmspecgene contributors. All rights reserved.
"""RGBT segmentation datasets name the label file and the values when a label is outside the classes (255, the
ignore index, is allowed), with and without reduce_zero_label."""
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest

from mmspecgene.datasets.ann_checks import check_label_values
from mmspecgene.utils import register_all_modules

PIPELINE = [dict(type='LoadRGBTImagePair'), dict(type='LoadAnnotations'), dict(type='PackSegInputs')]


def _copy_split(synthetic_root, tmp_path):
    """The synthetic seg val split (4 classes, 255 rings) under tmp_path, to edit its labels."""
    root = tmp_path / 'seg'
    for folder in ('visible', 'infrared', 'labels'):
        shutil.copytree(osp.join(synthetic_root, 'seg', folder, 'val'), root / folder / 'val')
    return root


def _dataset(root, **kwargs):
    register_all_modules('seg')
    from mmseg.registry import DATASETS
    return DATASETS.build(dict(type='RGBTSyntheticSegDataset', data_root=str(root),
                               data_prefix=dict(img_path='visible/val', ir_path='infrared/val',
                                                seg_map_path='labels/val'), pipeline=PIPELINE, **kwargs))


def test_valid_labels_and_ignore_index_load(synthetic_root, tmp_path):
    dataset = _dataset(_copy_split(synthetic_root, tmp_path))
    gt = dataset[0]['data_samples'].gt_sem_seg.data
    assert set(gt.unique().tolist()) <= {0, 1, 2, 3, 255} and 255 in gt.unique().tolist()


def test_out_of_range_label_names_file_and_values(synthetic_root, tmp_path):
    root = _copy_split(synthetic_root, tmp_path)
    dataset = _dataset(root)
    path = dataset.get_data_info(1)['seg_map_path']
    label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    label[:4, :4], label[-4:, -4:] = 7, 4
    cv2.imwrite(path, label)
    dataset[0]  # other files are unaffected
    with pytest.raises(ValueError, match=rf'label values \[4, 7\] of {path} are out of range: expected 0\.\.3'):
        dataset[1]


def test_reduce_zero_label_checks_the_reduced_values(synthetic_root, tmp_path):
    root = _copy_split(synthetic_root, tmp_path)
    dataset = _dataset(root, reduce_zero_label=True)
    path = dataset.get_data_info(0)['seg_map_path']
    label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    label[label == 255] = 0
    label = np.minimum(label + 1, 4).astype(np.uint8)  # file values 1..4 are the 4 classes
    cv2.imwrite(path, label)
    gt = dataset[0]['data_samples'].gt_sem_seg.data
    assert set(gt.unique().tolist()) <= {0, 1, 2, 3}
    label[:2, :2] = 5  # one past the classes
    cv2.imwrite(path, label)
    with pytest.raises(ValueError, match=r'values \[4\] .* after reduce_zero_label \(file values \[5\]\)'):
        dataset[0]


def test_check_label_values_on_arrays():
    check_label_values(np.array([[0, 1], [255, 3]]), 4, 255, 'a.png')
    with pytest.raises(ValueError, match=r'\[-1\] of b\.png'):
        check_label_values(np.array([[0, -1]]), 4, 255, 'b.png')
    with pytest.raises(ValueError, match=r'\[254\] of c\.png'):
        check_label_values(np.array([[254, 255]]), 4, 255, 'c.png')


def test_sod_label_on_the_0_255_scale_is_an_error(synthetic_root, tmp_path):
    root = tmp_path / 'sod'
    for folder in ('visible', 'infrared', 'labels'):
        shutil.copytree(osp.join(synthetic_root, 'sod', 'synthetic', folder, 'test'), root / folder / 'test')
    register_all_modules('seg')
    from mmseg.registry import DATASETS
    dataset = DATASETS.build(dict(type='RGBTSyntheticSODDataset', data_root=str(root),
                                  data_prefix=dict(img_path='visible/test', ir_path='infrared/test',
                                                   seg_map_path='labels/test'), pipeline=PIPELINE))
    assert set(dataset[0]['data_samples'].gt_sem_seg.data.unique().tolist()) == {0, 1}
    path = dataset.get_data_info(0)['seg_map_path']
    cv2.imwrite(path, cv2.imread(path, cv2.IMREAD_UNCHANGED) * 255)  # an unconverted 0/255 ground truth
    with pytest.raises(ValueError, match=rf'\[255\] of {path} .*expected 0\.\.1 .*vt_sod2mmspecgene'):
        dataset[0]


def test_three_band_label_is_named(synthetic_root, tmp_path):
    """mmseg keeps every band of a label PNG: a grey label saved as RGB is an error naming the file."""
    from PIL import Image
    root = _copy_split(synthetic_root, tmp_path)
    path = sorted((root / 'labels' / 'val').iterdir())[0]
    label = np.asarray(Image.open(path))
    Image.fromarray(np.dstack([label] * 3), 'RGB').save(path)
    with pytest.raises(ValueError, match=rf"{path.name} gives gt_sem_seg of shape \(\d+, \d+, 3\), not \(1, H, W\)"):
        _dataset(root)[0]
