# Copyright (c) mmspecgene contributors. All rights reserved.
"""Cross-Modality Structural Sparsity (CMSS) metric (SPEC §4).

Host-free: torch and mmengine (``dist``, ``print_log``) only. Nothing here synchronises the host with the device:
every result (including counts and statistics) is a tensor. Two backends compute the same per-token moments: eager
torch ops, and one fused ``torch.compile`` kernel that reads the tokens once (``backend`` of :func:`compute_cmss`).
"""
import contextlib
import logging
from typing import Callable, Dict, Iterator, Optional, Sequence, Tuple, Union

import torch
from mmengine import dist
from mmengine.logging import print_log
from torch import Tensor

# Accepted spellings of the two denominators. Canonical names follow the brief ('paper', 'released'); the SPEC
# option names ('product', 'thermal_squared') are aliases.
CMSS_VARIANTS = {
    'paper': 'paper',
    'product': 'paper',
    'released': 'released',
    'thermal_squared': 'released',
}
NONFINITE_MODES = ('replace', 'raise', 'keep')
# CPU, separate or non-fp32 inputs: tokens are copied in blocks of about this many bytes (both modalities, fp32).
CPU_BLOCK_BYTES = 16 << 20
CMSS_QUANTILES = (0.05, 0.5, 0.95)
# 'eager': torch ops; 'compiled': one fused pass over the tokens (torch.compile); 'auto': compiled on the CPU from
# COMPILE_MIN_ELEMENTS tokens x channels per modality (ViT-B/16 at B = 128: 19.3 M), where a pass over the tokens
# costs milliseconds and the one-off compile (seconds) pays for itself, eager elsewhere.
CMSS_BACKENDS = ('auto', 'eager', 'compiled')
COMPILE_MIN_ELEMENTS = 1 << 22


@contextlib.contextmanager
def single_threaded_on_cpu(device: torch.device) -> Iterator[None]:
    """Run many small CPU ops with one intra-op thread (restored afterwards; no effect on other devices).

    Ops on a few 10^4 - 10^6 elements gain little from a second thread but each parallel region waits for all
    threads: on a loaded machine that wait dominates (measured 4-6x slower masking with 2 threads under load).
    """
    num_threads = torch.get_num_threads()
    if device.type != 'cpu' or num_threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(num_threads)


def canonical_cmss_variant(variant: str) -> str:
    """Return ``'paper'`` or ``'released'`` for any accepted variant name."""
    if variant not in CMSS_VARIANTS:
        raise ValueError(f'Unknown CMSS variant {variant!r}; expected one of {sorted(CMSS_VARIANTS)} '
                         "('paper'/'product': RGB variance x thermal variance, "
                         "'released'/'thermal_squared': thermal variance squared).")
    return CMSS_VARIANTS[variant]


