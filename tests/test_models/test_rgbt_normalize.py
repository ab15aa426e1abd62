# Copyright (c) mmspecgene contributors. All rights reserved.
import pytest
import torch

from mmspecgene.models.rgbt_normalize import IMAGENET_MEAN, IMAGENET_STD, RGBTNormalize

MEAN6 = [10., 20., 30., 40., 50., 60.]
STD6 = [1., 2., 4., 5., 10., 20.]


def _constant_channels(h=3, w=4):
    """(6, H, W) uint8 with value 100 + 10*c in channel c."""
    return torch.stack([torch.full((h, w), 100 + 10 * c, dtype=torch.uint8) for c in range(6)])


def test_all_six_channels_normalised_after_per_half_reversal():
    out = RGBTNormalize(mean=MEAN6, std=STD6, to_rgb=(True, True))(_constant_channels())
    assert out.shape == (6, 3, 4) and out.dtype == torch.float32
    reordered = [120, 110, 100, 150, 140, 130]  # [2,1,0] on RGB, [5,4,3] on thermal
    for c in range(6):
        assert torch.allclose(out[c], torch.tensor((reordered[c] - MEAN6[c]) / STD6[c]))


def test_no_reversal_and_split_arguments():
    norm = RGBTNormalize(rgb_mean=MEAN6[:3], rgb_std=STD6[:3], thermal_mean=MEAN6[3:], thermal_std=STD6[3:],
                         to_rgb=(False, True))
    out = norm(_constant_channels().unsqueeze(0).repeat(2, 1, 1, 1))
    values = [100, 110, 120, 150, 140, 130]
    for c in range(6):
        assert torch.allclose(out[:, c], torch.tensor((values[c] - MEAN6[c]) / STD6[c]))


def test_official_compat_preset_is_positional_bgr():
    """Released seg/SOD: both halves stay BGR, ImageNet R,G,B stats applied positionally
    (docs/en/method.md#released-input-conventions-and-compat-presets)."""
    img = _constant_channels()
    compat = RGBTNormalize(mean=list(IMAGENET_MEAN) * 2, std=list(IMAGENET_STD) * 2, to_rgb=(False, False))(img)
    clean = RGBTNormalize(mean=list(IMAGENET_MEAN) * 2, std=list(IMAGENET_STD) * 2, to_rgb=(True, True))(img)
    for c in range(6):
        assert torch.allclose(compat[c], (img[c].float() - IMAGENET_MEAN[c % 3]) / IMAGENET_STD[c % 3])
    # the clean preset reverses each half before normalising: channel 0 carries the decoded R (= BGR index 2)
    assert torch.allclose(clean[0], (img[2].float() - IMAGENET_MEAN[0]) / IMAGENET_STD[0])
    assert torch.allclose(clean[3], (img[5].float() - IMAGENET_MEAN[0]) / IMAGENET_STD[0])
    assert not torch.allclose(compat, clean)


@pytest.mark.parametrize('kwargs,match', [
    (dict(mean=IMAGENET_MEAN, std=IMAGENET_STD), '6 values'),
    (dict(mean=MEAN6, std=STD6, rgb_mean=IMAGENET_MEAN), 'not both'),
    (dict(rgb_mean=IMAGENET_MEAN, rgb_std=IMAGENET_STD), 'required'),
    (dict(mean=MEAN6, std=[0.] * 6), 'positive'),
    (dict(mean=MEAN6, std=STD6, to_rgb=True), 'pair'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RGBTNormalize(**kwargs)


def test_three_channel_input_is_rejected():
    with pytest.raises(ValueError, match='6 channels'):
        RGBTNormalize(mean=MEAN6, std=STD6)(torch.zeros(3, 4, 4))
