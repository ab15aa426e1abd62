# Copyright (c) mmspecgene contributors. All rights reserved.
"""GMM-CMSS progressive masking (SPEC §5), host-free (torch + ``mmengine.dist`` only).

Per-iteration API, called by the pretraining algorithm with plain Python ints from the runner::

    masker = GMMCMSSMasking(mode='clean')                # default: released ViT-B/16 setting
    masker.set_schedule(max_epochs)                      # once (or pass ``total_ticks``); E = one tick per epoch
    for cur_iter in range(max_iters):                    # every training iteration, on every rank:
        masker.set_progress(cur_iter, max_iters)         # before the forward; ``cur_iter`` is 0-based, global
        out = masker(rgb_tokens, thermal_tokens)         # (B, L, D) each -> masks / ids (see ``forward``)
        ...                                              # encoder, decoder, per-modality losses
        masker.update_losses(loss_rgb.detach(), loss_thermal.detach())   # clean mode: applies due ticks
        scalars = masker.log_vars()                      # SPEC §5.5 keys, 0-dim tensors, no host sync

Nothing in ``forward``/``update_losses``/``log_vars`` synchronises the host with the device, except at a curriculum
tick (about once per epoch), where the few curriculum scalars are read once on the host to update the centres and
the (Python int) keep counts. All state lives in persistent buffers (SPEC §5.1): ``state_dict()`` saves it and
``load_state_dict()`` restores it, including the Python mirrors.
"""
import math
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine import dist
from torch import Tensor

from .cmss import CMSS_BACKENDS, canonical_cmss_variant, cmss_stats, compute_cmss, single_threaded_on_cpu

MASKING_MODES = ('clean', 'faithful', 'random')
MIXTURE_ASSIGNMENTS = ('per_image', 'per_token')
SELECTORS = ('thermal', 'rgb')
SINGULAR_ACTIONS = ('raise', 'freeze')

# Released curriculum constants (faithful mode only, SPEC §5.2 item 8).
FAITHFUL_EASY_END = 50
FAITHFUL_HARD_END = 101
# Dummy sampling component (SPEC §5.2 item 3).
DUMMY_MEAN = 0.0
DUMMY_VAR = 0.01
# A component whose responsibility mass is below this fraction of the data keeps its parameters (SPEC §5.3 item 4).
MIN_COMPONENT_MASS = 1e-8
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


def keep_count(num_tokens: int, mask_ratio: float) -> int:
    """Kept tokens for a mask ratio, floored with a 1e-6 tolerance (196 × 0.25 → 49, 196 × 0.1 → 19)."""
    return int(math.floor(num_tokens * (1.0 - mask_ratio) + KEEP_TOLERANCE))


def greedy_select(cmss: Tensor, noise_first: Tensor, noise_second: Tensor) -> Tuple[Tensor, Tensor]:
    """Vectorised greedy nearest-CMSS selection with cross-modal exclusion (SPEC §5.2 item 5, §5.3 item 9).

    For slot ``l`` the first selector keeps, in every image at once, the still-unused position whose CMSS is
    nearest to ``noise_first[:, l]`` (lowest index on ties); then the second selector does the same with
    ``noise_second`` on the positions the first one left. One batched min over (B, L) per slot, k_first + k_second
    slots (38 with the released setting, at most 28 per modality).

    Args:
        cmss (Tensor): (B, L) CMSS map.
        noise_first (Tensor): (B, k_first) sampler draws of the first selector.
        noise_second (Tensor): (B, k_second) sampler draws of the second selector.

    Returns:
        tuple[Tensor, Tensor]: kept indices (B, k_first) and (B, k_second), long, in selection order.
    """
    batch_size, num_tokens = cmss.shape
    if noise_first.shape[1] + noise_second.shape[1] > num_tokens:
        raise ValueError(f'greedy_select: {noise_first.shape[1]} + {noise_second.shape[1]} kept tokens exceed '
                         f'L = {num_tokens}.')
    num_first = noise_first.shape[1]
    noise = torch.cat([noise_first, noise_second], dim=1).float()
    num_slots = noise.shape[1]
    # (k_first + k_second, B, L) distances, one contiguous slice per slot, computed at once. Used positions (of
    # either modality: the cross-modal exclusion) carry +inf in a (B, L) penalty that is added before each min.
    distances = (noise.t().contiguous().unsqueeze(-1) - cmss.float().unsqueeze(0)).abs_()
    penalty = torch.zeros((batch_size, num_tokens), dtype=distances.dtype, device=cmss.device)
    current = torch.empty_like(penalty)
    values = torch.empty((batch_size, 1), dtype=distances.dtype, device=cmss.device)
    ids = torch.empty((num_slots, batch_size, 1), dtype=torch.long, device=cmss.device)
    for slot in range(num_slots):  # preallocated outputs: these ops are small, allocations count
        torch.add(distances[slot], penalty, out=current)
        # min(dim) returns the first minimal index (lowest position on ties), like argmin, and is faster on CPU.
        torch.min(current, dim=1, keepdim=True, out=(values, ids[slot]))
        penalty.scatter_(1, ids[slot], float('inf'))
    ids = ids.view(num_slots, batch_size).t()
    return ids[:, :num_first].contiguous(), ids[:, num_first:].contiguous()


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
    """Mask, ids_shuffle and ids_restore from kept indices (SPEC §5.2 item 6).

    Args:
        ids_keep (Tensor): (B, k) kept indices in selection order.
        num_tokens (int): L.

    Returns:
        tuple[Tensor, Tensor, Tensor]: mask (B, L) float (1 = removed), ids_shuffle (B, L) long (kept indices,
        then the removed ones ascending), ids_restore (B, L) long (inverse permutation).
    """
    batch_size, num_keep = ids_keep.shape
    device = ids_keep.device
    mask = torch.ones(batch_size, num_tokens, device=device)
    mask.scatter_(1, ids_keep, 0.0)
    removed = mask.bool()
    # A removed position goes to slot k + (removed positions before it); kept positions go to a spare last column
    # that is dropped (no sort needed).
    slots = torch.where(removed, torch.cumsum(removed, dim=1) + (num_keep - 1), num_tokens)
    positions = torch.arange(num_tokens, device=device).expand(batch_size, num_tokens)
    ids_shuffle = torch.empty((batch_size, num_tokens + 1), dtype=torch.long, device=device)
    ids_shuffle[:, :num_keep] = ids_keep
    ids_shuffle.scatter_(1, slots, positions)
    ids_shuffle = ids_shuffle[:, :num_tokens].contiguous()
    ids_restore = torch.empty_like(ids_shuffle).scatter_(1, ids_shuffle, positions)
    return mask, ids_shuffle, ids_restore


