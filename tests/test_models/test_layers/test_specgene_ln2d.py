# Copyright (c) mmspecgene contributors. All rights reserved.
import pytest
import torch
import torch.nn as nn

from mmspecgene.models.layers.norm import SpecGeneLN2d


def _reference_ln2d(x, weight, bias, eps):
    mean = x.mean(dim=1, keepdim=True)
    var = ((x - mean)**2).mean(dim=1, keepdim=True)
    shape = (1, -1) + (1, ) * (x.dim() - 2)
    return (x - mean) / torch.sqrt(var + eps) * weight.view(shape) + bias.view(shape)


@pytest.mark.parametrize('shape', [(2, 5, 3, 4), (3, 7, 6), (1, 4, 2, 2, 2)])
def test_ln2d_matches_formula(shape):
    torch.manual_seed(0)
    norm = SpecGeneLN2d(shape[1])
    assert norm.eps == 1e-6
    with torch.no_grad():
        norm.weight.normal_()
        norm.bias.normal_()
    x = torch.randn(*shape, dtype=torch.float64) * 3 + 1
    norm = norm.double()
    expected = _reference_ln2d(x, norm.weight, norm.bias, 1e-6)
    torch.testing.assert_close(norm(x), expected, rtol=1e-10, atol=1e-10)
    assert norm(x).shape == x.shape
    # Contiguous NCHW: mmcv ops such as RoIAlign read raw memory and ignore strides.
    assert norm(x).is_contiguous()


def test_ln2d_eps_is_used():
    norm = SpecGeneLN2d(4, eps=1.0)
    x = torch.randn(2, 4, 3, 3)
    expected = _reference_ln2d(x, norm.weight, norm.bias, 1.0)
    torch.testing.assert_close(norm(x), expected)


def test_ln2d_normalises_channels_not_space():
    norm = SpecGeneLN2d(3)
    # constant over channels at every pixel -> output is the bias (0) everywhere
    x = torch.arange(16, dtype=torch.float32).view(1, 1, 4, 4).expand(2, 3, 4, 4)
    torch.testing.assert_close(norm(x), torch.zeros_like(x))


def test_ln2d_role_and_abbr():
    assert SpecGeneLN2d._abbr_ == 'norm_layer'
    assert isinstance(SpecGeneLN2d(8), nn.LayerNorm)
    assert sorted(n for n, _ in SpecGeneLN2d(8).named_parameters()) == ['bias', 'weight']


def test_ln2d_wrong_channels_raises():
    with pytest.raises(ValueError, match='channels-first'):
        SpecGeneLN2d(8)(torch.randn(2, 4, 3, 3))
