# Copyright (c) mmspecgene contributors. All rights reserved.
"""GMM-CMSS progressive masking (docs/en/method.md, arXiv 2507.16318), host-free (torch + ``mmengine.dist``).

* :class:`GMMCMSSMasking`: the clean algorithm (default): rank-consistent GMM, smoothed loss gap, clamped biases,
  a schedule from the run length.
* :class:`ReleasedGMMCMSSMasking`: the released algorithm (ablations, reproduction). It overrides only what
  differs: the EM step, the clock, the tick rule, the loss gap and the CMSS options.
* :class:`OverlappingGMMCMSSMasking`: the clean algorithm with independent selections per modality (ablation:
  a position may be visible in both).

Per-iteration API, plain Python ints from the runner (``RGBTMaskingHook`` calls ``set_progress`` in a runner)::

    masker.set_progress(cur_iter, max_iters, max_epochs)  # before the forward; cur_iter is 0-based and global
    out = masker(rgb_tokens, thermal_tokens)              # (B, L, D) each -> masks / ids (see ``forward``)
    masker.update_losses(loss_rgb.detach(), loss_thermal.detach())
    stats = masker.statistics()                           # 0-dim tensors, for logging every n iterations

Nothing in ``forward``/``update_losses`` synchronises the host with the device, except at a curriculum tick
(about once per epoch), where a few curriculum scalars are read once to update the centres and the (Python int)
budgets. All state lives in persistent buffers: checkpoints save it and ``load_state_dict`` restores it, including
the Python mirrors.
"""
import math
from typing import Dict, List, NamedTuple, Optional, Tuple

import torch
import torch.nn as nn
from mmengine import dist
from torch import Tensor

from .cmss import CMSS_BACKENDS, canonical_cmss_variant, cmss_stats, compute_cmss
from .masking_ops import (
    KEEP_TOLERANCE,
    MODALITIES,
    assert_masks_valid,
    check_token_pair,
    greedy_select,
    interp,
    keep_count,
    masking_outputs,
    noise_generator,
    visible_overlap,
)

MIXTURE_ASSIGNMENTS = ('per_image', 'per_token')
SELECTORS = ('thermal', 'rgb')
SINGULAR_ACTIONS = ('raise', 'freeze')
# Released curriculum constants: easy phase before tick 50, the hard-phase denominator 101 - tick.
RELEASED_EASY_END = 50
RELEASED_HARD_END = 101
# Dummy sampling component below every real one.
DUMMY_MEAN = 0.0
DUMMY_VAR = 0.01
# A component whose responsibility mass is below this fraction of the data keeps its parameters (clean EM).
MIN_COMPONENT_MASS = 1e-8


class TickRule(NamedTuple):
    """The bias update and phase bounds of one curriculum tick."""
    keep_bias: float
    centre_bias: float
    half: int  # first tick of the hard phase
    end: int  # last tick of the hard phase
    hard_count: int  # the hard phase moves the centre sum towards hard_count * top mean
    clamp_centres: bool


def move_centres(centres: List[float], means: List[float], tick: int, rule: TickRule) -> List[float]:
    """One curriculum step of the active sampling centres (sorted GMM ``means``; returns a new list).

    Easy phase (``tick < rule.half``): add centres on the lowest means and move the last one so that the centres
    reach the means by the end of the phase. Hard phase: move every centre onto the highest-mean component.
    """
    centres = list(centres)
    top = means[-1]
    if tick < rule.half:
        last = len(centres) - 1
        if centres[last] > means[last] and len(centres) < len(means):
            centres[last] = means[last]
            centres.append(0.0)
        centres[-1] += (sum(means) - sum(centres)) / max(rule.half - tick, 1)
    else:
        centres[-1] = top
        below = [index for index, centre in enumerate(centres) if centre < top]
        index = below[-1] if below else 0
        centres[index] += (rule.hard_count * top - sum(centres)) / max(rule.end + 1 - tick, 1)
    if rule.clamp_centres:
        centres = [min(max(centre, 0.0), 1.0) for centre in centres]
    return centres


