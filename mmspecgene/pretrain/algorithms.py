# Copyright (c) mmspecgene contributors. All rights reserved.
"""The Siamese RGBT MAE of M-SpecGene as an mmpretrain algorithm (SPEC §3).

Registers into ``mmpretrain.registry.MODELS``: ``RGBTMAEViT``, ``SpecGeneMAE``, and the host-free
``RGBTMAEDecoder``, ``RGBTMAEHead`` and (when present) ``GMMCMSSMasking``.
"""
import importlib
import importlib.util
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import MessageHub
from mmpretrain.models import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from torch import Tensor

from mmspecgene.models.mae_decoder import MODALITIES, RGBTMAEDecoder
from mmspecgene.models.mae_head import RGBTMAEHead
from mmspecgene.models.vit import SpecGeneViT, split_modalities
from mmspecgene.utils.registration import register_into

LOG_NAMESPACE_SEP = '/'


register_into(MODELS, RGBTMAEDecoder, RGBTMAEHead)  # idempotent: the package __init__ registers them too
if importlib.util.find_spec('mmspecgene.models.gmm_cmss_masking') is not None:
    register_into(MODELS, importlib.import_module('mmspecgene.models.gmm_cmss_masking').GMMCMSSMasking)


def gather_tokens(tokens: Tensor, ids_keep: Tensor) -> Tensor:
    """(B, L, C) tokens and (B, k) long ids -> (B, k, C) in the order of ``ids_keep``."""
    return torch.gather(tokens, 1, ids_keep.unsqueeze(-1).expand(-1, -1, tokens.shape[-1]))


@MODELS.register_module()
class RGBTMAEViT(SpecGeneViT):
    """Siamese ViT encoder of the RGBT MAE (SPEC §3.2).

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
        masker (dict | nn.Module, optional): Masking module (``GMMCMSSMasking`` config). Required for the
            masked forward; ``None`` leaves only the feature path (``mask=False``).
        drop_path_rate (float): Stochastic depth. Defaults to 0.
        norm_eps (float): LayerNorm epsilon. Defaults to 1e-6.
        init_cfg (dict, optional): mmengine init config.
    """

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
    ``head``: :class:`RGBTMAEHead`. ``loss`` returns ``loss_rgb``, ``loss_thermal`` and the masker's SPEC §5.5
    log scalars; the latter are namespaced (``mask/``, ``curr/``, ``gmm/``, ``cmss/``) and :meth:`parse_losses`
    never adds a namespaced key to the total, even if its name contains ``loss`` (``curr/loss_gap``).
    """

    @property
    def masker(self) -> nn.Module:
        return self.backbone.masker

    def extract_feat(self, inputs: Tensor) -> Dict[str, Tensor]:
        """(B, 6, H, W) -> ``rgb``/``thermal`` unmasked token features (B, 1 + L, C) after ``ln1``."""
        return self.backbone(inputs, mask=False)

    def _sync_progress(self) -> None:
        """Pass the runner's 0-based iteration, ``max_iters`` and ``max_epochs`` to the masker.

        Read from the current mmengine MessageHub runtime info (written by the runner's ``RuntimeInfoHook``).
        Outside a runner nothing is passed: call ``model.masker.set_progress(...)`` yourself (clean mode needs it).
        """
        hub = MessageHub.get_current_instance()
        cur_iter, max_iters = hub.get_info('iter'), hub.get_info('max_iters')
        if cur_iter is None or max_iters is None:
            return
        max_epochs = hub.get_info('max_epochs')
        self.masker.set_progress(
            int(cur_iter), int(max_iters), max_epochs=None if max_epochs is None else int(max_epochs))

    def loss(self, inputs: Tensor, data_samples: Optional[List] = None, **kwargs) -> Dict[str, Tensor]:
        """Masked reconstruction losses of both modalities plus log scalars.

        Args:
            inputs (Tensor): (B, 6, H, W) normalised [RGB | T].
            data_samples (list, optional): unused.

        Returns:
            dict[str, Tensor]: ``loss_rgb``, ``loss_thermal`` (total = their sum) and 0-dim detached log
            scalars under ``mask/``, ``curr/``, ``gmm/``, ``cmss/``.
        """
        self._sync_progress()
        latents, masking = self.backbone.forward_masked(inputs)
        masks = {m: masking[f'{m}_mask'] for m in MODALITIES}
        ids_restore = {m: masking[f'{m}_ids_restore'] for m in MODALITIES}
        preds = self.neck(latents, ids_restore)
        raw_losses = self.head.per_modality_losses(preds, inputs, masks)
        self.masker.update_losses(raw_losses['rgb'].detach(), raw_losses['thermal'].detach())
        losses = self.head.weighted(raw_losses)
        for key, value in self.masker.log_vars().items():
            if LOG_NAMESPACE_SEP not in key:
                if key in losses:  # the masker's copy of loss_rgb / loss_thermal: the loss term is logged
                    continue
                raise KeyError(f'masker log key {key!r} must be namespaced with {LOG_NAMESPACE_SEP!r} '
                               '(e.g. curr/...) so that it is never summed into the loss')
            losses[key] = torch.as_tensor(value).detach()
        return losses

    def parse_losses(self, losses: Dict[str, Tensor]) -> Tuple[Tensor, Dict[str, Tensor]]:
        """Sum the loss terms; keep namespaced log scalars out of the sum.

        mmengine sums every key containing ``'loss'``; here a key is a loss term only if it contains
        ``'loss'`` and no ``'/'``. Returns (total loss, OrderedDict of log values with ``loss`` first).
        """
        log_vars = []
        for name, value in losses.items():
            if isinstance(value, Tensor):
                log_vars.append([name, value.mean()])
            elif isinstance(value, (list, tuple)) and all(isinstance(v, Tensor) for v in value):
                log_vars.append([name, sum(v.mean() for v in value)])
            else:
                raise TypeError(f'{name} is not a tensor or a list of tensors, got {type(value)}')
        terms = [value for name, value in log_vars if 'loss' in name and LOG_NAMESPACE_SEP not in name]
        if not terms:
            raise KeyError(f'no loss term among {[name for name, _ in log_vars]}')
        total = sum(terms)
        log_vars.insert(0, ['loss', total])
        return total, OrderedDict(log_vars)
