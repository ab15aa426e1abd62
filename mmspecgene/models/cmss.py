# Copyright (c) mmspecgene contributors. All rights reserved.
"""Cross-Modality Structural Sparsity (CMSS) of paired RGB/thermal tokens (docs/en/method.md, arXiv 2507.16318).

Host-free: torch and ``mmengine.dist`` only, no host sync. One function computes the per-token CMSS
(:func:`unnormalised_cmss`); ``backend='compiled'`` runs the same function through ``torch.compile``.
"""
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import torch
from mmengine import dist
from torch import Tensor

# Accepted spellings of the two denominators: 'paper'/'product' (RGB variance x thermal variance) and
# 'released'/'thermal_squared' (the thermal variance squared, what the released weights were trained with).
CMSS_VARIANTS = {
    'paper': 'paper',
    'product': 'paper',
    'released': 'released',
    'thermal_squared': 'released',
}
NONFINITE_MODES = ('replace', 'raise', 'keep')
CMSS_QUANTILES = (0.05, 0.5, 0.95)
CMSS_BACKENDS = ('eager', 'compiled')


def canonical_cmss_variant(variant: str) -> str:
    """Return ``'paper'`` or ``'released'`` for any accepted variant name."""
    if variant not in CMSS_VARIANTS:
        raise ValueError(f'Unknown CMSS variant {variant!r}; expected one of {sorted(CMSS_VARIANTS)} '
                         "('paper'/'product': RGB variance x thermal variance, "
                         "'released'/'thermal_squared': thermal variance squared).")
    return CMSS_VARIANTS[variant]


def unnormalised_cmss(rgb: Tensor, thermal: Tensor, variant: str, eps: float, var_floor: Optional[float]) -> Tensor:
    """Per-token ``m = r / den`` before the batch normalisation.

    Five fp32 reductions over D per token (sum a, sum b, |a|^2, |b|^2, <a, b>), then a float64 epilogue:
    unbiased variances, cosine, ``r = sqrt(clamp((c + 1) / 2, 0, 1))`` and the variant's denominator.

    Args:
        rgb (Tensor): (B, L, D) RGB tokens a (any float dtype).
        thermal (Tensor): (B, L, D) thermal tokens b.
        variant (str): ``'paper'`` (den = var(a) var(b)) or ``'released'`` (den = var(b) ** 2).
        eps (float): floor of ``|a| |b|`` in the cosine.
        var_floor (float, optional): floor of each variance; ``None``: no floor (released arithmetic).

    Returns:
        Tensor: (B, L) float64.
    """
    a, b = rgb.float(), thermal.float()
    num_dims = a.shape[-1]
    sums = torch.stack([a.sum(dim=-1), b.sum(dim=-1)]).double()  # (2, B, L)
    squares = torch.stack([torch.linalg.vector_norm(a, dim=-1), torch.linalg.vector_norm(b, dim=-1)]).double()**2
    dot = torch.einsum('...d,...d->...', a, b).double()  # (B, L), no (B, L, D) temporary
    variances = (squares - sums**2 / num_dims) / (num_dims - 1)
    variances = variances.clamp_min(0.0 if var_floor is None else var_floor)
    cosine = dot / (squares[0] * squares[1]).sqrt().clamp_min(eps)
    ratio = ((cosine + 1) / 2).clamp(0.0, 1.0).sqrt()
    if variant == 'paper':
        return ratio / (variances[0] * variances[1])
    return ratio / variances[1]**2


_compiled_cmss: Optional[Callable[..., Tensor]] = None


def _cmss_function(backend: str) -> Callable[..., Tensor]:
    """:func:`unnormalised_cmss`, or its ``torch.compile`` (built on first use, dynamic shapes)."""
    global _compiled_cmss
    if backend not in CMSS_BACKENDS:
        raise ValueError(f'Unknown CMSS backend {backend!r}; expected one of {CMSS_BACKENDS}.')
    if backend == 'eager':
        return unnormalised_cmss
    if _compiled_cmss is None:
        _compiled_cmss = torch.compile(unnormalised_cmss, dynamic=True)
    return _compiled_cmss


