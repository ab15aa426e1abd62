# Copyright (c) mmspecgene contributors. All rights reserved.
import cv2
import numpy as np
import pytest

from mmspecgene.datasets.transforms.geometric import resize_channels


@pytest.mark.parametrize('interpolation', [cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_NEAREST])
def test_resize_channels_matches_per_plane_and_six_channel_resize(interpolation):
    rng = np.random.default_rng(0)
    rgb = cv2.resize(rng.integers(0, 256, (12, 15, 3), dtype=np.uint8), (150, 120))
    grey = cv2.resize(rng.integers(0, 256, (12, 15), dtype=np.uint8), (150, 120))
    img = cv2.merge([rgb, grey, grey, grey])[10:100, 5:140]  # a crop view, as RGBTRandomResizedCrop passes it
    out = resize_channels(img, (64, 48), interpolation)
    assert out.shape == (48, 64, 6) and out.dtype == np.uint8
    for channel in range(6):  # the grey thermal planes reuse one resize: still the exact per-plane result
        expected = cv2.resize(np.ascontiguousarray(img[..., channel]), (64, 48), interpolation=interpolation)
        np.testing.assert_array_equal(out[..., channel], expected)
    six = cv2.resize(img, (64, 48), interpolation=interpolation)
    assert np.abs(out.astype(int) - six.astype(int)).max() <= 1
    # 1-4 channels take cv2's own path unchanged
    np.testing.assert_array_equal(resize_channels(rgb, (64, 48), interpolation),
                                  cv2.resize(rgb, (64, 48), interpolation=interpolation))
