# Copyright (c) mmspecgene contributors. All rights reserved.
"""Plain MAE random masking of paired RGB/thermal tokens: the baseline without GMM or curriculum state."""
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log
from torch import Tensor

from .masking_ops import (
    MODALITIES,
    assert_masks_valid,
    check_token_pair,
    keep_count,
    masking_outputs,
    noise_generator,
    visible_overlap,
)

# Buffers that GMMCMSSMasking(mode='random') saved before the maskers were split; ignored when loading.
LEGACY_GMM_BUFFERS = ('gmm_mean', 'gmm_var', 'gmm_weight', 'centres', 'num_centres', 'keep_bias', 'centre_bias',
                      'tick', 'last_iter', 'num_calls', 'loss_ema_rgb', 'loss_ema_thermal', 'ema_initialised')


class RandomRGBTMasking(nn.Module):
    """Independent uniform random masking per modality, ``keep_count(L, mask_ratio)`` tokens each.

    Same call API as :class:`GMMCMSSMasking` (``set_progress``, ``forward``, ``update_losses``, ``statistics``,
    ``keep_counts``); the visible sets of the two modalities may overlap. The noise is seeded from
    ``(seed, rank, cur_iter)``, so a resumed run redraws the same masks. No state: nothing in the checkpoint.

    Args:
        num_tokens (int): L. Default 196.
        mask_ratio (float): mask ratio r, keep floor(L (1 - r) + 1e-6) per modality. Default 0.90.
        seed (int): noise seed.
        check_invariants (bool): device-side assert (no host sync) that the kept counts match.
    """

    def __init__(self, num_tokens: int = 196, mask_ratio: float = 0.90, seed: int = 0,
                 check_invariants: bool = True) -> None:
        super().__init__()
        if not 0.0 < mask_ratio < 1.0:
            raise ValueError(f'RandomRGBTMasking: mask_ratio={mask_ratio} must lie in (0, 1).')
        self.num_tokens = int(num_tokens)
        self.mask_ratio = float(mask_ratio)
        self.base_keep = keep_count(self.num_tokens, self.mask_ratio)
        if self.base_keep < 1:
            raise ValueError(f'RandomRGBTMasking: mask_ratio={mask_ratio} keeps no token of L={num_tokens}.')
        self.seed = int(seed)
        self.check_invariants = bool(check_invariants)
        self._cur_iter: Optional[int] = None
        self._num_calls = 0
        self._last_outputs: Optional[Dict[str, Tensor]] = None

    def set_progress(self, cur_iter: int, max_iters: int, max_epochs: Optional[int] = None) -> None:
        """Record the 0-based global iteration: it seeds the noise of the next call."""
        self._cur_iter = int(cur_iter)

    def forward(self, rgb_tokens: Tensor, thermal_tokens: Tensor) -> Dict[str, Tensor]:
        """(B, L, D) tokens of each modality -> the masker outputs of :func:`masking_outputs` (no ``cmss``)."""
        check_token_pair(rgb_tokens, thermal_tokens, self.num_tokens, 'RandomRGBTMasking')
        iteration = self._cur_iter if self._cur_iter is not None else self._num_calls
        device = rgb_tokens.device
        generator = noise_generator(self.seed, iteration, device)
        noise = torch.rand(2, rgb_tokens.shape[0], self.num_tokens, generator=generator, device=device)
        ids_keep = torch.argsort(noise, dim=-1)[..., :self.base_keep]
        outputs = masking_outputs(dict(rgb=ids_keep[0], thermal=ids_keep[1]), self.num_tokens)
        if self.check_invariants:
            assert_masks_valid(outputs, disjoint=False, owner='RandomRGBTMasking')
        self._last_outputs = outputs
        self._num_calls += 1
        return outputs

    def update_losses(self, loss_rgb: Tensor, loss_thermal: Tensor) -> None:
        """Nothing to adapt: random masking ignores the losses."""

    @property
    def keep_counts(self) -> Dict[str, int]:
        return {modality: self.base_keep for modality in MODALITIES}

    def statistics(self) -> Dict[str, Tensor]:
        """``mask/keep_*``, ``mask/ratio_*`` and ``mask/overlap`` (visible in both, last call) as 0-dim tensors."""
        last = self._last_outputs
        device = last['rgb_mask'].device if last is not None else None
        scalars = {}
        for modality, keep in self.keep_counts.items():
            scalars[f'mask/keep_{modality}'] = torch.tensor(float(keep), device=device)
            scalars[f'mask/ratio_{modality}'] = torch.tensor(1.0 - keep / self.num_tokens, device=device)
        if last is not None:
            scalars['mask/overlap'] = visible_overlap(last).float().mean()
        return scalars

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        legacy = [prefix + name for name in LEGACY_GMM_BUFFERS if prefix + name in state_dict]
        if legacy:
            for key in legacy:
                state_dict.pop(key)
            print_log(f'RandomRGBTMasking: ignored {len(legacy)} GMM state entries under {prefix!r} of a checkpoint '
                      "written by GMMCMSSMasking(mode='random'); random masking has no state.", logger='current')
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def extra_repr(self) -> str:
        return f'num_tokens={self.num_tokens}, mask_ratio={self.mask_ratio}, base_keep={self.base_keep}'