class GMMCMSSMasking(nn.Module):
    """GMM-CMSS progressive masking of paired RGB/thermal tokens, clean algorithm.

    One call masks both modalities: each keeps a budget of tokens chosen greedily so that their CMSS follows a
    sampler built from a 1-D GMM fitted (one warm-started EM step per call) to the CMSS map; a curriculum moves the
    sampling centres from dense to sparse tokens and shifts tokens between modalities by their loss gap.

    Clean behaviour: paper CMSS with an all-reduced max; log-domain EM on all-reduced float64 sufficient statistics
    (every rank holds the same GMM); loss gap from an all-reduced EMA; biases clamped to +-``max_keep_bias`` tokens
    and +-``centre_bias_cap``; tick ``floor(E (t + 1) / T)`` after iteration t of T, E ticks over the run (easy
    phase for tick < E // 2, hard until E, frozen afterwards); centres clamped to [0, 1].

    Args:
        num_tokens (int): L. Default 196 (224 / 16 squared).
        mask_ratio (float): base mask ratio r; base keep k0 = floor(L (1 - r) + 1e-6). Default 0.90 -> 19.
        max_mask_ratio (float): cap of the keep-bias: min(floor(L (r_max - r) + 1e-6), k0 - 1) = 9.
        num_components (int): GMM components K (also the number of centres). Default 3.
        total_ticks (int, optional): E; None = set later by ``set_schedule`` / ``set_progress(max_epochs=...)``.
        cmss_variant (str): ``'paper'``/``'product'`` or ``'released'``/``'thermal_squared'``.
        mixture_assignment (str): ``'per_image'`` (released: unshuffled draws, one centre per image) or
            ``'per_token'`` (shuffled draws).
        loss_ema (float): beta of the loss EMA.
        keep_gain (float): tokens of keep-bias per unit loss gap. Default 10.
        centre_gain (float): centre-bias per unit loss gap. Default 0.1.
        centre_bias_cap (float): |centre_bias| cap. Default 0.1.
        var_floor (float): floor of the GMM variances and of the CMSS token variances.
        curriculum_seed (int): seed of the GMM init and of the noise stream (mixed with rank and iteration).
        first_selector (str): ``'thermal'`` (released) or ``'rgb'``: selects first, gets +centre_bias, loses tokens
            when the other modality's loss is higher.
        check_sync_every (int): debug: every n calls assert identical state buffers on all ranks (host sync).
            0 = off.
        check_invariants (bool): per-call device-side asserts (no host sync): kept counts match the budgets and
            the visible sets are disjoint.
        cmss_backend (str): ``'eager'`` or ``'compiled'`` (see :func:`compute_cmss`).
    """

    disjoint_visible_sets = True  # no position visible in both modalities (checked with check_invariants)
    needs_total_ticks = True  # the curriculum spreads E ticks over the run (an iteration-based run must set E)

    def __init__(self,
                 num_tokens: int = 196,
                 mask_ratio: float = 0.90,
                 max_mask_ratio: float = 0.95,
                 num_components: int = 3,
                 total_ticks: Optional[int] = None,
                 cmss_variant: str = 'paper',
                 mixture_assignment: str = 'per_image',
                 loss_ema: float = 0.98,
                 keep_gain: float = 10.0,
                 centre_gain: float = 0.1,
                 centre_bias_cap: float = 0.1,
                 var_floor: float = 1e-6,
                 curriculum_seed: int = 0,
                 first_selector: str = 'thermal',
                 check_sync_every: int = 0,
                 check_invariants: bool = True,
                 cmss_backend: str = 'eager') -> None:
        super().__init__()
        name = type(self).__name__
        choices = dict(mixture_assignment=(mixture_assignment, MIXTURE_ASSIGNMENTS),
                       first_selector=(first_selector, SELECTORS), cmss_backend=(cmss_backend, CMSS_BACKENDS))
        for key, (value, allowed) in choices.items():
            if value not in allowed:
                raise ValueError(f'{name}: {key}={value!r}; expected one of {allowed}.')
        if not 0.0 < mask_ratio < 1.0:
            raise ValueError(f'{name}: mask_ratio={mask_ratio} must lie in (0, 1).')
        if not mask_ratio <= max_mask_ratio < 1.0:
            raise ValueError(f'{name}: max_mask_ratio={max_mask_ratio} must lie in [mask_ratio, 1).')
        if num_components < 1:
            raise ValueError(f'{name}: num_components={num_components} must be >= 1.')
        if not 0.0 <= loss_ema < 1.0:
            raise ValueError(f'{name}: loss_ema={loss_ema} must lie in [0, 1).')
        if var_floor <= 0:
            raise ValueError(f'{name}: var_floor={var_floor} must be > 0.')
        if total_ticks is not None and int(total_ticks) < 0:
            raise ValueError(f'{name}: total_ticks={total_ticks} must be >= 0.')

        self.num_tokens = int(num_tokens)
        self.mask_ratio = float(mask_ratio)
        self.max_mask_ratio = float(max_mask_ratio)
        self.num_components = int(num_components)
        self.total_ticks = None if total_ticks is None else int(total_ticks)
        self.cmss_variant = canonical_cmss_variant(cmss_variant)
        self.mixture_assignment = mixture_assignment
        self.loss_ema = float(loss_ema)
        self.keep_gain = float(keep_gain)
        self.centre_gain = float(centre_gain)
        self.centre_bias_cap = float(centre_bias_cap)
        self.var_floor = float(var_floor)
        self.curriculum_seed = int(curriculum_seed)
        self.first_selector = first_selector
        self.second_selector = 'rgb' if first_selector == 'thermal' else 'thermal'
        self.check_sync_every = int(check_sync_every)
        self.check_invariants = bool(check_invariants)
        self.cmss_backend = cmss_backend

        self.base_keep = keep_count(self.num_tokens, self.mask_ratio)
        if self.base_keep < 1:
            raise ValueError(f'{name}: mask_ratio={mask_ratio} keeps no token of L={num_tokens}.')
        if 2 * self.base_keep > self.num_tokens:
            raise ValueError(f'{name}: two modalities keeping {self.base_keep} tokens each cannot be disjoint in '
                             f'L={self.num_tokens} (mask_ratio={mask_ratio} must be >= 0.5).')
        self.bias_room = int(math.floor(self.num_tokens * (self.max_mask_ratio - self.mask_ratio) + KEEP_TOLERANCE))
        # The clamp guarantees 1 <= k and k_first + k_second = 2 k0 <= L.
        self.max_keep_bias = min(self.bias_room, self.base_keep - 1)

        generator = torch.Generator().manual_seed(self._gmm_init_seed())
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
        # The clock's counter: iterations completed here; the released call counter in ReleasedGMMCMSSMasking.
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
        self._last_outputs: Optional[Dict[str, Tensor]] = None
        self._last_keep: Optional[Dict[str, int]] = None

    # ------------------------------------------------------------------ what the other maskers override
    def _select(self, cmss: Tensor, noise_first: Tensor, noise_second: Tensor) -> Tuple[Tensor, Tensor]:
        """Kept ids of the first and second selector: greedy, the second one on the positions the first left."""
        return greedy_select(cmss, noise_first, noise_second)

    def _gmm_init_seed(self) -> int:
        """Seed of the GMM init: shared by all ranks."""
        return self.curriculum_seed

    def _cmss_options(self) -> dict:
        """Numerics of :func:`compute_cmss`: floors, all-reduced max, non-finite values replaced."""
        return dict(var_floor=self.var_floor, max_floor=1e-12, reduce_max=True, nonfinite='replace')

    def _em_step(self, cmss: Tensor) -> None:
        """One warm-started log-domain EM step on all-reduced float64 sufficient statistics."""
        values = cmss.reshape(-1).double()
        mean, var, weight = self.gmm_mean, self.gmm_var, self.gmm_weight
        # (K, n) layout: every op runs along the long axis.
        log_prob = ((torch.log(weight.clamp_min(1e-300)) - 0.5 * (math.log(2 * math.pi) + torch.log(var))).unsqueeze(1)
                    - 0.5 * (values.unsqueeze(0) - mean.unsqueeze(1)).square() / var.unsqueeze(1))
        resp = torch.softmax(log_prob, dim=0)  # (K, n) responsibilities
        moments = torch.stack([torch.ones_like(values), values, values.square()], dim=1)  # (n, 3)
        count = torch.full((1, ), float(values.numel()), dtype=torch.float64, device=values.device)
        stats = torch.cat([(resp @ moments).t().reshape(-1), count])  # [S0 | S1 | S2 | N]
        dist.all_reduce(stats, op='sum')
        num = self.num_components
        s0, s1, s2, total = stats[:num], stats[num:2 * num], stats[2 * num:3 * num], stats[3 * num]
        valid = s0 >= MIN_COMPONENT_MASS * total
        safe_s0 = torch.where(valid, s0, torch.ones_like(s0))
        new_mean = s1 / safe_s0
        new_var = (s2 / safe_s0 - new_mean.square()).clamp_min(self.var_floor)
        new_weight = torch.where(valid, s0 / total, weight)
        self.gmm_mean.copy_(torch.where(valid, new_mean, mean))
        self.gmm_var.copy_(torch.where(valid, new_var, var))
        self.gmm_weight.copy_(new_weight / new_weight.sum().clamp_min(1e-300))

    def _smooth_losses(self, losses: Tensor) -> Tensor:
        """(2,) float64 [rgb, thermal] losses of this rank -> the loss state: all-reduced mean, then the EMA."""
        dist.all_reduce(losses, op='mean')
        previous = torch.stack([self.loss_ema_rgb, self.loss_ema_thermal])
        smoothed = self.loss_ema * previous + (1.0 - self.loss_ema) * losses
        smoothed = torch.where(self.ema_initialised, smoothed, losses)
        self.ema_initialised.logical_or_(torch.isfinite(losses).all())
        return torch.where(torch.isfinite(losses), smoothed, previous)  # non-finite losses are skipped

    def _clock_on_progress(self) -> None:
        """Apply the ticks due by the end of the previous iteration (``update_losses`` normally did)."""
        if self._cur_iter > 0:
            self._advance_clock(self._tick_target(self._cur_iter - 1))

    def _clock_on_call(self) -> None:
        """After each forward: nothing (this clock follows the runner's iterations)."""

    def _clock_on_losses(self) -> None:
        """After the losses of iteration t: count it and apply the ticks due, ``floor(E (t + 1) / T)``."""
        if self._cur_iter is None:
            raise RuntimeError(f'{type(self).__name__}: call set_progress(cur_iter, max_iters) every iteration '
                               'before forward/update_losses (in a runner: '
                               "custom_hooks=[dict(type='RGBTMaskingHook')]).")
        self._last_iter = self._cur_iter + 1
        self.last_iter.fill_(self._last_iter)
        self._advance_clock(self._tick_target(self._cur_iter))

    def _tick_rule(self, tick: int, gap: float, keep_bias: float, centre_bias: float) -> Optional[TickRule]:
        """Clamped biases, phases from E; None (frozen) after the last tick E."""
        end = self.total_ticks
        if tick > end:
            return None
        return TickRule(
            keep_bias=min(max(keep_bias + self.keep_gain * gap, -self.max_keep_bias), self.max_keep_bias),
            centre_bias=min(max(centre_bias + self.centre_gain * gap, -self.centre_bias_cap), self.centre_bias_cap),
            half=end // 2,
            end=end,
            hard_count=self._num_centres,
            clamp_centres=True)

    def rank_local_buffer_names(self) -> List[str]:
        """Buffers that differ between ranks by design (none here: every rank holds the same state)."""
        return []

    # ------------------------------------------------------------------ schedule API
    def set_schedule(self, total_ticks: int) -> None:
        """Set E, the number of curriculum ticks over the run (normally the run's max_epochs)."""
        if int(total_ticks) < 0:
            raise ValueError(f'{type(self).__name__}.set_schedule: total_ticks={total_ticks} must be >= 0.')
        self.total_ticks = int(total_ticks)

    def set_progress(self, cur_iter: int, max_iters: int, max_epochs: Optional[int] = None) -> None:
        """Record the runner's 0-based global iteration and the run length (Python ints), before the forward.

        ``max_epochs`` sets E when ``total_ticks`` is still unset. The noise of the next call is seeded from
        ``(curriculum_seed, rank, cur_iter)``, so a resumed run reproduces the masks.
        """
        cur_iter, max_iters = int(cur_iter), int(max_iters)
        if cur_iter < 0 or max_iters < 1:
            raise ValueError(f'{type(self).__name__}.set_progress: cur_iter={cur_iter} must be >= 0 and '
                             f'max_iters={max_iters} >= 1.')
        if max_epochs is not None and self.total_ticks is None:
            self.set_schedule(max_epochs)
        self._cur_iter = cur_iter
        self._max_iters = max_iters
        self._clock_on_progress()

    def _tick_target(self, iteration: int) -> int:
        if self.total_ticks is None:
            raise RuntimeError(f'{type(self).__name__}: total_ticks (E) is unknown; pass total_ticks=..., call '
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
        check_token_pair(rgb_tokens, thermal_tokens, self.num_tokens, type(self).__name__)
        with torch.no_grad(), torch.autocast(device_type=rgb_tokens.device.type, enabled=False):
            cmss, raw_stats = self.compute_cmss(rgb_tokens, thermal_tokens)
        return self.mask_from_cmss(cmss, raw_stats)

    def compute_cmss(self, rgb_tokens: Tensor, thermal_tokens: Tensor) -> Tuple[Tensor, Dict[str, Tensor]]:
        """CMSS (B, L) with this masker's numerics, plus ``dict(raw_max=, nonfinite=)`` for the statistics."""
        return compute_cmss(
            rgb_tokens,
            thermal_tokens,
            variant=self.cmss_variant,
            return_stats=True,
            backend=self.cmss_backend,
            **self._cmss_options())

    def mask_from_cmss(self, cmss: Tensor, cmss_raw_stats: Optional[Dict[str, Tensor]] = None) -> Dict[str, Tensor]:
        """The masking step of ``forward`` from a precomputed (B, L) CMSS map (same outputs, same state update).

        ``cmss_raw_stats`` (``raw_max``, ``nonfinite`` from :func:`compute_cmss`) only feeds the statistics.
        """
        if cmss.dim() != 2 or cmss.shape[1] != self.num_tokens:
            raise ValueError(f'{type(self).__name__}: expected a CMSS map of shape (B, {self.num_tokens}); got '
                             f'{tuple(cmss.shape)}.')
        if self.check_sync_every > 0 and self._num_calls % self.check_sync_every == 0:
            self.assert_rank_consistent()
        iteration = self._cur_iter if self._cur_iter is not None else self._num_calls
        generator = noise_generator(self.curriculum_seed, iteration, cmss.device)
        cmss = cmss.detach().float()
        with torch.no_grad(), torch.autocast(device_type=cmss.device.type, enabled=False):
            self._em_step(cmss)
            batch_size = cmss.shape[0]
            noise_first = self._draw_noise(batch_size, self._keep[self.first_selector], +1.0, generator)
            noise_second = self._draw_noise(batch_size, self._keep[self.second_selector], -1.0, generator)
            ids_first, ids_second = self._select(cmss, noise_first, noise_second)
            outputs = masking_outputs({self.first_selector: ids_first, self.second_selector: ids_second},
                                      self.num_tokens)
            if self.check_invariants:
                assert_masks_valid(outputs, disjoint=self.disjoint_visible_sets, owner=type(self).__name__)
        outputs['cmss'] = cmss
        # Statistics are computed from these only when asked (every logging interval).
        self._last_cmss = (cmss, dict(cmss_raw_stats or {}))
        self._last_outputs = outputs
        self._last_keep = dict(self._keep)  # the budgets this call used (a tick may change them afterwards)
        self._num_calls += 1
        self.num_calls.add_(1)
        self._clock_on_call()
        return outputs

    def _draw_noise(self, batch_size: int, num_keep: int, sign: float, generator: torch.Generator) -> Tensor:
        """Sampler draws for the first ``num_keep`` columns of the (B, L) draw matrix.

        The draws are conceptually concatenated per centre (``floor(B L w_i)`` each, the last takes the rest) and
        reshaped to (B, L); only the first ``num_keep`` columns are drawn. ``sign`` = +1 for the first selector.
        """
        device = self.gmm_mean.device
        sorted_mean, order = torch.sort(self.gmm_mean)
        sorted_var = self.gmm_var[order]
        num_centres = self._num_centres
        active_weight = self.gmm_weight[order][:num_centres]
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
        """Feed the iteration's detached per-modality losses (0-dim tensors); no host sync, except at a tick."""
        device = self.loss_ema_rgb.device
        losses = torch.stack([
            torch.as_tensor(loss).detach().reshape(()).to(device=device, dtype=torch.float64)
            for loss in (loss_rgb, loss_thermal)
        ])
        loss_state = self._smooth_losses(losses)
        self.loss_ema_rgb.copy_(loss_state[0])
        self.loss_ema_thermal.copy_(loss_state[1])
        self._clock_on_losses()

    def _advance_clock(self, target: int) -> None:
        """Apply one curriculum update per missing tick up to ``target`` (host sync only when a tick happens)."""
        while self._tick < target:
            self._tick += 1
            self._apply_tick(self._tick)
            self.tick.fill_(self._tick)

    def _apply_tick(self, tick: int) -> None:
        """One curriculum update at tick value ``tick`` (the value after the increment)."""
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
        rule = self._tick_rule(tick, gap, keep_bias, centre_bias)
        if rule is None:
            return
        centres = move_centres(centres, means, tick, rule)
        new_keep = self._keep_counts(rule.keep_bias)
        self.centres.copy_(torch.tensor(centres + [0.0] * (num - len(centres)), dtype=torch.float64))
        self.num_centres.fill_(len(centres))
        self.keep_bias.fill_(rule.keep_bias)
        self.centre_bias.fill_(rule.centre_bias)
        self._num_centres = len(centres)
        self._keep = new_keep

    def _keep_counts(self, keep_bias: float) -> Dict[str, int]:
        """Per-modality budgets from trunc(keep_bias); raises if a budget is invalid."""
        if not math.isfinite(keep_bias):
            raise RuntimeError(f'{type(self).__name__}: keep_bias is {keep_bias}; expected a finite value.')
        shift = math.trunc(keep_bias)
        first, second = self.base_keep - shift, self.base_keep + shift
        if first < 1 or second < 1 or first + second > self.num_tokens:
            raise RuntimeError(
                f'{type(self).__name__}: keep_bias={keep_bias} gives budgets {self.first_selector}={first}, '
                f'{self.second_selector}={second}; each must be >= 1 and their sum <= L={self.num_tokens}.')
        return {self.first_selector: first, self.second_selector: second}

    # ------------------------------------------------------------------ state
    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)
        num_centres = int(self.num_centres)  # re-read the Python mirrors from the loaded buffers
        if not 1 <= num_centres <= self.num_components:
            raise RuntimeError(f'{type(self).__name__}: loaded num_centres={num_centres}; expected 1..'
                               f'{self.num_components}.')
        self._tick = int(self.tick)
        self._num_centres = num_centres
        self._last_iter = int(self.last_iter)
        self._num_calls = int(self.num_calls)
        self._keep = self._keep_counts(float(self.keep_bias))

    def state_buffer_names(self) -> List[str]:
        """Names of the curriculum/GMM state buffers."""
        return [name for name, _ in self.named_buffers(recurse=False)]

    def assert_rank_consistent(self) -> None:
        """Debug (host sync): raise if any state buffer differs between ranks."""
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
            raise RuntimeError(f'{type(self).__name__}: state buffers differ between ranks: {differing}.')

    # ------------------------------------------------------------------ statistics
    @property
    def keep_counts(self) -> Dict[str, int]:
        """Current per-modality keep budgets, ``{'rgb': k_rgb, 'thermal': k_thermal}``."""
        return {modality: self._keep[modality] for modality in MODALITIES}

    def statistics(self) -> Dict[str, Tensor]:
        """Masking and curriculum statistics as detached 0-dim tensors (no host sync; a sort of B x L values).

        ``mask/*``: budgets, ratios and the visible overlap of the last call (0: disjoint); ``cmss/*``: the last
        CMSS map; ``curr/*``: tick, biases, active centres (NaN if inactive), loss EMAs and gap; ``gmm/*``: the
        components sorted by mean.
        """
        device = self.gmm_mean.device
        scalars: Dict[str, Tensor] = {}
        budgets = self._last_keep if self._last_keep is not None else self.keep_counts
        for modality, keep in budgets.items():
            scalars[f'mask/keep_{modality}'] = torch.full((), float(keep), device=device)
            scalars[f'mask/ratio_{modality}'] = torch.full((), 1.0 - keep / self.num_tokens, device=device)
        if self._last_outputs is not None:
            scalars['mask/overlap'] = visible_overlap(self._last_outputs).float().mean()
            cmss, raw_stats = self._last_cmss
            scalars.update({f'cmss/{key}': value for key, value in cmss_stats(cmss, **raw_stats).items()})
        scalars['curr/tick'] = self.tick.float()
        scalars['curr/keep_bias'] = self.keep_bias.float()
        scalars['curr/centre_bias'] = self.centre_bias.float()
        scalars['curr/num_centres'] = self.num_centres.float()
        active = torch.arange(self.num_components, device=device) < self.num_centres
        centres = torch.where(active, self.centres, torch.full_like(self.centres, float('nan'))).float()
        sorted_mean, order = torch.sort(self.gmm_mean)
        sorted_var, sorted_weight = self.gmm_var[order], self.gmm_weight[order]
        for index in range(self.num_components):
            scalars[f'curr/centre_{index}'] = centres[index]
            scalars[f'gmm/mean_{index}'] = sorted_mean[index].float()
            scalars[f'gmm/var_{index}'] = sorted_var[index].float()
            scalars[f'gmm/weight_{index}'] = sorted_weight[index].float()
        scalars['curr/loss_ema_rgb'] = self.loss_ema_rgb.float()
        scalars['curr/loss_ema_thermal'] = self.loss_ema_thermal.float()
        scalars['curr/loss_gap'] = (self.loss_ema_rgb - self.loss_ema_thermal).float()
        return {key: value.detach() for key, value in scalars.items()}

    def extra_repr(self) -> str:
        return (f'num_tokens={self.num_tokens}, mask_ratio={self.mask_ratio}, base_keep={self.base_keep}, '
                f'max_keep_bias={self.max_keep_bias}, num_components={self.num_components}, '
                f'total_ticks={self.total_ticks}, cmss_variant={self.cmss_variant}, '
                f'mixture_assignment={self.mixture_assignment}, first_selector={self.first_selector}, '
                f'cmss_backend={self.cmss_backend}')


