# Copyright (c) mmspecgene contributors. All rights reserved.
"""Per-modality normalised-pixel reconstruction loss of the RGBT MAE (docs/en/method.md#pretraining-model).
Host-free."""
from typing import Dict, Optional

import torch
from mmengine.model import BaseModule
from torch import Tensor

MODALITIES = ('rgb', 'thermal')


class RGBTMAEHead(BaseModule):
    """Masked L2 loss on normalised pixels, one term per modality (no parameters).

    Target of modality m = its normalised input half, patchified in (h, w, p, q, c) order (patch vector index
    ``(p * P + q) * C + c``); with ``norm_pix`` each patch becomes ``(t - mean) / sqrt(var + eps)`` (unbiased
    variance over the patch). Loss = per-patch mean squared error, averaged over masked patches only:
    ``sum(loss * mask) / sum(mask)`` (the denominator is floored at 1, which only matters if nothing is masked).

    Args:
        patch_size (int): Patch size P. Defaults to 16.
        in_chans (int): Channels per modality C. Defaults to 3.
        norm_pix (bool): Normalise each target patch. Defaults to True.
        norm_pix_eps (float): Epsilon of the patch normalisation. Defaults to 1e-6.
        loss_weights (dict, optional): ``rgb``/``thermal`` weights of the two terms (default 1 and 1).
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 patch_size: int = 16,
                 in_chans: int = 3,
                 norm_pix: bool = True,
                 norm_pix_eps: float = 1e-6,
                 loss_weights: Optional[Dict[str, float]] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.patch_size = patch_size
        self.in_chans = in_chans
        self.norm_pix = norm_pix
        self.norm_pix_eps = norm_pix_eps
        weights = dict(rgb=1.0, thermal=1.0)
        if loss_weights is not None:
            unknown = set(loss_weights) - set(MODALITIES)
            if unknown:
                raise KeyError(f'loss_weights has unknown keys {sorted(unknown)}, expected {MODALITIES}')
            weights.update({k: float(v) for k, v in loss_weights.items()})
        self.loss_weights = weights

    def patchify(self, imgs: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, L, P*P*C) in (h, w, p, q, c) order."""
        P = self.patch_size
        B, C, H, W = imgs.shape
        if H % P or W % P:
            raise ValueError(f'image size {H}x{W} is not divisible by patch size {P}')
        h, w = H // P, W // P
        x = imgs.reshape(B, C, h, P, w, P).permute(0, 2, 4, 3, 5, 1)
        return x.reshape(B, h * w, P * P * C)

    def unpatchify(self, patches: Tensor, grid_size) -> Tensor:
        """(B, L, P*P*C) -> (B, C, h*P, w*P) for the grid (h, w)."""
        P, C = self.patch_size, self.in_chans
        h, w = grid_size
        B = patches.shape[0]
        x = patches.reshape(B, h, w, P, P, C).permute(0, 5, 1, 3, 2, 4)
        return x.reshape(B, C, h * P, w * P)

    def construct_target(self, imgs: Tensor) -> Tensor:
        """(B, C, H, W) normalised image -> (B, L, P*P*C) target (patch-normalised with ``norm_pix``)."""
        target = self.patchify(imgs.float())
        if self.norm_pix:
            var, mean = torch.var_mean(target, dim=-1, keepdim=True, correction=1)
            target = (target - mean) / (var + self.norm_pix_eps).sqrt()
        return target

    def split_inputs(self, inputs: Tensor) -> Dict[str, Tensor]:
        """(B, 2C, H, W) [RGB | T] -> dict of (B, C, H, W) halves."""
        if inputs.dim() != 4 or inputs.shape[1] != 2 * self.in_chans:
            raise ValueError(f'expected a (B, {2 * self.in_chans}, H, W) [RGB | thermal] batch, '
                             f'got shape {tuple(inputs.shape)}')
        C = self.in_chans
        return dict(rgb=inputs[:, :C], thermal=inputs[:, C:])

    def reconstruction_loss(self, pred: Tensor, imgs: Tensor, mask: Tensor) -> Tensor:
        """Masked loss of one modality.

        Args:
            pred (Tensor): (B, L, P*P*C) predictions.
            imgs (Tensor): (B, C, H, W) normalised input of that modality.
            mask (Tensor): (B, L), 1 = masked (removed) patch.

        Returns:
            Tensor: 0-dim float32 loss.
        """
        target = self.construct_target(imgs)
        if pred.shape != target.shape:
            raise ValueError(f'prediction shape {tuple(pred.shape)} does not match target {tuple(target.shape)}')
        if mask.shape != target.shape[:2]:
            raise ValueError(f'mask shape {tuple(mask.shape)} does not match (B, L) = {tuple(target.shape[:2])}')
        per_patch = (pred.float() - target).pow(2).mean(dim=-1)
        mask = mask.to(per_patch.dtype)
        return (per_patch * mask).sum() / mask.sum().clamp_min(1.0)

    def per_modality_losses(self, pred: Dict[str, Tensor], inputs: Tensor,
                            mask: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Unweighted losses ``{'rgb': , 'thermal': }`` (0-dim) of a (B, 6, H, W) [RGB | T] batch."""
        imgs = self.split_inputs(inputs)
        return {m: self.reconstruction_loss(pred[m], imgs[m], mask[m]) for m in MODALITIES}

    def weighted(self, losses: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """``{'rgb': l, ...}`` -> ``{'loss_rgb': w_rgb * l, 'loss_thermal': w_thermal * l}``."""
        return {f'loss_{m}': losses[m] * self.loss_weights[m] for m in MODALITIES}

    def loss(self, pred: Dict[str, Tensor], inputs: Tensor, mask: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Weighted loss terms ``loss_rgb`` and ``loss_thermal`` (total = their sum).

        Args:
            pred (dict[str, Tensor]): ``rgb``/``thermal`` predictions (B, L, P*P*C).
            inputs (Tensor): (B, 2C, H, W) normalised [RGB | T] batch.
            mask (dict[str, Tensor]): ``rgb``/``thermal`` masks (B, L), 1 = masked.
        """
        return self.weighted(self.per_modality_losses(pred, inputs, mask))
