# Copyright (c) mmspecgene contributors. All rights reserved.
import numpy as np
import pytest
from mmcv.transforms import BaseTransform
from mmengine.registry import TRANSFORMS

from mmspecgene.datasets.transforms import PairedPhotoMetricDistortion, RGBOnly, RGBTPad, SelectModality, ThermalOnly


class _AddOne(BaseTransform):

    def transform(self, results):
        results['img'] = results['img'] + 1
        return results


class _Crop(BaseTransform):

    def transform(self, results):
        results['img'] = results['img'][:2]
        return results


@pytest.fixture(scope='module', autouse=True)
def _register():
    for cls in (_AddOne, _Crop):
        if cls.__name__ not in TRANSFORMS.module_dict:
            TRANSFORMS.register_module(module=cls)


def test_rgb_only_and_thermal_only():
    img = np.zeros((4, 5, 6), np.uint8)
    out = RGBOnly(transforms=[dict(type='_AddOne')])(dict(img=img.copy()))['img']
    assert (out[..., :3] == 1).all() and (out[..., 3:] == 0).all()
    out = ThermalOnly(transforms=dict(type='_AddOne'))(dict(img=img.copy()))['img']
    assert (out[..., :3] == 0).all() and (out[..., 3:] == 1).all()
    with pytest.raises(ValueError, match='geometric'):
        RGBOnly(transforms=[dict(type='_Crop')])(dict(img=img.copy()))
    with pytest.raises(ValueError, match='6'):
        RGBOnly(transforms=[dict(type='_AddOne')])(dict(img=np.zeros((4, 5, 3), np.uint8)))


@pytest.mark.parametrize('geometric', [dict(type='mmdet.RandomFlip', prob=1.0),
                                       dict(type='mmdet.Resize', scale=(5, 4), keep_ratio=False)])
def test_shape_keeping_geometric_steps_are_refused(geometric):
    """A flip (or a resize to the same size) keeps the view's shape; it still may not run on one half."""
    pytest.importorskip('mmdet')
    from mmdet.structures.bbox import HorizontalBoxes

    import mmspecgene.det  # noqa: F401  (mmdet's transforms)
    img = np.zeros((4, 5, 6), np.uint8)
    img[:, :2] = 255
    boxes = HorizontalBoxes(np.array([[0., 0., 2., 4.]], np.float32))
    results = dict(img=img.copy(), img_shape=(4, 5), gt_bboxes=boxes, gt_bboxes_labels=np.array([0]))
    with pytest.raises(ValueError, match=r"ThermalOnly: a wrapped transform set \[.*'(flip|scale_factor)'"):
        ThermalOnly(transforms=[geometric])(results)
    assert boxes.tensor.tolist() == [[0., 0., 2., 4.]]  # the annotations never reached the wrapped step


def test_rgbt_pad_per_channel_fill():
    img = np.arange(2 * 3 * 6, dtype=np.uint8).reshape(2, 3, 6)
    seg = np.ones((2, 3), np.uint8)
    out = RGBTPad(size=(4, 5), pad_val=dict(img=114, seg=255))(dict(img=img, gt_seg_map=seg))
    assert out['img'].shape == (4, 5, 6) and out['pad_shape'] == (4, 5)
    np.testing.assert_array_equal(out['img'][:2, :3], img)
    assert (out['img'][2:] == 114).all() and (out['img'][:, 3:] == 114).all()  # every channel, not (v,0,0,0)
    assert (out['gt_seg_map'][2:] == 255).all() and (out['gt_seg_map'][:2, :3] == 1).all()
    fill = (1, 2, 3, 4, 5, 6)
    out = RGBTPad(size_divisor=4, pad_val=dict(img=fill))(dict(img=img))
    assert out['img'].shape == (4, 4, 6) and out['img'][3, 3].tolist() == list(fill)
    with pytest.raises(ValueError, match='6 channels'):
        RGBTPad(size_divisor=4, pad_val=dict(img=(1, 2, 3)))(dict(img=img))


def test_paired_photometric_distortion_same_draw():
    rng = np.random.default_rng(0)
    half = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
    img = np.concatenate([half, half], axis=2)
    np.random.seed(3)
    changed = 0
    for _ in range(20):
        out = PairedPhotoMetricDistortion(thermal_ops='all')(dict(img=img.copy()))
        np.testing.assert_array_equal(out['img'][..., :3], out['img'][..., 3:])  # identical parameters
        changed += int(not np.array_equal(out['img'], img))
    assert changed > 0
    grey = np.repeat(half[..., :1], 6, axis=2)
    for _ in range(10):
        out = PairedPhotoMetricDistortion()(dict(img=grey.copy()))
        params = out['photometric_params']
        thermal = out['img'][..., 3:]
        # default thermal_ops: brightness and contrast only -> the thermal half stays grey
        assert (thermal[..., 0] == thermal[..., 1]).all() and (thermal[..., 1] == thermal[..., 2]).all()
        assert set(params) >= {'brightness', 'contrast', 'saturation', 'hue'}
    with pytest.raises(ValueError, match='thermal_ops'):
        PairedPhotoMetricDistortion(thermal_ops=('gamma', ))


def test_select_modality_keeps_one_half():
    img = np.arange(2 * 3 * 6, dtype=np.uint8).reshape(2, 3, 6)
    for modality, channels in (('rgb', slice(0, 3)), ('thermal', slice(3, 6))):
        out = SelectModality(modality)(dict(img=img.copy(), img_path='a.jpg'))
        assert out['img'].shape == (2, 3, 3) and out['img'].flags['C_CONTIGUOUS']
        np.testing.assert_array_equal(out['img'], img[..., channels])
        assert out['modality_channels'] == {modality: (0, 3)}
    with pytest.raises(ValueError, match='modality'):
        SelectModality('depth')
    with pytest.raises(ValueError, match='H×W×6'):
        SelectModality('rgb')(dict(img=img[..., :3], img_path='a.jpg'))