class ReleasedGMMCMSSMasking(GMMCMSSMasking):
    """GMM-CMSS masking as released: the reference for ablations and reproduction.

    Differs from :class:`GMMCMSSMasking` in: the released CMSS (thermal variance squared, per-GPU max, no floors;
    NaN/inf raise); a per-rank GMM (init seed ``curriculum_seed + rank``, probability-domain EM in float64, no
    all-reduce; NaN or a zero variance raise); the loss gap of the last local batch; biases that may overshoot
    their cap and have no lower bound (an invalid budget raises); a call counter that ticks whenever it exceeds
    ``tick_every`` (release: 267.69); the 50/101 phase constants and a hard-phase target of K x the top mean; no
    centre clamp. The singular tick 101 raises (``on_singular='raise'``) or freezes the curriculum.

    Every buffer is rank-local, as the released per-GPU state: :meth:`rank_local_buffer_names` lists them, and
    ``SpecGeneMAE`` keeps them out of DDP's buffer broadcast. Checkpoints hold rank 0's state.

    Args:
        cmss_variant (str): default ``'released'``.
        tick_every (float): clock period in calls. Release 267.69.
        on_singular (str): at tick 101: ``'raise'`` or ``'freeze'``.
        **kwargs: the other arguments of :class:`GMMCMSSMasking` except ``total_ticks``, ``loss_ema``,
            ``var_floor`` and ``check_sync_every``.
    """

    needs_total_ticks = False  # the released clock counts calls (tick_every)

    def __init__(self,
                 cmss_variant: str = 'released',
                 tick_every: float = 267.69,
                 on_singular: str = 'raise',
                 **kwargs) -> None:
        clean_only = sorted(set(kwargs) & {'total_ticks', 'loss_ema', 'var_floor', 'check_sync_every'})
        if clean_only:
            raise TypeError(f'{type(self).__name__} does not take {clean_only}: the released algorithm has no '
                            'run-length schedule, loss EMA, variance floor or rank-consistency check.')
        super().__init__(cmss_variant=cmss_variant, **kwargs)
        if tick_every <= 0:
            raise ValueError(f'{type(self).__name__}: tick_every={tick_every} must be > 0.')
        if on_singular not in SINGULAR_ACTIONS:
            raise ValueError(f'{type(self).__name__}: on_singular={on_singular!r}; expected one of '
                             f'{SINGULAR_ACTIONS}.')
        self.tick_every = float(tick_every)
        self.on_singular = on_singular
        self.max_keep_bias = self.bias_room  # the released cap (it may overshoot by one update)

    def _gmm_init_seed(self) -> int:
        return self.curriculum_seed + dist.get_rank()

    def _cmss_options(self) -> dict:
        return dict(var_floor=None, max_floor=None, reduce_max=False, nonfinite='raise')

    def _em_step(self, cmss: Tensor) -> None:
        """The released EM step (probability domain, no epsilon, no floor), in float64; NaN/inf raise."""
        values = cmss.reshape(-1).double().unsqueeze(1)
        mean, var, weight = self.gmm_mean, self.gmm_var, self.gmm_weight
        density = weight * torch.exp(-(values - mean).square() / (2 * var)) / torch.sqrt(2 * math.pi * var)
        resp = density / density.sum(dim=1, keepdim=True)
        mass = resp.sum(dim=0)
        new_mean = (resp * values).sum(dim=0) / mass
        new_var = (resp * (values - new_mean).square()).sum(dim=0) / mass
        torch._assert_async(
            torch.isfinite(torch.stack([new_mean, new_var])).all() & (new_var > 0).all(),
            f'{type(self).__name__}: the released EM step produced NaN/inf or a zero variance.')
        self.gmm_mean.copy_(new_mean)
        self.gmm_var.copy_(new_var)
        self.gmm_weight.copy_(mass / values.shape[0])

    def _smooth_losses(self, losses: Tensor) -> Tensor:
        """The last local batch's losses, as released."""
        self.ema_initialised.fill_(True)
        return losses

    def _clock_on_progress(self) -> None:
        """Nothing: this clock counts calls."""

    def _clock_on_call(self) -> None:
        """The released clock: a per-call counter; when it exceeds ``tick_every`` it resets and one tick happens."""
        self._last_iter += 1
        if self._last_iter > self.tick_every:
            self._last_iter = 0
            self._advance_clock(self._tick + 1)
        self.last_iter.fill_(self._last_iter)

    def _clock_on_losses(self) -> None:
        """Nothing: the losses only wait for the next tick."""

    def _tick_rule(self, tick: int, gap: float, keep_bias: float, centre_bias: float) -> Optional[TickRule]:
        """Overshooting biases and the 50/101 constants; tick 101 raises or freezes."""
        if tick >= RELEASED_HARD_END:
            if self.on_singular == 'raise':
                raise RuntimeError(
                    f'{type(self).__name__}: reached the singular curriculum tick {tick} (the released denominator '
                    f'{RELEASED_HARD_END} - tick is 0); stop the run by tick {RELEASED_HARD_END - 1} or use '
                    'on_singular="freeze".')
            return None
        return TickRule(
            keep_bias=keep_bias + self.keep_gain * gap if keep_bias < self.max_keep_bias else float(self.max_keep_bias),
            centre_bias=(centre_bias + self.centre_gain * gap
                         if centre_bias < self.centre_bias_cap else self.centre_bias_cap),
            half=RELEASED_EASY_END,
            end=RELEASED_HARD_END - 1,
            hard_count=self.num_components,
            clamp_centres=False)

    def rank_local_buffer_names(self) -> List[str]:
        """Every state buffer: each rank keeps its own GMM, biases, losses and clock, as released."""
        return self.state_buffer_names()

    def extra_repr(self) -> str:
        shared = super().extra_repr().replace(f'total_ticks={self.total_ticks}, ', '')
        return f'{shared}, tick_every={self.tick_every}, on_singular={self.on_singular}'


class OverlappingGMMCMSSMasking(GMMCMSSMasking):
    """Clean GMM-CMSS masking whose two modalities select independently (ablation of the disjoint visible sets).

    Each modality runs the greedy nearest-CMSS selection on the whole map with its own draws, so a position may be
    visible in both (``mask/overlap`` > 0). Everything else is :class:`GMMCMSSMasking`; same arguments and state.
    """

    disjoint_visible_sets = False

    def _select(self, cmss: Tensor, noise_first: Tensor, noise_second: Tensor) -> Tuple[Tensor, Tensor]:
        none = noise_first[:, :0]
        return greedy_select(cmss, noise_first, none)[0], greedy_select(cmss, noise_second, none)[0]
