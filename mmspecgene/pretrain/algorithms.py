# Copyright (c) mmspecgene contributors. All rights reserved.
"""The Siamese RGBT MAE of M-SpecGene as an mmpretrain algorithm (docs/en/pretrain.md).

Registers into ``mmpretrain.registry.MODELS``: ``RGBTMAEViT`` and ``SpecGeneMAE``; ``mmspecgene.pretrain`` also
registers the host-free decoder, head and maskers.
"""
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmpretrain.models import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from torch import Tensor
from torch.nn.parallel import DistributedDataParallel

from mmspecgene.models.checkpoint import MAE_INIT_ALLOWED_MISSING
from mmspecgene.models.mae_decoder import MODALITIES
from mmspecgene.models.vit import SpecGeneViT, split_modalities


def gather_tokens(tokens: Tensor, ids_keep: Tensor) -> Tensor:
    """(B, L, C) tokens and (B, k) long ids -> (B, k, C) in the order of ``ids_keep``."""
    return torch.gather(tokens, 1, ids_keep.unsqueeze(-1).expand(-1, -1, tokens.shape[-1]))


@MODELS.register_module()
class RGBTMAEViT(SpecGeneViT):
    """Siamese ViT encoder of the RGBT MAE.

    mmpretrain parameter names (``patch_embed.projection``, ``layers.i``, final ``ln1``), fixed sin-cos
    ``pos_embed`` with a zero cls row, a learnable ``cls_token``. Both modalities share every weight.

    Masked forward: per modality m, ``tokens_m = patch_embed(x_m) + pos_embed[:, 1:]`` (B, L, C); one masker
    call for both modalities returns the kept ids (possibly different counts per modality); the visible
    tokens are gathered, the same ``cls_token + pos_embed[:, :1]`` is prepended, then the blocks and ``ln1``.

    Args:
        arch (str | dict): ``'base'``, ``'small'``, ``'tiny'`` or a dict (see :class:`SpecGeneViT`).
        img_size (int | tuple): Input size. Defaults to 224.
        patch_size (int): Patch size. Defaults to 16.
        in_channels (int): Channels per modality. Defaults to 3.
        masker (dict | nn.Module, optional): Masker (``GMMCMSSMasking``, ``ReleasedGMMCMSSMasking``,
            ``RandomRGBTMasking`` config). Required for the masked forward; ``None`` leaves only the feature path
            (``mask=False``).
        drop_path_rate (float): Stochastic depth. Defaults to 0.
        norm_eps (float): LayerNorm epsilon. Defaults to 1e-6.
        init_cfg (dict, optional): mmengine init config. A ``Pretrained`` init loads the encoder only; the
            masker's buffers (its curriculum state) keep their start values.
    """
    pretrained_allowed_missing = MAE_INIT_ALLOWED_MISSING

    def __init__(self,
                 arch: Union[str, dict] = 'base',
                 img_size=224,
                 patch_size: int = 16,
                 in_channels: int = 3,
                 masker: Optional[Union[dict, nn.Module]] = None,
                 drop_path_rate: float = 0.,
                 norm_eps: float = 1e-6,
                 init_cfg: Optional[dict] = None):
        super().__init__(
            arch=arch,
            img_size=img_size,
            patch_size=patch_size,
            in_channels=in_channels,
            naming='mmpretrain',
            qkv_bias=True,
            with_cls_token=True,
            pos_embed_type='sincos',
            final_norm=True,
            norm_eps=norm_eps,
            drop_path_rate=drop_path_rate,
            init_cfg=init_cfg)
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        if isinstance(masker, dict):
            masker = dict(masker)
            masker.setdefault('num_tokens', self.num_patches)
            masker = MODELS.build(masker)
        masker_tokens = getattr(masker, 'num_tokens', self.num_patches)
        if masker_tokens != self.num_patches:
            raise ValueError(f'masker is configured for num_tokens={masker_tokens} but the backbone has '
                             f'{self.num_patches} patches ({self.img_size} input, patch {patch_size})')
        self.masker = masker

    def embed_tokens(self, inputs: Tensor) -> Dict[str, Tensor]:
        """(B, 6, H, W) [RGB | T] -> ``rgb``/``thermal`` tokens (B, L, C) = patch embed + grid positions.

        Both halves run through the patch embedding as one (2B, 3, H, W) batch.
        """
        tokens, hw = self.patch_embed(split_modalities(inputs))
        if tuple(hw) != self.grid_size:
            raise ValueError(f'RGBTMAEViT is built for a {self.grid_size} token grid ({self.img_size} input), '
                             f'got {tuple(hw)} from input shape {tuple(inputs.shape)}')
        tokens = tokens + self.pos_embed[:, 1:]
        rgb_tokens, thermal_tokens = tokens.chunk(2, dim=0)
        return dict(rgb=rgb_tokens, thermal=thermal_tokens)

    def encode(self, tokens: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Prepend cls, run the blocks and ``ln1`` on per-modality token sets.

        Args:
            tokens (dict[str, Tensor]): ``rgb``/``thermal`` (B, N_m, C) token sets (visible or all).

        Returns:
            dict[str, Tensor]: ``rgb``/``thermal`` (B, 1 + N_m, C). Equal lengths run as one 2B batch.
        """
        rgb, thermal = tokens['rgb'], tokens['thermal']
        if rgb.shape == thermal.shape:
            x, _ = self.run_layers(self.prepend_cls(torch.cat([rgb, thermal], dim=0)))
            rgb_out, thermal_out = self.norm(x).chunk(2, dim=0)
            return dict(rgb=rgb_out, thermal=thermal_out)
        outputs = {}
        for modality in MODALITIES:
            x, _ = self.run_layers(self.prepend_cls(tokens[modality]))
            outputs[modality] = self.norm(x)
        return outputs

    def mask_tokens(self, tokens: Dict[str, Tensor]) -> dict:
        """Run the masker once on both modalities' tokens; returns the masker's output dict."""
        if self.masker is None:
            raise RuntimeError('RGBTMAEViT was built without a masker; set backbone.masker (e.g. '
                               "dict(type='GMMCMSSMasking')) or call forward(inputs, mask=False)")
        return self.masker(tokens['rgb'], tokens['thermal'])

    def forward_masked(self, inputs: Tensor) -> Tuple[Dict[str, Tensor], dict]:
        """Masked encoding: returns (``rgb``/``thermal`` latents (B, 1 + k_m, C), masker output dict)."""
        tokens = self.embed_tokens(inputs)
        masking = self.mask_tokens(tokens)
        visible = {m: gather_tokens(tokens[m], masking[f'{m}_ids_keep']) for m in MODALITIES}
        return self.encode(visible), masking

    def forward(self, inputs: Tensor, mask: Optional[bool] = True):
        """MAE-style entry point.

        Args:
            inputs (Tensor): (B, 6, H, W) normalised [RGB | T].
            mask (bool, optional): ``True``: masked pretraining forward; ``False``/``None``: features.

        Returns:
            ``mask=True``: ``(latents, masks, ids_restore)``, three dicts keyed ``rgb``/``thermal`` with
            (B, 1 + k_m, C), (B, L) (1 = masked) and (B, L) long.
            ``mask=False``: dict ``rgb``/``thermal`` of unmasked features (B, 1 + L, C).
        """
        if not mask:
            return self.encode(self.embed_tokens(inputs))
        latents, masking = self.forward_masked(inputs)
        masks = {m: masking[f'{m}_mask'] for m in MODALITIES}
        ids_restore = {m: masking[f'{m}_ids_restore'] for m in MODALITIES}
        return latents, masks, ids_restore


@MODELS.register_module()
class SpecGeneMAE(BaseSelfSupervisor):
    """Siamese RGBT MAE with GMM-CMSS progressive masking (M-SpecGene pretraining).

    ``backbone``: :class:`RGBTMAEViT` (holding the masker), ``neck``: :class:`RGBTMAEDecoder`,
    ``head``: :class:`RGBTMAEHead`. ``loss`` returns ``loss_rgb`` and ``loss_thermal`` only; the masker's
    statistics are logged by ``RGBTMaskingHook``, which also passes the runner's iteration to the masker.

    Buffers a masker declares rank-local (``rank_local_buffer_names``, e.g. the per-GPU state of
    ``ReleasedGMMCMSSMasking``) are kept out of DDP's buffer broadcast.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        rank_local = [
            f'{prefix}.{name}' if prefix else name for prefix, module in self.named_modules()
            for name in getattr(module, 'rank_local_buffer_names', lambda: [])()
        ]
        if rank_local:
            DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(self, rank_local)

    @property
    def masker(self) -> nn.Module:
        return self.backbone.masker

    def extract_feat(self, inputs: Tensor) -> Dict[str, Tensor]:
        """(B, 6, H, W) -> ``rgb``/``thermal`` unmasked token features (B, 1 + L, C) after ``ln1``."""
        return self.backbone(inputs, mask=False)

    def loss(self, inputs: Tensor, data_samples: Optional[List] = None, **kwargs) -> Dict[str, Tensor]:
        """Masked reconstruction losses of both modalities.

        The masker must know the iteration (``masker.set_progress``; ``RGBTMaskingHook`` in a runner).

        Args:
            inputs (Tensor): (B, 6, H, W) normalised [RGB | T].
            data_samples (list, optional): unused.

        Returns:
            dict[str, Tensor]: ``loss_rgb``, ``loss_thermal`` (total = their weighted sum).
        """
        latents, masking = self.backbone.forward_masked(inputs)
        masks = {m: masking[f'{m}_mask'] for m in MODALITIES}
        ids_restore = {m: masking[f'{m}_ids_restore'] for m in MODALITIES}
        preds = self.neck(latents, ids_restore)
        raw_losses = self.head.per_modality_losses(preds, inputs, masks)
        self.masker.update_losses(raw_losses['rgb'].detach(), raw_losses['thermal'].detach())
        return self.head.weighted(raw_losses)
