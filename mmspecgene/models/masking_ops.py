# Copyright (c) mmspecgene contributors. All rights reserved.
"""Host-free building blocks of RGBT token masking (torch + ``mmengine.dist`` only, no host sync).

Greedy disjoint selection, mask outputs, interpolation, seeding and the checks shared by every masker.
"""
import math
from typing import Dict, Tuple

import torch
from mmengine import dist
from torch import Tensor

MODALITIES = ('rgb', 'thermal')
KEEP_TOLERANCE = 1e-6
_MASK64 = (1 << 64) - 1


def _splitmix64(value: int) -> int:
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


def mix_seed(*values: int) -> int:
    """Deterministic 63-bit seed from a tuple of ints (e.g. ``(seed, rank, iteration)``)."""
    state = 0x5EED
    for value in values:
        state = _splitmix64(state ^ (int(value) & _MASK64))
    return state >> 1


def noise_generator(seed: int, iteration: int, device: torch.device) -> torch.Generator:
    """Generator on ``device`` seeded from ``(seed, rank, iteration)``: a resumed run redraws the same noise."""
    generator = torch.Generator(device=device)
    generator.manual_seed(mix_seed(seed, dist.get_rank(), iteration))
    return generator


def keep_count(num_tokens: int, mask_ratio: float) -> int:
    """Kept tokens for a mask ratio, floored with a 1e-6 tolerance (196 × 0.25 → 49, 196 × 0.1 → 19)."""
    return int(math.floor(num_tokens * (1.0 - mask_ratio) + KEEP_TOLERANCE))


def check_token_pair(rgb_tokens: Tensor, thermal_tokens: Tensor, num_tokens: int, owner: str) -> None:
    """Raise unless both token sets are (B, ``num_tokens``, D) of the same shape."""
    if rgb_tokens.dim() != 3 or rgb_tokens.shape != thermal_tokens.shape:
        raise ValueError(f'{owner} expects RGB and thermal tokens of the same shape (B, L, D); got '
                         f'{tuple(rgb_tokens.shape)} and {tuple(thermal_tokens.shape)}.')
    if rgb_tokens.shape[1] != num_tokens:
        raise ValueError(f'{owner}: got L={rgb_tokens.shape[1]} tokens, configured for num_tokens={num_tokens}.')


def greedy_select(cmss: Tensor, noise_first: Tensor, noise_second: Tensor) -> Tuple[Tensor, Tensor]:
    """Greedy nearest-CMSS selection with cross-modal exclusion, batched over images.

    For slot ``l`` the first selector keeps, in every image at once, the still-unused position whose CMSS is
    nearest to ``noise_first[:, l]`` (lowest index on ties); then the second selector does the same with
    ``noise_second`` on the positions the first one left, so the two kept sets are disjoint. This is the released
    per-image loop with its 1e5/1e3 sentinels, index for index, as one batched min over (B, L) per slot.

    Args:
        cmss (Tensor): (B, L) CMSS map.
        noise_first (Tensor): (B, k_first) sampler draws of the first selector.
        noise_second (Tensor): (B, k_second) sampler draws of the second selector.

    Returns:
        tuple[Tensor, Tensor]: kept indices (B, k_first) and (B, k_second), long, in selection order.
    """
    batch_size, num_tokens = cmss.shape
    num_first, num_second = noise_first.shape[1], noise_second.shape[1]
    if num_first + num_second > num_tokens:
        raise ValueError(f'greedy_select: {num_first} + {num_second} kept tokens exceed L = {num_tokens}.')
    noise = torch.cat([noise_first, noise_second], dim=1).float()
    # (slots, B, L) distances at once; positions kept by either modality get +inf before each min.
    distances = (noise.t().unsqueeze(-1) - cmss.float().unsqueeze(0)).abs()
    used = torch.zeros((batch_size, num_tokens), dtype=distances.dtype, device=cmss.device)
    ids = []
    for slot in range(num_first + num_second):
        # min over a dim returns the first minimum (lowest index on ties), like argmin, and is faster on the CPU.
        index = (distances[slot] + used).min(dim=1, keepdim=True).indices
        used.scatter_(1, index, float('inf'))
        ids.append(index)
    ids = torch.cat(ids, dim=1)
    return ids[:, :num_first], ids[:, num_first:]


