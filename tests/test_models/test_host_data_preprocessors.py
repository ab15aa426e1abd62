# Copyright (c) mmspecgene contributors. All rights reserved.
"""The three hosts' RGBT preprocessors keep all 6 channels, per sample, and pad as their hosts do."""
import pytest
import torch

from mmspecgene.utils import register_all_modules

MEAN6 = [0., 0., 0., 0., 0., 0.]
STD6 = [1., 1., 1., 1., 1., 1.]


def _sample(value, h=20, w=24):
    """(6, H, W) uint8 whose channel c holds value + c."""
    return torch.stack([torch.full((h, w), value + c, dtype=torch.uint8) for c in range(6)])


def _check(inputs, values):
    assert inputs.shape[1] == 6
    for i, value in enumerate(values):
        expected = [value + 2, value + 1, value, value + 5, value + 4, value + 3]  # per-half reversal
        got = [inputs[i, c, 0, 0].item() for c in range(6)]
        assert got == expected, (i, got, expected)


def test_det_preprocessor():
    register_all_modules('det')
    from mmdet.registry import MODELS
    from mmdet.structures import DetDataSample
    pre = MODELS.build(dict(type='RGBTDetDataPreprocessor', mean=MEAN6, std=STD6, pad_size_divisor=32,
                            batch_augments=[dict(type='BatchFixedSizePad', size=(64, 64))]))
    samples = [DetDataSample(metainfo=dict(img_shape=(20, 24))) for _ in range(2)]
    out = pre(dict(inputs=[_sample(10), _sample(50, 16, 24)], data_samples=samples), training=True)
    assert out['inputs'].shape == (2, 6, 64, 64)
    _check(out['inputs'], [10, 50])
    assert (out['inputs'][1, :, 16:] == 0).all()  # padded with 0 after normalisation
    with pytest.raises(ValueError, match='to_rgb'):
        MODELS.build(dict(type='RGBTDetDataPreprocessor', mean=MEAN6, std=STD6, bgr_to_rgb=True))


def test_seg_preprocessor():
    register_all_modules('seg')
    from mmengine.structures import PixelData
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample
    pre = MODELS.build(dict(type='RGBTSegDataPreProcessor', mean=MEAN6, std=STD6, size=(32, 32), pad_val=0,
                            seg_pad_val=255))
    samples = []
    for _ in range(2):
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=torch.zeros(1, 20, 24, dtype=torch.long))
        samples.append(sample)
    out = pre(dict(inputs=[_sample(3), _sample(90)], data_samples=samples), training=True)
    assert out['inputs'].shape == (2, 6, 32, 32)
    _check(out['inputs'], [3, 90])
    assert (out['data_samples'][0].gt_sem_seg.data[:, 20:] == 255).all()


def test_seg_test_batch_of_two_sizes_names_the_images():
    register_all_modules('seg')
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample
    pre = MODELS.build(dict(type='RGBTSegDataPreProcessor', mean=MEAN6, std=STD6))
    samples = [SegDataSample(metainfo=dict(img_path=f'/data/vt821/RGB/{n}.jpg')) for n in (1, 2)]
    same = pre(dict(inputs=[_sample(3), _sample(90)], data_samples=samples), training=False)
    assert same['inputs'].shape == (2, 6, 20, 24)
    with pytest.raises(ValueError, match=r'different sizes .*\(/data/vt821/RGB/1\.jpg 20x24, '
                                         r'/data/vt821/RGB/2\.jpg 16x24\); set test_dataloader\.batch_size=1'):
        pre(dict(inputs=[_sample(3), _sample(90, 16, 24)], data_samples=samples), training=False)


def test_pretrain_preprocessor():
    register_all_modules('pretrain')
    from mmpretrain.registry import MODELS
    pre = MODELS.build(dict(type='RGBTSelfSupDataPreprocessor', mean=MEAN6, std=STD6, to_rgb=(True, True)))
    out = pre(dict(inputs=torch.stack([_sample(7), _sample(70)]), data_samples=None))
    assert out['inputs'].shape == (2, 6, 20, 24)
    _check(out['inputs'], [7, 70])
    with pytest.raises(ValueError, match='6 values'):
        MODELS.build(dict(type='RGBTSelfSupDataPreprocessor', mean=MEAN6[:3], std=STD6[:3]))