def _joint_view(rgb: Tensor, thermal: Tensor) -> Optional[Tensor]:
    """(N, 2, D) view over both modalities when they are two contiguous slices of one storage, else None.

    This is the usual layout: a Siamese encoder embeds the (2B, 3, H, W) batch at once and splits the (2B, L, D)
    tokens into two halves. Only metadata is read (no device access).
    """
    if not (rgb.is_contiguous() and thermal.is_contiguous() and rgb.dtype == thermal.dtype
            and rgb.device == thermal.device):
        return None
    if rgb.untyped_storage().data_ptr() != thermal.untyped_storage().data_ptr():
        return None
    offset = thermal.storage_offset() - rgb.storage_offset()
    if offset <= 0:
        return None
    num_dims = rgb.shape[-1]
    return rgb.as_strided((rgb.numel() // num_dims, 2, num_dims), (num_dims, offset, 1))


def _gram_to_moments(gram: Tensor, moments: Tensor) -> None:
    """Copy (n, 2, 2) Gram matrices [[aa, ab], [ab, bb]] into rows 2-4 (aa, bb, ab) of the (5, n) moments."""
    moments[2].copy_(gram[:, 0, 0])
    moments[3].copy_(gram[:, 1, 1])
    moments[4].copy_(gram[:, 0, 1])


def _row_moments(rgb: Tensor, thermal: Tensor) -> Tensor:
    """Per-token [sum(a), sum(b), sum(a^2), sum(b^2), sum(ab)] as fp32 reductions over D.

    No (..., D) temporary. CPU: row sums and one batched 2x2 Gram matrix per token (``bmm``), read directly when both
    modalities are fp32 halves of one storage (the Siamese layout), else through a reused fp32 buffer of about
    ``CPU_BLOCK_BYTES`` (which also converts fp16/bf16). Other devices: fp32 sums and ``vecdot``, which never uses
    TF32 even when TF32 matmuls are enabled.

    Returns:
        Tensor: (5, ...) float64, the batch shape of the inputs without D.
    """
    num_dims = rgb.shape[-1]
    batch_shape = tuple(rgb.shape[:-1])
    num_rows = rgb.numel() // num_dims
    moments = torch.empty((5, num_rows), dtype=torch.float32, device=rgb.device)
    joint = _joint_view(rgb, thermal) if rgb.device.type == 'cpu' and rgb.dtype == torch.float32 else None
    if joint is not None:
        # Both modalities in one storage (the Siamese layout): one row sum over both halves when they are adjacent,
        # and one batched 2x2 Gram matrix per token.
        if joint.stride(1) == num_rows * num_dims:
            # A row sum runs on all threads and is about twice as fast as a GEMV with a ones vector.
            flat = rgb.as_strided((2 * num_rows, num_dims), (num_dims, 1))
            torch.sum(flat, dim=-1, out=moments[:2].view(-1))
        else:
            moments[:2] = joint.sum(dim=-1).t()
        _gram_to_moments(torch.bmm(joint, joint.transpose(1, 2)), moments)
    elif rgb.device.type == 'cpu':
        rgb_rows, thermal_rows = rgb.reshape(num_rows, num_dims), thermal.reshape(num_rows, num_dims)
        block_rows = max(1, CPU_BLOCK_BYTES // (2 * num_dims * 4))
        buffer = torch.empty((min(block_rows, num_rows), 2, num_dims), dtype=torch.float32)
        # Separate tensors (or fp16/bf16): copy blocks of tokens into one reused fp32 buffer, then reduce each
        # block. A loop over blocks (10 for B=128, L=196, D=768), not over tokens; one thread, because the many
        # parallel regions of a two-thread loop stall on a loaded machine (measured 5x slower there).
        with single_threaded_on_cpu(rgb.device):
            for start in range(0, num_rows, block_rows):
                stop = min(start + block_rows, num_rows)
                block = buffer[:stop - start]
                block[:, 0].copy_(rgb_rows[start:stop])
                block[:, 1].copy_(thermal_rows[start:stop])
                moments[:2, start:stop] = block.sum(dim=-1).t()
                _gram_to_moments(torch.bmm(block, block.transpose(1, 2)), moments[:, start:stop])
    else:
        rgb_rows = rgb.reshape(num_rows, num_dims).float()
        thermal_rows = thermal.reshape(num_rows, num_dims).float()
        torch.sum(rgb_rows, dim=-1, out=moments[0])
        torch.sum(thermal_rows, dim=-1, out=moments[1])
        moments[2] = torch.linalg.vecdot(rgb_rows, rgb_rows, dim=-1)
        moments[3] = torch.linalg.vecdot(thermal_rows, thermal_rows, dim=-1)
        moments[4] = torch.linalg.vecdot(rgb_rows, thermal_rows, dim=-1)
    return moments.double().view((5, ) + batch_shape)


def _raw_cmss(moments: Tensor, num_dims: int, variant: str, eps: float, var_floor: Optional[float]) -> Tensor:
    """Unnormalised CMSS ``r / den`` from (5, ...) float64 moments (see :func:`_row_moments`); shape (...)."""
    sums, squares, dot = moments[:2], moments[2:4], moments[4]
    # In place on fresh (2, ...) / (...) float64 tensors: eagerly these are many small ops, allocations count.
    variances = torch.sub(squares, sums.square().div_(num_dims)).div_(num_dims - 1)  # (2, ...)
    variances.clamp_min_(0.0 if var_floor is None else max(var_floor, 0.0))
    norm_prod = torch.mul(squares[0], squares[1]).sqrt_().clamp_min_(eps)
    ratio = torch.div(dot, norm_prod).add_(1).mul_(0.5).clamp_(0.0, 1.0).sqrt_()
    if variant == 'paper':
        denominator = torch.mul(variances[0], variances[1])
    else:
        denominator = variances[1].square()
    return ratio.div_(denominator)


def _fused_raw_cmss(rgb_rows: Tensor, thermal_rows: Tensor, variant: str, eps: float,
                    var_floor: Optional[float]) -> Tensor:
    """(N,) unnormalised CMSS of (N, D) token rows, written for ``torch.compile``.

    Compiled, the five fp32 row reductions (sum a, sum b, sum a^2, sum b^2, sum ab) read each token once and the
    float64 epilogue fuses into the same kernel. Run eagerly it would allocate (N, D) products: use
    :func:`_row_moments` there.
    """
    rgb, thermal = rgb_rows.float(), thermal_rows.float()
    moments = torch.stack([
        rgb.sum(dim=-1),
        thermal.sum(dim=-1),
        (rgb * rgb).sum(dim=-1),
        (thermal * thermal).sum(dim=-1),
        (rgb * thermal).sum(dim=-1)
    ]).double()
    return _raw_cmss(moments, rgb_rows.shape[-1], variant, eps, var_floor)


class _CompiledCMSS:
    """The compiled :func:`_fused_raw_cmss`, built on first use; remembers a failed compile (``error``)."""
    function: Optional[Callable[..., Tensor]] = None
    error: Optional[str] = None

    @classmethod
    def get(cls) -> Callable[..., Tensor]:
        if cls.function is None:
            print_log('compute_cmss: compiling the fused CMSS kernel (torch.compile, once per process).',
                      logger='current')
            # Dynamic shapes: one compiled kernel for every batch size and token count.
            cls.function = torch.compile(_fused_raw_cmss, dynamic=True)
        return cls.function


def resolve_cmss_backend(backend: str, tokens: Tensor) -> str:
    """The backend ``'eager'`` or ``'compiled'`` that :func:`compute_cmss` uses for ``tokens`` (one modality)."""
    if backend not in CMSS_BACKENDS:
        raise ValueError(f'Unknown CMSS backend {backend!r}; expected one of {CMSS_BACKENDS}.')
    if backend != 'auto':
        return backend
    if (tokens.device.type == 'cpu' and tokens.numel() >= COMPILE_MIN_ELEMENTS and _CompiledCMSS.error is None):
        return 'compiled'
    return 'eager'


def _unnormalised_cmss(rgb: Tensor, thermal: Tensor, backend: str, variant: str, eps: float,
                       var_floor: Optional[float]) -> Tensor:
    """(B, L) float64 ``r / den`` with the requested backend; ``'auto'`` falls back to eager if compiling fails."""
    num_dims = rgb.shape[-1]
    if resolve_cmss_backend(backend, rgb) == 'compiled':
        try:
            raw = _CompiledCMSS.get()(rgb.reshape(-1, num_dims), thermal.reshape(-1, num_dims), variant, eps,
                                      var_floor)
            return raw.view(rgb.shape[:-1])
        except Exception as error:  # a missing C++ compiler, an unsupported platform, ...
            if backend == 'compiled':
                raise RuntimeError(f"compute_cmss(backend='compiled'): torch.compile of the fused CMSS kernel "
                                   f"failed: {error!r}. Use backend='eager' (or 'auto').") from error
            _CompiledCMSS.error = repr(error)
            print_log(
                f'compute_cmss: torch.compile of the fused CMSS kernel failed ({error!r}); the eager CMSS '
                '(two passes over the tokens) is used from now on.',
                logger='current',
                level=logging.WARNING)
    moments = _row_moments(rgb, thermal)  # all threads: passes over the tokens
    with single_threaded_on_cpu(rgb.device):  # small ops on (5, B, L)
        return _raw_cmss(moments, num_dims, variant, eps, var_floor)


def compute_cmss(rgb_tokens: Tensor,
                 thermal_tokens: Tensor,
                 variant: str = 'paper',
                 eps: float = 1e-8,
                 var_floor: Optional[float] = 1e-6,
                 max_floor: Optional[float] = 1e-12,
                 reduce_max: Optional[bool] = None,
                 nonfinite: str = 'replace',
                 return_stats: bool = False,
                 backend: str = 'auto') -> Union[Tensor, Tuple[Tensor, Dict[str, Tensor]]]:
    """Per-token CMSS of paired RGB/thermal tokens (SPEC §4).

    ``c = <a, b> / max(|a||b|, eps)``; ``r = sqrt(clamp((c + 1) / 2, 0, 1))``; ``m = r / den`` with
    ``den = max(var(a), floor) * max(var(b), floor)`` (``'paper'``) or ``max(var(b), floor) ** 2`` (``'released'``),
    ``var`` = unbiased variance over D; ``CMSS = m / max(max_batch m, max_floor)``.

    Computed from fp32/fp16/bf16 inputs as five fp32 row reductions (sum a, sum b, sum a^2, sum b^2, sum ab)
    combined in float64, on detached tensors; no Python loop, no host sync, no (B, L, D) temporary. The variance
    follows from the sums, so its relative error is about 1e-7 * (1 + mean^2 / var) per token: exact enough for
    tokens (and exactly 0 for constant tokens up to |value| ~ 1e3), but not meant for tokens whose mean exceeds
    their standard deviation by more than ~1e3.

    Args:
        rgb_tokens (Tensor): (B, L, D) RGB tokens (patch embed + pos embed).
        thermal_tokens (Tensor): (B, L, D) thermal tokens, same shape.
        variant (str): ``'paper'`` (alias ``'product'``) or ``'released'`` (alias ``'thermal_squared'``).
        eps (float): floor of ``|a|·|b|`` in the cosine (zero vectors give cosine 0).
        var_floor (float, optional): floor of each variance; ``None`` keeps the released raw variance.
        max_floor (float, optional): floor of the normalising max; ``None`` divides by the raw max.
        reduce_max (bool, optional): all-reduce (MAX) the batch max over ranks with ``mmengine.dist`` (a no-op
            when not distributed). ``None`` means True (clean mode); pass False for the released local max.
        nonfinite (str): ``'replace'`` non-finite CMSS by 1.0 (flat), ``'raise'`` (device-side assert, no host
            sync; on CUDA it surfaces at a later launch) or ``'keep'``.
        return_stats (bool): also return ``dict(raw_max=, nonfinite=)`` (0-dim tensors on the input device;
            ``raw_max`` in float64).
        backend (str): ``'eager'`` (torch ops: two passes over the tokens on the CPU), ``'compiled'`` (one fused
            pass, ``torch.compile``; needs a C++ compiler on the CPU, Triton on CUDA; the first call compiles for
            seconds) or ``'auto'``: compiled on the CPU from ``COMPILE_MIN_ELEMENTS`` elements per modality, eager
            otherwise, and eager from then on (with a warning) if compiling fails.

    Returns:
        Tensor | tuple[Tensor, dict]: (B, L) float32 CMSS in (0, 1] (0 only for exactly opposite tokens).
    """
    if rgb_tokens.shape != thermal_tokens.shape or rgb_tokens.dim() != 3:
        raise ValueError('compute_cmss expects RGB and thermal tokens of the same shape (B, L, D); got '
                         f'{tuple(rgb_tokens.shape)} and {tuple(thermal_tokens.shape)}.')
    num_dims = rgb_tokens.shape[-1]
    if num_dims < 2:
        raise ValueError(f'CMSS needs an unbiased variance over D >= 2 channels; got D = {num_dims}.')
    if nonfinite not in NONFINITE_MODES:
        raise ValueError(f'nonfinite must be one of {NONFINITE_MODES}; got {nonfinite!r}.')
    variant = canonical_cmss_variant(variant)
    if reduce_max is None:
        reduce_max = True

    with torch.no_grad():
        rgb, thermal = rgb_tokens.detach(), thermal_tokens.detach()
        raw = _unnormalised_cmss(rgb, thermal, backend, variant, eps, var_floor)  # (B, L) float64
    with torch.no_grad(), single_threaded_on_cpu(rgb.device):
        finite = torch.isfinite(raw)
        if nonfinite == 'raise':
            torch._assert_async(finite.all(),
                                'CMSS is not finite (zero variance or non-finite tokens) in faithful mode.')
        raw_max = torch.where(finite, raw, torch.zeros_like(raw)).amax()
        if reduce_max:
            dist.all_reduce(raw_max, op='max')
        divisor = raw_max.clamp_min(max_floor) if max_floor is not None else raw_max
        cmss = (raw / divisor).float()
        nonfinite_count = (~torch.isfinite(cmss)).sum()
        if nonfinite == 'replace':
            cmss = torch.where(torch.isfinite(cmss), cmss, torch.ones_like(cmss))
        elif nonfinite == 'raise':
            torch._assert_async(nonfinite_count == 0, 'CMSS normalisation produced NaN/inf in faithful mode.')

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
    """Logging statistics of a CMSS map (SPEC §5.5), all 0-dim tensors, no ``.item()``.

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
