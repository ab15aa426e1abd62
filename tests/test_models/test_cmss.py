# Copyright (c) mmspecgene contributors. All rights reserved.
import pytest
import torch

from mmspecgene.models.cmss import cmss_stats, compute_cmss, sorted_quantiles, unnormalised_cmss


def make_tokens(batch_size=3, num_tokens=20, dim=32, seed=0):
    generator = torch.Generator().manual_seed(seed)
    scale_rgb = torch.rand(batch_size, num_tokens, 1, generator=generator) + 0.1
    scale_thermal = torch.rand(batch_size, num_tokens, 1, generator=generator) + 0.1
    rgb = torch.randn(batch_size, num_tokens, dim, generator=generator) * scale_rgb
    thermal = torch.randn(batch_size, num_tokens, dim, generator=generator) * scale_thermal + 0.3 * rgb
    return rgb, thermal


def reference_cmss(rgb, thermal, variant):
    """Direct per-token formula of docs/en/method.md#cmss, float64, one token at a time."""
    rgb, thermal = rgb.double(), thermal.double()
    batch_size, num_tokens, _ = rgb.shape
    raw = torch.zeros(batch_size, num_tokens, dtype=torch.float64)
    for image in range(batch_size):
        for token in range(num_tokens):
            a, b = rgb[image, token], thermal[image, token]
            cosine = torch.dot(a, b) / max(float(a.norm() * b.norm()), 1e-8)
            ratio = torch.sqrt(torch.clamp((cosine + 1) / 2, 0, 1))
            var_a = max(float(a.var(unbiased=True)), 1e-6)
            var_b = max(float(b.var(unbiased=True)), 1e-6)
            denominator = var_a * var_b if variant == 'paper' else var_b * var_b
            raw[image, token] = ratio / denominator
    return raw / max(float(raw.max()), 1e-12)


@pytest.mark.parametrize('variant', ['paper', 'released'])
def test_cmss_matches_direct_formula(variant):
    rgb, thermal = make_tokens()
    cmss = compute_cmss(rgb, thermal, variant=variant)
    expected = reference_cmss(rgb, thermal, variant)
    assert cmss.dtype == torch.float32 and cmss.shape == (3, 20)
    torch.testing.assert_close(cmss.double(), expected, rtol=1e-4, atol=1e-6)
    assert float(cmss.max()) == pytest.approx(1.0, abs=1e-6)
    assert bool((cmss > 0).all())


def test_cmss_variants_differ_and_aliases():
    rgb, thermal = make_tokens(seed=1)
    paper = compute_cmss(rgb, thermal, variant='paper')
    released = compute_cmss(rgb, thermal, variant='released')
    assert not torch.allclose(paper, released)
    torch.testing.assert_close(compute_cmss(rgb, thermal, variant='product'), paper)
    torch.testing.assert_close(compute_cmss(rgb, thermal, variant='thermal_squared'), released)
    # The released variant uses the thermal variance: swapping the inputs changes it.
    assert not torch.allclose(compute_cmss(thermal, rgb, variant='released'), released)
    with pytest.raises(ValueError, match='Unknown CMSS variant'):
        compute_cmss(rgb, thermal, variant='first_squared')


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
@pytest.mark.parametrize('variant', ['paper', 'released'])
def test_cmss_low_precision_inputs(dtype, variant):
    rgb, thermal = make_tokens(seed=2)
    rgb, thermal = rgb.to(dtype), thermal.to(dtype)
    cmss = compute_cmss(rgb, thermal, variant=variant)
    assert cmss.dtype == torch.float32
    # Same values as the direct formula on the (rounded) inputs: computed in fp32, not in the input precision.
    torch.testing.assert_close(cmss.double(), reference_cmss(rgb, thermal, variant), rtol=1e-4, atol=1e-6)


def test_cmss_zero_vectors_and_zero_variance_are_safe():
    rgb, thermal = make_tokens(batch_size=2, num_tokens=6, dim=16, seed=3)
    rgb[0, 0] = 0.0  # zero vector: cosine 0
    thermal[0, 1] = 0.0
    rgb[1, 2] = 2.5  # constant vector: zero variance
    thermal[1, 2] = 1.0
    thermal[1, 3] = 0.7
    for variant in ('paper', 'released'):
        cmss, stats = compute_cmss(rgb, thermal, variant=variant, return_stats=True)
        assert bool(torch.isfinite(cmss).all())
        assert bool((cmss > 0).all()) and bool((cmss <= 1).all())
        assert int(stats['nonfinite']) == 0
        torch.testing.assert_close(cmss.double(), reference_cmss(rgb, thermal, variant), rtol=1e-4, atol=1e-6)
    # All-zero input: every token is flat, no NaN.
    zeros = torch.zeros(1, 4, 8)
    cmss = compute_cmss(zeros, zeros)
    torch.testing.assert_close(cmss, torch.ones(1, 4))


def test_cmss_nonfinite_tokens():
    rgb, thermal = make_tokens(batch_size=2, num_tokens=5, dim=8, seed=4)
    rgb[0, 2, 3] = float('nan')
    thermal[1, 4, 0] = float('inf')
    cmss, stats = compute_cmss(rgb, thermal, return_stats=True)
    assert int(stats['nonfinite']) == 2
    assert float(cmss[0, 2]) == 1.0 and float(cmss[1, 4]) == 1.0
    assert bool(torch.isfinite(cmss).all())
    finite = torch.ones_like(cmss, dtype=torch.bool)
    finite[0, 2] = finite[1, 4] = False
    assert float(cmss[finite].max()) == pytest.approx(1.0)
    with pytest.raises(RuntimeError, match='not finite'):
        compute_cmss(rgb, thermal, nonfinite='raise')