def interp(x: Tensor, xp: Tensor, fp: Tensor) -> Tensor:
    """``numpy.interp`` in torch (linear, clamped outside ``[xp[0], xp[-1]]``), no host sync.

    Args:
        x (Tensor): (M,) query points.
        xp (Tensor): (P,) ascending knots, P >= 2.
        fp (Tensor): (P,) values at the knots.

    Returns:
        Tensor: (M,) interpolated values.
    """
    num_knots = xp.numel()
    clamped = torch.minimum(torch.maximum(x, xp[0]), xp[-1])
    upper = torch.searchsorted(xp.contiguous(), clamped.contiguous(), right=True).clamp(1, num_knots - 1)
    x0, x1 = xp[upper - 1], xp[upper]
    y0, y1 = fp[upper - 1], fp[upper]
    span = x1 - x0
    weight = torch.where(span > 0, (clamped - x0) / torch.where(span > 0, span, torch.ones_like(span)),
                         torch.ones_like(span))
    return y0 + weight * (y1 - y0)


def build_mask_outputs(ids_keep: Tensor, num_tokens: int) -> Tuple[Tensor, Tensor, Tensor]:
    """Mask, ids_shuffle and ids_restore from kept indices.

    Args:
        ids_keep (Tensor): (B, k) kept indices in selection order.
        num_tokens (int): L.

    Returns:
        tuple[Tensor, Tensor, Tensor]: mask (B, L) float (1 = removed), ids_shuffle (B, L) long (kept indices,
        then the removed ones ascending), ids_restore (B, L) long (inverse permutation).
    """
    batch_size, num_keep = ids_keep.shape
    mask = torch.ones(batch_size, num_tokens, device=ids_keep.device)
    mask.scatter_(1, ids_keep, 0.0)
    # A stable sort of the mask lists the removed positions in ascending order after the kept ones.
    removed = torch.sort(mask, dim=1, stable=True).indices[:, num_keep:]
    ids_shuffle = torch.cat([ids_keep, removed], dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    return mask, ids_shuffle, ids_restore


def masking_outputs(ids_keep: Dict[str, Tensor], num_tokens: int) -> Dict[str, Tensor]:
    """The masker output dict from per-modality kept indices.

    Args:
        ids_keep (dict[str, Tensor]): ``rgb``/``thermal`` (B, k_m) kept indices in selection order.
        num_tokens (int): L.

    Returns:
        dict[str, Tensor]: ``{m}_mask`` (B, L) float (1 = removed), ``{m}_ids_keep`` (B, k_m),
        ``{m}_ids_shuffle`` and ``{m}_ids_restore`` (B, L) long, for m in ``rgb``, ``thermal``.
    """
    outputs = {}
    for modality in MODALITIES:
        mask, ids_shuffle, ids_restore = build_mask_outputs(ids_keep[modality], num_tokens)
        outputs[f'{modality}_mask'] = mask
        outputs[f'{modality}_ids_keep'] = ids_keep[modality]
        outputs[f'{modality}_ids_shuffle'] = ids_shuffle
        outputs[f'{modality}_ids_restore'] = ids_restore
    return outputs


def visible_overlap(outputs: Dict[str, Tensor]) -> Tensor:
    """(B,) positions visible in both modalities."""
    return ((1 - outputs['rgb_mask']) * (1 - outputs['thermal_mask'])).sum(dim=1)


def assert_masks_valid(outputs: Dict[str, Tensor], disjoint: bool, owner: str) -> None:
    """Device-side check (``torch._assert_async``, no host sync) of the masker outputs.

    Kept counts equal the budgets (so the kept indices are unique and every ids_shuffle is a permutation) and,
    with ``disjoint``, no position is visible in both modalities. On CUDA a failure surfaces at a later launch.
    """
    valid = torch.ones((), dtype=torch.bool, device=outputs['rgb_mask'].device)
    for modality in MODALITIES:
        kept = (outputs[f'{modality}_mask'] == 0).sum(dim=1)
        valid = valid & (kept == outputs[f'{modality}_ids_keep'].shape[1]).all()
    if disjoint:
        valid = valid & (visible_overlap(outputs) == 0).all()
    torch._assert_async(valid, f'{owner}: kept counts differ from the budgets or the RGB and thermal visible sets '
                        'overlap (duplicate or shared kept indices).')