class GMMCMSSMasking(nn.Module):
    """GMM-CMSS progressive masking of paired RGB/thermal tokens (SPEC §5).

    One call masks both modalities: each keeps a budget of tokens chosen greedily so that their CMSS follows a
    sampler built from a 1-D GMM fitted (one warm-started EM step per call) to the CMSS map; a per-epoch curriculum
    moves the sampling centres from dense to sparse tokens and shifts tokens between modalities by their loss gap.

    Modes:
        * ``'clean'`` (default): SPEC §5.3 — rank-consistent GMM (all-reduced float64 sufficient statistics),
          all-reduced CMSS max, smoothed all-reduced loss gap, clamped biases, schedule from the run length,
          frozen after E ticks.
        * ``'faithful'``: SPEC §5.4 — released behaviour (per-rank GMM and local max, last-batch loss gap,
          overshooting biases, counter tick every ``ceil(tick_every)`` calls, 50/101 constants); NaN/inf and
          invalid budgets raise; the singular tick 101 raises or freezes (``on_singular``).
        * ``'random'``: plain MAE random masking, independent per modality, ``keep_count(L, mask_ratio)`` each.

    Call API (plain Python ints from the runner, no tensors):
        * ``set_schedule(total_ticks)``: E (ticks over the run), once; default E = the run's max_epochs.
        * ``set_progress(cur_iter, max_iters, max_epochs=None)``: every iteration before ``forward``;
          ``cur_iter`` is the 0-based global iteration, ``max_iters`` the run's total iterations. It also seeds the
          noise (``mix_seed(curriculum_seed, rank, cur_iter)``) so a resumed run reproduces the masks.
        * ``forward(rgb_tokens, thermal_tokens)``: see below.
        * ``update_losses(loss_rgb, loss_thermal)``: every iteration after the losses (detached 0-dim tensors);
          in clean mode it applies the ticks due at the end of ``cur_iter``: ``floor(E (cur_iter + 1) / max_iters)``.
        * ``log_vars()``: SPEC §5.5 scalars. Keys containing ``loss`` must not go through mmengine's
          ``parse_losses`` (it sums every key containing 'loss'): merge them into the log dict afterwards.

    Args:
        num_tokens (int): L. Default 196 (224 / 16 squared).
        mask_ratio (float): base mask ratio r; base keep k0 = floor(L (1 - r) + 1e-6). Default 0.90 → 19.
        max_mask_ratio (float): cap of the keep-bias: b_max = min(floor(L (r_max - r) + 1e-6), k0 - 1) = 9.
        num_components (int): GMM components K (also the number of centres). Default 3.
        total_ticks (int, optional): E; None = set later by ``set_schedule`` / ``set_progress(max_epochs=...)``.
            Ignored in faithful mode (50/101 constants).
        mode (str): ``'clean'`` | ``'faithful'`` | ``'random'``.
        cmss_variant (str, optional): ``'paper'``/``'released'`` (aliases ``'product'``/``'thermal_squared'``);
            None = ``'paper'`` in clean/random mode, ``'released'`` in faithful mode.
        mixture_assignment (str): ``'per_image'`` (released: unshuffled draws, one centre per image) or
            ``'per_token'`` (shuffled draws).
        loss_ema (float): β of the loss EMA (clean mode).
        keep_gain (float): tokens of keep-bias per unit loss gap. Default 10.
        centre_gain (float): centre-bias per unit loss gap. Default 0.1.
        centre_bias_cap (float): |centre_bias| cap. Default 0.1.
        var_floor (float): floor of GMM variances and of the CMSS token variances (clean mode).
        curriculum_seed (int): seed of the GMM init (shared by all ranks in clean mode, + rank in faithful mode)
            and of the noise stream.
        first_selector (str): ``'thermal'`` (released) or ``'rgb'``: selects first, gets +centre_bias, loses tokens
            when the other modality's loss is higher.
        tick_every (float): faithful clock period in calls (tick when the counter exceeds it). Release 267.69.
        on_singular (str): faithful mode at tick 101: ``'raise'`` or ``'freeze'``.
        check_sync_every (int): debug, clean mode: every n calls assert identical state buffers on all ranks
            (host sync). 0 = off.
        check_invariants (bool): per-call device-side asserts (no host sync) that kept counts match the budgets
            and the visible sets are disjoint (so each ids_shuffle is a permutation). On CUDA a violation surfaces
            as a device-side assert at a later launch.
        cmss_backend (str): ``'auto'`` | ``'eager'`` | ``'compiled'``, see :func:`compute_cmss` (``'auto'``: one
            fused ``torch.compile`` pass over the tokens on the CPU for large batches, eager torch ops otherwise).
    """

    def __init__(self,
                 num_tokens: int = 196,
                 mask_ratio: float = 0.90,
                 max_mask_ratio: float = 0.95,
                 num_components: int = 3,
                 total_ticks: Optional[int] = None,
                 mode: str = 'clean',
                 cmss_variant: Optional[str] = None,
                 mixture_assignment: str = 'per_image',
                 loss_ema: float = 0.98,
                 keep_gain: float = 10.0,
                 centre_gain: float = 0.1,
                 centre_bias_cap: float = 0.1,
                 var_floor: float = 1e-6,
                 curriculum_seed: int = 0,
                 first_selector: str = 'thermal',
                 tick_every: float = 267.69,
                 on_singular: str = 'raise',
                 check_sync_every: int = 0,
                 check_invariants: bool = True,
                 cmss_backend: str = 'auto') -> None:
        super().__init__()
        if mode not in MASKING_MODES:
            raise ValueError(f'GMMCMSSMasking: mode={mode!r}; expected one of {MASKING_MODES}.')
        if mixture_assignment not in MIXTURE_ASSIGNMENTS:
            raise ValueError(f'GMMCMSSMasking: mixture_assignment={mixture_assignment!r}; expected one of '
                             f'{MIXTURE_ASSIGNMENTS}.')
        if first_selector not in SELECTORS:
            raise ValueError(f'GMMCMSSMasking: first_selector={first_selector!r}; expected one of {SELECTORS}.')
        if cmss_backend not in CMSS_BACKENDS:
            raise ValueError(f'GMMCMSSMasking: cmss_backend={cmss_backend!r}; expected one of {CMSS_BACKENDS}.')
        if on_singular not in SINGULAR_ACTIONS:
            raise ValueError(f'GMMCMSSMasking: on_singular={on_singular!r}; expected one of {SINGULAR_ACTIONS}.')
        if not 0.0 < mask_ratio < 1.0:
            raise ValueError(f'GMMCMSSMasking: mask_ratio={mask_ratio} must lie in (0, 1).')
        if not mask_ratio <= max_mask_ratio < 1.0:
            raise ValueError(f'GMMCMSSMasking: max_mask_ratio={max_mask_ratio} must lie in [mask_ratio, 1).')
        if num_components < 1:
            raise ValueError(f'GMMCMSSMasking: num_components={num_components} must be >= 1.')
        if not 0.0 <= loss_ema < 1.0:
            raise ValueError(f'GMMCMSSMasking: loss_ema={loss_ema} must lie in [0, 1).')
        if tick_every <= 0:
            raise ValueError(f'GMMCMSSMasking: tick_every={tick_every} must be > 0.')
        if var_floor <= 0:
            raise ValueError(f'GMMCMSSMasking: var_floor={var_floor} must be > 0.')
        if total_ticks is not None and int(total_ticks) < 0:
            raise ValueError(f'GMMCMSSMasking: total_ticks={total_ticks} must be >= 0.')

        self.num_tokens = int(num_tokens)
        self.mask_ratio = float(mask_ratio)
        self.max_mask_ratio = float(max_mask_ratio)
        self.num_components = int(num_components)
        self.mode = mode
        self.cmss_variant = canonical_cmss_variant(
            cmss_variant if cmss_variant is not None else ('released' if mode == 'faithful' else 'paper'))
        self.mixture_assignment = mixture_assignment
        self.loss_ema = float(loss_ema)
        self.keep_gain = float(keep_gain)
        self.centre_gain = float(centre_gain)
        self.centre_bias_cap = float(centre_bias_cap)
        self.var_floor = float(var_floor)
        self.curriculum_seed = int(curriculum_seed)
        self.first_selector = first_selector
        self.second_selector = 'rgb' if first_selector == 'thermal' else 'thermal'
        self.tick_every = float(tick_every)
        self.on_singular = on_singular
        self.check_sync_every = int(check_sync_every)
        self.check_invariants = bool(check_invariants)
        self.cmss_backend = cmss_backend
        self.total_ticks = None if total_ticks is None else int(total_ticks)

        self.base_keep = keep_count(self.num_tokens, self.mask_ratio)
        if self.base_keep < 1:
            raise ValueError(f'GMMCMSSMasking: mask_ratio={mask_ratio} keeps no token of L={num_tokens}.')
        bias_room = int(math.floor(self.num_tokens * (self.max_mask_ratio - self.mask_ratio) + KEEP_TOLERANCE))
        # Clean: the clamp guarantees 1 <= k and k_first + k_second = 2 k0 <= L. Faithful: the released cap.
        self.max_keep_bias = min(bias_room, self.base_keep - 1) if mode != 'faithful' else bias_room
        if 2 * self.base_keep > self.num_tokens:
            raise ValueError(f'GMMCMSSMasking: two modalities keeping {self.base_keep} tokens each cannot be '
                             f'disjoint in L={self.num_tokens} (mask_ratio={mask_ratio} must be >= 0.5).')

        rank = dist.get_rank()
        init_seed = self.curriculum_seed + (rank if mode == 'faithful' else 0)
        generator = torch.Generator().manual_seed(init_seed)
        num = self.num_components
        f64 = torch.float64
        self.register_buffer('gmm_mean', torch.rand(num, generator=generator, dtype=f64))
        self.register_buffer('gmm_var', torch.ones(num, dtype=f64))
        self.register_buffer('gmm_weight', torch.full((num, ), 1.0 / num, dtype=f64))
        self.register_buffer('centres', torch.zeros(num, dtype=f64))
        self.register_buffer('num_centres', torch.ones((), dtype=torch.long))
        self.register_buffer('keep_bias', torch.zeros((), dtype=f64))
        self.register_buffer('centre_bias', torch.zeros((), dtype=f64))
        self.register_buffer('tick', torch.zeros((), dtype=torch.long))
        # clean/random: iterations completed (cur_iter + 1 of the last update_losses); faithful: the released
        # call counter within the current tick.
        self.register_buffer('last_iter', torch.zeros((), dtype=torch.long))
        self.register_buffer('num_calls', torch.zeros((), dtype=torch.long))
        self.register_buffer('loss_ema_rgb', torch.zeros((), dtype=f64))
        self.register_buffer('loss_ema_thermal', torch.zeros((), dtype=f64))
        self.register_buffer('ema_initialised', torch.zeros((), dtype=torch.bool))

        # Python mirrors of the integer state (never read from the device per iteration).
        self._tick = 0
        self._num_centres = 1
        self._last_iter = 0
        self._num_calls = 0
        self._keep = self._keep_counts(0.0)
        self._cur_iter: Optional[int] = None
        self._max_iters: Optional[int] = None
        self._last_cmss: Optional[Tuple[Tensor, Dict[str, Tensor]]] = None
        self._last_overlap: Optional[Tensor] = None
        self._last_losses: Optional[Tensor] = None

    # ------------------------------------------------------------------ schedule API
    def set_schedule(self, total_ticks: int) -> None:
        """Set E, the number of curriculum ticks over the run (normally the run's max_epochs)."""
        if int(total_ticks) < 0:
            raise ValueError(f'GMMCMSSMasking.set_schedule: total_ticks={total_ticks} must be >= 0.')
        self.total_ticks = int(total_ticks)

    def set_progress(self, cur_iter: int, max_iters: int, max_epochs: Optional[int] = None) -> None:
        """Record the runner's 0-based global iteration and the run length (Python ints).

        Clean mode also applies any tick that was due by the end of iteration ``cur_iter - 1`` and not applied yet
        (``update_losses`` normally applies them). ``max_epochs`` sets E when ``total_ticks`` is still unset.
        """
        cur_iter, max_iters = int(cur_iter), int(max_iters)
        if cur_iter < 0 or max_iters < 1:
            raise ValueError(f'GMMCMSSMasking.set_progress: cur_iter={cur_iter} must be >= 0 and '
                             f'max_iters={max_iters} >= 1.')
        if max_epochs is not None and self.total_ticks is None:
            self.set_schedule(max_epochs)
        self._cur_iter = cur_iter
        self._max_iters = max_iters
        if self.mode == 'clean' and cur_iter > 0:
            self._advance_clock(self._tick_target(cur_iter - 1))

    def _tick_target(self, iteration: int) -> int:
        if self.total_ticks is None:
            raise RuntimeError('GMMCMSSMasking: total_ticks (E) is unknown; pass total_ticks=..., call '
                               'set_schedule(max_epochs) or set_progress(..., max_epochs=...).')
        return (self.total_ticks * (iteration + 1)) // self._max_iters

    # ------------------------------------------------------------------ forward
    def forward(self, rgb_tokens: Tensor, thermal_tokens: Tensor) -> Dict[str, Tensor]:
        """Mask both modalities.

        Args:
            rgb_tokens (Tensor): (B, L, D) RGB tokens (patch embed + pos embed, before masking).
            thermal_tokens (Tensor): (B, L, D) thermal tokens.

        Returns:
            dict[str, Tensor]: ``rgb_mask``/``thermal_mask`` (B, L) float32, 1 = removed;
            ``rgb_ids_keep``/``thermal_ids_keep`` (B, k_m) long, kept indices in selection order;
            ``rgb_ids_shuffle``/``thermal_ids_shuffle`` and ``rgb_ids_restore``/``thermal_ids_restore`` (B, L)
            long; ``cmss`` (B, L) float32 (detached).
        """
        if rgb_tokens.dim() != 3 or rgb_tokens.shape != thermal_tokens.shape:
            raise ValueError('GMMCMSSMasking expects RGB and thermal tokens of the same shape (B, L, D); got '
                             f'{tuple(rgb_tokens.shape)} and {tuple(thermal_tokens.shape)}.')
        if rgb_tokens.shape[1] != self.num_tokens:
            raise ValueError(f'GMMCMSSMasking: got L={rgb_tokens.shape[1]} tokens, configured for '
                             f'num_tokens={self.num_tokens}.')
        with torch.no_grad(), torch.autocast(device_type=rgb_tokens.device.type, enabled=False):
            cmss, raw_stats = self.compute_cmss(rgb_tokens, thermal_tokens)
        return self.mask_from_cmss(cmss, raw_stats)

    def compute_cmss(self, rgb_tokens: Tensor, thermal_tokens: Tensor) -> Tuple[Tensor, Dict[str, Tensor]]:
        """CMSS (B, L) with this mode's numerics, plus ``dict(raw_max=, nonfinite=)`` for logging."""
        return compute_cmss(
            rgb_tokens,
            thermal_tokens,
            variant=self.cmss_variant,
            var_floor=None if self.mode == 'faithful' else self.var_floor,
            max_floor=None if self.mode == 'faithful' else 1e-12,
            reduce_max=self.mode != 'faithful',
            nonfinite='raise' if self.mode == 'faithful' else 'replace',
            return_stats=True,
            backend=self.cmss_backend)

    def mask_from_cmss(self, cmss: Tensor, cmss_raw_stats: Optional[Dict[str, Tensor]] = None) -> Dict[str, Tensor]:
        """The masking step of ``forward`` from a precomputed (B, L) CMSS map (same outputs, same state update).

        ``cmss_raw_stats`` (``raw_max``, ``nonfinite`` from :func:`compute_cmss`) only feeds the logs.
        """
        if cmss.dim() != 2 or cmss.shape[1] != self.num_tokens:
            raise ValueError(f'GMMCMSSMasking: expected a CMSS map of shape (B, {self.num_tokens}); got '
                             f'{tuple(cmss.shape)}.')
        if (self.mode == 'clean' and self.check_sync_every > 0
                and self._num_calls % self.check_sync_every == 0):
            self.assert_rank_consistent()
        device = cmss.device
        iteration = self._cur_iter if self._cur_iter is not None else self._num_calls
        generator = torch.Generator(device=device)
        generator.manual_seed(mix_seed(self.curriculum_seed, dist.get_rank(), iteration))
        cmss = cmss.detach().float()

        # Many small ops: one intra-op thread on CPU (see single_threaded_on_cpu).
        with torch.no_grad(), torch.autocast(device_type=device.type, enabled=False), \
                single_threaded_on_cpu(device):
            if self.mode == 'random':
                ids_keep = self._random_keep(cmss.shape[0], generator, device)
            else:
                if self.mode == 'clean':
                    self._em_step_clean(cmss)
                else:
                    self._em_step_faithful(cmss)
                noise_first = self._draw_noise(cmss.shape[0], self._keep[self.first_selector], +1.0, generator)
                noise_second = self._draw_noise(cmss.shape[0], self._keep[self.second_selector], -1.0,
                                                generator)
                ids_first, ids_second = greedy_select(cmss, noise_first, noise_second)
                ids_keep = {self.first_selector: ids_first, self.second_selector: ids_second}

            outputs = dict(cmss=cmss)
            for modality in ('rgb', 'thermal'):
                mask, ids_shuffle, ids_restore = build_mask_outputs(ids_keep[modality], self.num_tokens)
                outputs[f'{modality}_mask'] = mask
                outputs[f'{modality}_ids_keep'] = ids_keep[modality]
                outputs[f'{modality}_ids_shuffle'] = ids_shuffle
                outputs[f'{modality}_ids_restore'] = ids_restore
            overlap = ((1 - outputs['rgb_mask']) * (1 - outputs['thermal_mask'])).sum(dim=1)
            if self.check_invariants:
                self._assert_invariants(outputs, overlap)
            # CMSS statistics are computed lazily by log_vars() (a sort of B x L values).
            self._last_cmss = (cmss, dict(cmss_raw_stats or {}))
            self._last_overlap = overlap.float().mean()

        self._num_calls += 1
        self.num_calls.add_(1)
        if self.mode == 'faithful':
            self._faithful_clock()
        return outputs

    def _random_keep(self, batch_size: int, generator: torch.Generator, device: torch.device) -> Dict[str, Tensor]:
        noise = torch.rand(2, batch_size, self.num_tokens, generator=generator, device=device)
        ids_shuffle = torch.argsort(noise, dim=-1)
        return dict(rgb=ids_shuffle[0, :, :self.base_keep], thermal=ids_shuffle[1, :, :self.base_keep])

    def _assert_invariants(self, outputs: Dict[str, Tensor], overlap: Tensor) -> None:
        """Device-side checks (no host sync): kept counts match budgets; clean/faithful: disjoint visible sets.

        Unique kept indices (exact count) make each ids_shuffle a permutation by construction.
        """
        valid = overlap.new_ones((), dtype=torch.bool)
        for modality in ('rgb', 'thermal'):
            kept = (outputs[f'{modality}_mask'] == 0).sum(dim=1)
            valid = valid & (kept == outputs[f'{modality}_ids_keep'].shape[1]).all()
        if self.mode != 'random':
            valid = valid & (overlap == 0).all()
        torch._assert_async(valid, 'GMMCMSSMasking: kept counts differ from the budgets or the RGB and thermal '
                            'visible sets overlap (duplicate or shared kept indices).')

    # ------------------------------------------------------------------ GMM
    def _em_step_clean(self, cmss: Tensor) -> None:
        """One warm-started log-domain EM step on all-reduced float64 sufficient statistics (SPEC §5.3 item 2, 4)."""
        values = cmss.reshape(-1).double()
        mean, var, weight = self.gmm_mean, self.gmm_var, self.gmm_weight
        # (K, n) layout: every op runs along the long axis (a softmax over K = 3 per row of (n, K) is ~4x slower).
        log_prob = ((torch.log(weight.clamp_min(1e-300)) - 0.5 * (math.log(2 * math.pi) + torch.log(var))).unsqueeze(1)
                    - 0.5 * (values.unsqueeze(0) - mean.unsqueeze(1)).square() / var.unsqueeze(1))
        resp = torch.softmax(log_prob, dim=0)  # (K, n) responsibilities
        # [S0 | S1 | S2] from one (K, n) x (n, 3) product, then N appended.
        moments = torch.stack([torch.ones_like(values), values, values.square()], dim=1)
        sums = (resp @ moments).t().reshape(-1)
        count = torch.full((1, ), float(values.numel()), dtype=torch.float64, device=values.device)
        stats = torch.cat([sums, count])
        dist.all_reduce(stats, op='sum')
        num = self.num_components
        s0, s1, s2, total = stats[:num], stats[num:2 * num], stats[2 * num:3 * num], stats[3 * num]
        valid = s0 >= MIN_COMPONENT_MASS * total
        safe_s0 = torch.where(valid, s0, torch.ones_like(s0))
        new_mean = s1 / safe_s0
        new_var = (s2 / safe_s0 - new_mean.square()).clamp_min(self.var_floor)
        new_weight = s0 / total
        new_weight = torch.where(valid, new_weight, weight)
        new_weight = new_weight / new_weight.sum().clamp_min(1e-300)
        self.gmm_mean.copy_(torch.where(valid, new_mean, mean))
        self.gmm_var.copy_(torch.where(valid, new_var, var))
        self.gmm_weight.copy_(new_weight)

    def _em_step_faithful(self, cmss: Tensor) -> None:
        """The released EM step (probability domain, no epsilon, no floor), in float64; NaN/inf raise."""
        values = cmss.reshape(-1).double().unsqueeze(1)
        mean, var, weight = self.gmm_mean, self.gmm_var, self.gmm_weight
        density = weight * torch.exp(-(values - mean).square() / (2 * var)) / torch.sqrt(2 * math.pi * var)
        resp = density / density.sum(dim=1, keepdim=True)
        mass = resp.sum(dim=0)
        new_mean = (resp * values).sum(dim=0) / mass
        new_var = (resp * (values - new_mean).square()).sum(dim=0) / mass
        new_weight = mass / values.shape[0]
        params = torch.stack([new_mean, new_var, new_weight])
        torch._assert_async(
            torch.isfinite(params).all() & (new_var > 0).all(),
            'GMMCMSSMasking (faithful): the released EM step produced NaN/inf or a zero variance.')
        self.gmm_mean.copy_(new_mean)
        self.gmm_var.copy_(new_var)
        self.gmm_weight.copy_(new_weight)

    def _draw_noise(self, batch_size: int, num_keep: int, sign: float, generator: torch.Generator) -> Tensor:
        """Sampler draws for the first ``num_keep`` columns of the (B, L) draw matrix (SPEC §5.2 item 3).

        The draws are conceptually concatenated per centre (``floor(B L w_i)`` each, the last takes the rest) and
        reshaped to (B, L); only the first ``num_keep`` columns are drawn. ``sign`` = +1 for the first selector.
        """
        device = self.gmm_mean.device
        sorted_mean, order = torch.sort(self.gmm_mean)
        sorted_var = self.gmm_var[order]
        sorted_weight = self.gmm_weight[order]
        num_centres = self._num_centres
        active_weight = sorted_weight[:num_centres]
        active_weight = active_weight / active_weight.sum().clamp_min(1e-300)
        total = batch_size * self.num_tokens
        bounds = torch.cumsum(torch.floor(total * active_weight), dim=0)[:-1]
        positions = (torch.arange(batch_size, device=device).unsqueeze(1) * self.num_tokens +
                     torch.arange(num_keep, device=device).unsqueeze(0))
        if self.mixture_assignment == 'per_token':
            positions = torch.randperm(total, generator=generator, device=device)[positions]
        component = (positions.double().unsqueeze(-1) >= bounds).sum(dim=-1)
        draw_mean = self.centres[:num_centres] + sign * self.centre_bias
        knots = torch.cat([sorted_mean.new_full((1, ), DUMMY_MEAN), sorted_mean])
        knot_var = torch.cat([sorted_var.new_full((1, ), DUMMY_VAR), sorted_var])
        draw_std = interp(draw_mean, knots, knot_var).clamp_min(0).sqrt()
        normal = torch.randn(batch_size, num_keep, generator=generator, device=device, dtype=torch.float64)
        return (draw_mean[component] + draw_std[component] * normal).float()

    # ------------------------------------------------------------------ losses and clock
    def update_losses(self, loss_rgb: Tensor, loss_thermal: Tensor) -> None:
        """Feed the iteration's detached per-modality losses (0-dim tensors); no host sync.

        Clean: all-reduced mean, EMA (β = ``loss_ema``, first value initialises, non-finite values skipped), then
        the ticks due at the end of ``cur_iter`` are applied. Faithful: the last local batch's losses are stored
        for the next counter tick. Random: logged only.
        """
        device = self.loss_ema_rgb.device
        losses = torch.stack([
            torch.as_tensor(loss_rgb).detach().reshape(()).to(device=device, dtype=torch.float64),
            torch.as_tensor(loss_thermal).detach().reshape(()).to(device=device, dtype=torch.float64)
        ])
        if self.mode == 'faithful':
            new_ema = losses
        else:
            dist.all_reduce(losses, op='mean')
            previous = torch.stack([self.loss_ema_rgb, self.loss_ema_thermal])
            smoothed = self.loss_ema * previous + (1.0 - self.loss_ema) * losses
            new_ema = torch.where(self.ema_initialised, smoothed, losses)
            new_ema = torch.where(torch.isfinite(losses), new_ema, previous)
        self._last_losses = losses
        self.loss_ema_rgb.copy_(new_ema[0])
        self.loss_ema_thermal.copy_(new_ema[1])
        if self.mode == 'faithful':
            self.ema_initialised.fill_(True)
        else:
            self.ema_initialised.logical_or_(torch.isfinite(losses).all())
        if self.mode == 'clean':
            if self._cur_iter is None:
                raise RuntimeError('GMMCMSSMasking (clean): call set_progress(cur_iter, max_iters) every '
                                   'iteration before forward/update_losses.')
            self._last_iter = self._cur_iter + 1
            self.last_iter.fill_(self._last_iter)
            self._advance_clock(self._tick_target(self._cur_iter))
        elif self.mode == 'random' and self._cur_iter is not None:
            self._last_iter = self._cur_iter + 1
            self.last_iter.fill_(self._last_iter)

    def _faithful_clock(self) -> None:
        """Released clock: a per-call counter; when it exceeds ``tick_every`` it resets and one tick happens."""
        self._last_iter += 1
        if self._last_iter > self.tick_every:
            self._last_iter = 0
            self._advance_clock(self._tick + 1)
        self.last_iter.fill_(self._last_iter)

    def _advance_clock(self, target: int) -> None:
        """Apply one curriculum update per missing tick up to ``target`` (host sync only when a tick happens)."""
        while self._tick < target:
            self._tick += 1
            self._apply_tick(self._tick)
            self.tick.fill_(self._tick)

    def _apply_tick(self, tick: int) -> None:
        """One curriculum update at tick value ``tick`` (SPEC §5.2 item 8 / §5.3 items 1, 5–7)."""
        num = self.num_components
        snapshot = torch.cat([
            self.gmm_mean, self.centres,
            torch.stack([self.keep_bias, self.centre_bias, self.loss_ema_rgb, self.loss_ema_thermal,
                         self.ema_initialised.double()])
        ]).tolist()
        means = sorted(snapshot[:num])
        centres = snapshot[num:2 * num][:self._num_centres]
        keep_bias, centre_bias, ema_rgb, ema_thermal, initialised = snapshot[2 * num:]
        gap = (ema_rgb - ema_thermal) if initialised else 0.0
        if self.first_selector == 'rgb':
            gap = -gap
        top = means[-1]

        if self.mode == 'faithful':
            if tick >= FAITHFUL_HARD_END:
                if self.on_singular == 'raise':
                    raise RuntimeError(
                        f'GMMCMSSMasking (faithful): reached the singular curriculum tick {tick} (the released '
                        f'denominator {FAITHFUL_HARD_END} - tick is 0); stop the run by tick '
                        f'{FAITHFUL_HARD_END - 1} or use on_singular="freeze".')
                return
            keep_bias = keep_bias + self.keep_gain * gap if keep_bias < self.max_keep_bias \
                else float(self.max_keep_bias)
            centre_bias = centre_bias + self.centre_gain * gap if centre_bias < self.centre_bias_cap \
                else self.centre_bias_cap
            half, end, hard_count = FAITHFUL_EASY_END, FAITHFUL_HARD_END - 1, num
        else:
            end = self.total_ticks
            if tick > end:
                return  # frozen after E
            half = end // 2
            keep_bias = min(max(keep_bias + self.keep_gain * gap, -self.max_keep_bias), self.max_keep_bias)
            centre_bias = min(max(centre_bias + self.centre_gain * gap, -self.centre_bias_cap),
                              self.centre_bias_cap)
            hard_count = len(centres)

        if tick < half:  # easy phase: add centres on the lowest means, move the last one
            last = len(centres) - 1
            if centres[last] > means[last] and len(centres) < num:
                centres[last] = means[last]
                centres.append(0.0)
            centres[-1] += (sum(means) - sum(centres)) / max(half - tick, 1)
        else:  # hard phase: move every centre onto the highest-mean component
            centres[-1] = top
            below = [index for index, centre in enumerate(centres) if centre < top]
            index = below[-1] if below else 0
            centres[index] += (hard_count * top - sum(centres)) / max(end + 1 - tick, 1)
        if self.mode != 'faithful':
            centres = [min(max(centre, 0.0), 1.0) for centre in centres]

        new_keep = self._keep_counts(keep_bias)
        padded = centres + [0.0] * (num - len(centres))
        self.centres.copy_(torch.tensor(padded, dtype=torch.float64))
        self.num_centres.fill_(len(centres))
        self.keep_bias.fill_(keep_bias)
        self.centre_bias.fill_(centre_bias)
        self._num_centres = len(centres)
        self._keep = new_keep

    def _keep_counts(self, keep_bias: float) -> Dict[str, int]:
        """Per-modality budgets from trunc(keep_bias); raises if a budget is invalid."""
        if not math.isfinite(keep_bias):
            raise RuntimeError(f'GMMCMSSMasking: keep_bias is {keep_bias}; expected a finite value.')
        shift = math.trunc(keep_bias)
        first, second = self.base_keep - shift, self.base_keep + shift
        if first < 1 or second < 1 or first + second > self.num_tokens:
            raise RuntimeError(
                f'GMMCMSSMasking ({self.mode}): keep_bias={keep_bias} gives budgets {self.first_selector}={first}, '
                f'{self.second_selector}={second}; each must be >= 1 and their sum <= L={self.num_tokens} '
                '(the released keep-bias has no lower bound).')
        return {self.first_selector: first, self.second_selector: second}

    # ------------------------------------------------------------------ state
    def _refresh_mirrors(self) -> None:
        """Re-read the Python mirrors from the buffers (after loading a state dict)."""
        num_centres = int(self.num_centres)
        if not 1 <= num_centres <= self.num_components:
            raise RuntimeError(f'GMMCMSSMasking: loaded num_centres={num_centres}; expected 1..'
                               f'{self.num_components}.')
        self._tick = int(self.tick)
        self._num_centres = num_centres
        self._last_iter = int(self.last_iter)
        self._num_calls = int(self.num_calls)
        self._keep = self._keep_counts(float(self.keep_bias))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)
        self._refresh_mirrors()

    def state_buffer_names(self) -> List[str]:
        """Names of the curriculum/GMM state buffers (SPEC §5.1)."""
        return [name for name, _ in self.named_buffers(recurse=False)]

    def assert_rank_consistent(self) -> None:
        """Debug (host sync): raise if any state buffer differs between ranks (clean mode)."""
        names = self.state_buffer_names()
        vector = torch.cat([getattr(self, name).double().reshape(-1) for name in names])
        high, low = vector.clone(), vector.clone()
        dist.all_reduce(high, op='max')
        dist.all_reduce(low, op='min')
        if not torch.equal(high, low):
            sizes = [getattr(self, name).numel() for name in names]
            differing = [
                name for name, chunk_high, chunk_low in zip(names, high.split(sizes), low.split(sizes))
                if not torch.equal(chunk_high, chunk_low)
            ]
            raise RuntimeError(f'GMMCMSSMasking: state buffers differ between ranks: {differing}.')

    # ------------------------------------------------------------------ logging
    @property
    def keep_counts(self) -> Dict[str, int]:
        """Current per-modality keep budgets, ``{'rgb': k_rgb, 'thermal': k_thermal}``."""
        if self.mode == 'random':
            return dict(rgb=self.base_keep, thermal=self.base_keep)
        return dict(self._keep)

    def log_vars(self) -> Dict[str, Tensor]:
        """SPEC §5.5 scalars as detached 0-dim tensors (no host sync).

        ``cmss/*`` (computed here, a sort of B x L values) and ``mask/overlap`` describe the last forward;
        ``loss_rgb``/``loss_thermal`` are the last (all-reduced in clean mode) losses given to ``update_losses``.
        Keys containing 'loss' must be merged after mmengine's ``parse_losses``.
        """
        with single_threaded_on_cpu(self.gmm_mean.device):
            return self._log_vars()

    def _log_vars(self) -> Dict[str, Tensor]:
        device = self.gmm_mean.device
        nan = float('nan')
        scalars: Dict[str, Tensor] = {}
        keep = self.keep_counts
        for modality in ('rgb', 'thermal'):
            scalars[f'mask/keep_{modality}'] = torch.full((), float(keep[modality]), device=device)
            scalars[f'mask/ratio_{modality}'] = torch.full((), 1.0 - keep[modality] / self.num_tokens,
                                                           device=device)
        if self._last_cmss is not None:
            cmss, raw_stats = self._last_cmss
            scalars.update({f'cmss/{key}': value for key, value in cmss_stats(cmss, **raw_stats).items()})
            scalars['mask/overlap'] = self._last_overlap
        scalars['curr/tick'] = self.tick.float()
        scalars['curr/keep_bias'] = self.keep_bias.float()
        scalars['curr/centre_bias'] = self.centre_bias.float()
        scalars['curr/num_centres'] = self.num_centres.float()
        active = torch.arange(self.num_components, device=device) < self.num_centres
        centres = torch.where(active, self.centres, torch.full_like(self.centres, nan)).float()
        sorted_mean, order = torch.sort(self.gmm_mean)
        # Index with the whole order tensor (a gather); a 0-dim tensor index would be read on the host.
        sorted_var, sorted_weight = self.gmm_var[order], self.gmm_weight[order]
        for index in range(self.num_components):
            scalars[f'curr/centre_{index}'] = centres[index]
            scalars[f'gmm/mean_{index}'] = sorted_mean[index].float()
            scalars[f'gmm/var_{index}'] = sorted_var[index].float()
            scalars[f'gmm/weight_{index}'] = sorted_weight[index].float()
        if self._last_losses is not None:
            scalars['loss_rgb'] = self._last_losses[0].float()
            scalars['loss_thermal'] = self._last_losses[1].float()
        scalars['curr/loss_ema_rgb'] = self.loss_ema_rgb.float()
        scalars['curr/loss_ema_thermal'] = self.loss_ema_thermal.float()
        scalars['curr/loss_gap'] = (self.loss_ema_rgb - self.loss_ema_thermal).float()
        return {key: value.detach() for key, value in scalars.items()}

    def extra_repr(self) -> str:
        return (f'mode={self.mode}, num_tokens={self.num_tokens}, mask_ratio={self.mask_ratio}, '
                f'base_keep={self.base_keep}, max_keep_bias={self.max_keep_bias}, '
                f'num_components={self.num_components}, total_ticks={self.total_ticks}, '
                f'cmss_variant={self.cmss_variant}, mixture_assignment={self.mixture_assignment}, '
                f'first_selector={self.first_selector}, cmss_backend={self.cmss_backend}')