def compute_cmss(rgb_tokens: Tensor,
                 thermal_tokens: Tensor,
                 variant: str = 'paper',
                 eps: float = 1e-8,
                 var_floor: Optional[float] = 1e-6,
                 max_floor: Optional[float] = 1e-12,
                 reduce_max: bool = True,
                 nonfinite: str = 'replace',
                 return_stats: bool = False,
                 backend: str = 'eager') -> Union[Tensor, Tuple[Tensor, Dict[str, Tensor]]]:
    """Per-token CMSS of paired RGB/thermal tokens, normalised by the batch max.

    ``c = <a, b> / max(|a||b|, eps)``; ``r = sqrt(clamp((c + 1) / 2, 0, 1))``; ``m = r / den`` with
    ``den = max(var(a), floor) * max(var(b), floor)`` (``'paper'``) or ``max(var(b), floor) ** 2`` (``'released'``),
    ``var`` = unbiased variance over D; ``CMSS = m / max(max_batch m, max_floor)``. Low CMSS marks information-dense
    tokens, high CMSS flat background where both modalities agree.

    The variance follows from fp32 sums, so its relative error is about 1e-7 * (1 + mean^2 / var) per token: exact
    enough for tokens, not meant for tokens whose mean exceeds their standard deviation by more than ~1e3.

    Args:
        rgb_tokens (Tensor): (B, L, D) RGB tokens (patch embed + pos embed), fp32/fp16/bf16.
        thermal_tokens (Tensor): (B, L, D) thermal tokens, same shape.
        variant (str): ``'paper'`` (alias ``'product'``) or ``'released'`` (alias ``'thermal_squared'``).
        eps (float): floor of ``|a|·|b|`` in the cosine (zero vectors give cosine 0).
        var_floor (float, optional): floor of each variance; ``None`` keeps the released raw variance.
        max_floor (float, optional): floor of the normalising max; ``None`` divides by the raw max.
        reduce_max (bool): all-reduce (MAX) the batch max over ranks with ``mmengine.dist`` (a no-op when not
            distributed); False: the released per-GPU max.
        nonfinite (str): ``'replace'`` non-finite CMSS by 1.0 (flat), ``'raise'`` (device-side assert, no host
            sync; on CUDA it surfaces at a later launch) or ``'keep'``.
        return_stats (bool): also return ``dict(raw_max=, nonfinite=)`` (0-dim tensors on the input device;
            ``raw_max`` in float64).
        backend (str): ``'eager'`` or ``'compiled'`` (the same function through ``torch.compile``: one fused pass
            over the tokens; needs a C++ compiler on the CPU, Triton on CUDA; the first call compiles).

    Returns:
        Tensor | tuple[Tensor, dict]: (B, L) float32 CMSS in (0, 1] (0 only for exactly opposite tokens), detached.
    """
    if rgb_tokens.shape != thermal_tokens.shape or rgb_tokens.dim() != 3:
        raise ValueError('compute_cmss expects RGB and thermal tokens of the same shape (B, L, D); got '
                         f'{tuple(rgb_tokens.shape)} and {tuple(thermal_tokens.shape)}.')
    if rgb_tokens.shape[-1] < 2:
        raise ValueError(f'CMSS needs an unbiased variance over D >= 2 channels; got D = {rgb_tokens.shape[-1]}.')
    if nonfinite not in NONFINITE_MODES:
        raise ValueError(f'nonfinite must be one of {NONFINITE_MODES}; got {nonfinite!r}.')
    variant = canonical_cmss_variant(variant)
    function = _cmss_function(backend)

    with torch.no_grad():
        raw = function(rgb_tokens.detach(), thermal_tokens.detach(), variant, eps, var_floor)  # (B, L) float64
        finite = torch.isfinite(raw)
        if nonfinite == 'raise':
            torch._assert_async(finite.all(), 'CMSS is not finite (zero variance or non-finite tokens).')
        raw_max = torch.where(finite, raw, torch.zeros_like(raw)).amax()
        if reduce_max:
            dist.all_reduce(raw_max, op='max')
        divisor = raw_max.clamp_min(max_floor) if max_floor is not None else raw_max
        cmss = (raw / divisor).float()
        nonfinite_count = (~torch.isfinite(cmss)).sum()
        if nonfinite == 'replace':
            cmss = torch.where(torch.isfinite(cmss), cmss, torch.ones_like(cmss))
        elif nonfinite == 'raise':
            torch._assert_async(nonfinite_count == 0, 'CMSS normalisation produced NaN/inf.')

    if return_stats:
        return cmss, dict(raw_max=raw_max, nonfinite=nonfinite_count)
    return cmss


def sorted_quantiles(values: Tensor, quantiles: Sequence[float]) -> Tensor:
    """Linear-interpolation quantiles of all values (as ``torch.quantile``) without a host sync.

    Args:
        values (Tensor): any shape, at least one element.
        quantiles (Sequence[float]): levels in [0, 1].

    Returns:
        Tensor: (len(quantiles),) float32.
    """
    flat = values.detach().reshape(-1).float()
    num = flat.numel()
    if num == 0:
        raise ValueError('sorted_quantiles needs at least one value.')
    ordered = torch.sort(flat).values
    # Python-int indexing gives views and Python-float arithmetic launches kernels: no host-device copy.
    outputs = []
    for level in quantiles:
        position = level * (num - 1)
        low = int(position)
        high = min(low + 1, num - 1)
        outputs.append(ordered[low] + (position - low) * (ordered[high] - ordered[low]))
    return torch.stack(outputs)


def cmss_stats(cmss: Tensor,
               raw_max: Optional[Tensor] = None,
               nonfinite: Optional[Tensor] = None) -> Dict[str, Tensor]:
    """Logging statistics of a CMSS map, all 0-dim tensors, no ``.item()``.

    Args:
        cmss (Tensor): (B, L) CMSS map.
        raw_max (Tensor, optional): the normalising max from :func:`compute_cmss` (NaN if not given).
        nonfinite (Tensor, optional): the non-finite count from :func:`compute_cmss` (0 if not given).

    Returns:
        dict[str, Tensor]: keys ``raw_max, mean, std, p05, p50, p95, nonfinite``.
    """
    values = cmss.detach().float()
    std, mean = torch.std_mean(values.reshape(-1), correction=1 if values.numel() > 1 else 0)
    quantile_values = sorted_quantiles(values, CMSS_QUANTILES)
    if raw_max is None:
        raw_max = torch.full((), float('nan'), device=values.device)
    if nonfinite is None:
        nonfinite = torch.zeros((), device=values.device)
    return dict(
        raw_max=raw_max.detach().float(),
        mean=mean,
        std=std,
        p05=quantile_values[0],
        p50=quantile_values[1],
        p95=quantile_values[2],
        nonfinite=nonfinite.detach().float())
