# Copyright (c) mmspecgene contributors. All rights reserved.
"""RGBT ViTDet backbone: one shared ViT over both modalities, fused per sample (docs/en/method.md#detection)."""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmdet.registry import MODELS

from mmspecgene.models.checkpoint import DET_INIT_ALLOWED_MISSING, DET_INIT_ALLOWED_UNEXPECTED, encoder_state_for_det
from mmspecgene.models.layers.pos_embed import resize_pos_embed_grid
from mmspecgene.models.vit import SpecGeneViT, fuse_modalities, get_arch_settings, split_modalities


@MODELS.register_module()
class RGBTViTDet(SpecGeneViT):
    """ViTDet backbone for paired RGB-thermal input.

    The (B, 6, S, S) [RGB | T] batch is split into one (2B, 3, S, S) batch [all RGB; all T], run once
    through the shared ViT, and the (2B, C, S/16, S/16) map is fused per sample into
    (B, 2C, S/16, S/16) = [RGB feats | T feats]. Parameter names follow docs/en/method.md#checkpoint-layouts (timm
    naming,
    ``backbone.blocks.{i}...``), so the released fine-tuned checkpoints load without renaming.

    Args:
        arch (str | dict): ViT size (``'small'``, ``'base'``, ``'large'``, ...), see
            :data:`mmspecgene.models.vit.ARCH_SETTINGS`.
        img_size (int | tuple): Training input size S; the global blocks' relative-position
            tables are built for the (S/16, S/16) grid (119 x 64 at 960).
        pretrain_img_size (int | tuple): Size the stored absolute ``pos_embed`` covers
            (224 -> 1 + 14*14 rows; the cls row is kept in storage, unused at runtime).
        patch_size (int): Patch size.
        in_channels (int): Channels per modality.
        window_size (int): Window of the windowed blocks.
        global_attn_indexes (Sequence[int], optional): Blocks with global attention; None takes the arch's
            ((2, 5, 8, 11) for ViT-S/B, (5, 11, 17, 23) for ViT-L).
        drop_path_rate (float): Max stochastic depth.
        norm_eps (float): LayerNorm epsilon (1e-5 as in the released detector).
        qkv_bias (bool): Bias of the fused qkv projections.
        with_cp (bool): Gradient checkpointing of every block in training (saves memory).
        init_cfg (dict, optional): ``dict(type='Pretrained', checkpoint=PATH, src_format='auto')``
            loads any pretraining checkpoint format through :mod:`mmspecgene.models.checkpoint`.
    """
    pretrained_allowed_missing = DET_INIT_ALLOWED_MISSING
    pretrained_allowed_unexpected = DET_INIT_ALLOWED_UNEXPECTED

    def __init__(self,
                 arch='base',
                 img_size=960,
                 pretrain_img_size=224,
                 patch_size: int = 16,
                 in_channels: int = 3,
                 window_size: int = 14,
                 global_attn_indexes: Optional[Sequence[int]] = None,
                 drop_path_rate: float = 0.1,
                 norm_eps: float = 1e-5,
                 qkv_bias: bool = True,
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None):
        if global_attn_indexes is None:
            global_attn_indexes = get_arch_settings(arch)['global_attn_indexes']
        super().__init__(
            arch=arch,
            img_size=img_size,
            patch_size=patch_size,
            in_channels=in_channels,
            naming='timm',
            qkv_bias=qkv_bias,
            with_cls_token=False,
            pos_embed_type='learnable',
            final_norm=False,
            norm_eps=norm_eps,
            drop_path_rate=drop_path_rate,
            window_size=window_size,
            global_attn_indexes=global_attn_indexes,
            rel_pos='decomposed',
            init_cfg=init_cfg)
        bad = [i for i in global_attn_indexes if not 0 <= i < self.num_layers]
        if bad:
            raise ValueError(f'global_attn_indexes {tuple(global_attn_indexes)} has indexes {bad} outside '
                             f'the {self.num_layers} blocks of this arch')
        self.global_attn_indexes = tuple(sorted(global_attn_indexes))
        self.with_cp = with_cp
        pretrain_size = (pretrain_img_size, ) * 2 if isinstance(pretrain_img_size, int) else tuple(pretrain_img_size)
        self.pretrain_grid_size = (pretrain_size[0] // patch_size, pretrain_size[1] // patch_size)
        # Stored like the released checkpoint: a cls row plus the pretraining grid, 1 x 197 x C at 224.
        num_pos = 1 + self.pretrain_grid_size[0] * self.pretrain_grid_size[1]
        self.pos_embed = nn.Parameter(torch.zeros(1, num_pos, self.embed_dims))

    def grid_pos_embed(self, hw_shape: Tuple[int, int]) -> torch.Tensor:
        """Absolute positions for an (h, w) token grid: cls row dropped, grid resized bicubically.

        Returns:
            Tensor: (1, h*w, C).
        """
        pos = resize_pos_embed_grid(self.pos_embed, self.pretrain_grid_size, hw_shape, num_extra_tokens=1)
        return pos[:, 1:]

    def forward(self, inputs: torch.Tensor) -> Tuple[torch.Tensor]:
        """(B, 6, H, W) [RGB | T] -> 1-tuple of (B, 2C, H/16, W/16) [RGB feats | T feats]."""
        stacked = split_modalities(inputs)  # (2B, 3, H, W)
        tokens, hw_shape = self.patch_embed(stacked)  # (2B, h*w, C)
        tokens = tokens + self.grid_pos_embed(hw_shape).to(tokens.dtype)
        for layer in self.layers:
            if self.with_cp and self.training and tokens.requires_grad:
                tokens = cp.checkpoint(layer, tokens, hw_shape, use_reentrant=False)
            else:
                tokens = layer(tokens, hw_shape)
        features = tokens.transpose(1, 2).reshape(tokens.shape[0], self.embed_dims, *hw_shape)
        return (fuse_modalities(features), )

    def adapt_encoder_state(self, state: dict) -> dict:
        """Encoder state -> timm/ViTDet names; ``pos_embed`` stays 1 x (1 + 14*14) (resized per forward)."""
        return encoder_state_for_det(state)