def test_cmss_is_detached_and_checks_shapes():
    rgb, thermal = make_tokens(batch_size=1, num_tokens=4, dim=8)
    rgb.requires_grad_(True)
    assert not compute_cmss(rgb, thermal).requires_grad
    with pytest.raises(ValueError, match='same shape'):
        compute_cmss(rgb, thermal[:, :3])
    with pytest.raises(ValueError, match='D >= 2'):
        compute_cmss(rgb[..., :1], thermal[..., :1])
    with pytest.raises(ValueError, match='nonfinite'):
        compute_cmss(rgb, thermal, nonfinite='ignore')


def test_cmss_local_and_reduced_max_agree_without_dist():
    rgb, thermal = make_tokens(seed=5)
    torch.testing.assert_close(compute_cmss(rgb, thermal, reduce_max=True),
                               compute_cmss(rgb, thermal, reduce_max=False))


def test_cmss_stats():
    rgb, thermal = make_tokens(batch_size=4, num_tokens=30, seed=6)
    cmss, raw = compute_cmss(rgb, thermal, return_stats=True)
    stats = cmss_stats(cmss, **raw)
    assert set(stats) == {'raw_max', 'mean', 'std', 'p05', 'p50', 'p95', 'nonfinite'}
    assert all(value.dim() == 0 for value in stats.values())
    flat = cmss.reshape(-1)
    expected = torch.quantile(flat, torch.tensor([0.05, 0.5, 0.95]))
    torch.testing.assert_close(torch.stack([stats['p05'], stats['p50'], stats['p95']]), expected)
    torch.testing.assert_close(stats['mean'], flat.mean())
    torch.testing.assert_close(stats['std'], flat.std())
    assert float(stats['nonfinite']) == 0
    assert float(stats['raw_max']) > 0
    torch.testing.assert_close(sorted_quantiles(torch.tensor([3.0]), [0.0, 0.5, 1.0]), torch.full((3, ), 3.0))


def test_cmss_same_for_any_layout_and_dtype():
    rgb, thermal = make_tokens(batch_size=4, num_tokens=10, dim=24, seed=7)
    expected = compute_cmss(rgb.clone(), thermal.clone())
    joint = torch.cat([rgb, thermal])  # the Siamese layout: two halves of one (2B, L, D) tensor
    torch.testing.assert_close(compute_cmss(joint[:4], joint[4:]), expected, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(compute_cmss(rgb.transpose(0, 1).contiguous().transpose(0, 1), thermal), expected,
                               rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(compute_cmss(rgb.half(), thermal.half()), compute_cmss(rgb.half().float(),
                                                                                      thermal.half().float()))
    torch.testing.assert_close(expected.double(), reference_cmss(rgb, thermal, 'paper'), rtol=1e-4, atol=1e-6)
    # the unnormalised per-token function is the public building block of both backends
    raw = unnormalised_cmss(rgb, thermal, 'paper', 1e-8, 1e-6)
    torch.testing.assert_close((raw / raw.max()).float(), expected)


def test_cmss_compiled_backend_matches_direct_formula_and_eager():
    """The fused torch.compile kernel (the CPU default for large batches) computes the same CMSS."""
    rgb, thermal = make_tokens(batch_size=4, num_tokens=12, dim=40, seed=8)
    rgb[0, 0] = 0.0  # zero vector
    rgb[1, 2], thermal[1, 2] = 2.5, 1.0  # constant tokens: zero variance
    joint = torch.cat([rgb, thermal])  # the Siamese layout
    cases = [
        (dict(variant='paper'), joint[:4], joint[4:]),
        (dict(variant='released', var_floor=None, max_floor=None, reduce_max=False), rgb, thermal),
    ]
    for kwargs, rgb_tokens, thermal_tokens in cases:
        compiled, stats = compute_cmss(rgb_tokens, thermal_tokens, backend='compiled', return_stats=True, **kwargs)
        eager, eager_stats = compute_cmss(rgb_tokens, thermal_tokens, backend='eager', return_stats=True, **kwargs)
        assert compiled.dtype == torch.float32 and compiled.shape == (4, 12)
        torch.testing.assert_close(compiled, eager, rtol=1e-5, atol=1e-7)
        assert int(stats['nonfinite']) == int(eager_stats['nonfinite'])
    # Floors on: the direct formula, zero vectors and zero variance included; one compiled kernel for every shape.
    torch.testing.assert_close(
        compute_cmss(joint[:4], joint[4:], backend='compiled').double(),
        reference_cmss(rgb, thermal, 'paper'),
        rtol=1e-4,
        atol=1e-6)
    torch.testing.assert_close(
        compute_cmss(rgb[:3, :5], thermal[:3, :5], backend='compiled').double(),
        reference_cmss(rgb[:3, :5], thermal[:3, :5], 'paper'),
        rtol=1e-4,
        atol=1e-6)
    half_rgb, half_thermal = rgb.half(), thermal.half()
    torch.testing.assert_close(
        compute_cmss(half_rgb, half_thermal, backend='compiled').double(),
        reference_cmss(half_rgb, half_thermal, 'paper'),
        rtol=1e-4,
        atol=1e-6)


def test_cmss_backend_names():
    rgb, thermal = make_tokens(batch_size=2, num_tokens=8, dim=16, seed=9)
    with pytest.raises(ValueError, match="Unknown CMSS backend 'auto'"):
        compute_cmss(rgb, thermal, backend='auto')
