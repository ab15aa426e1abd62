# Copyright (c) mmspecgene contributors. All rights reserved.
"""RGBT ViT feature extractor for matching: the single ViT core, shared by both modalities."""
import math
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp

from ..models.checkpoint import CheckpointMismatchError
from ..models.layers.pos_embed import resize_pos_embed_grid
from ..models.vit import SpecGeneViT, split_modalities
from ..registry import MODELS

#: encoder-state keys the matching backbone does not use (the pretraining cls token)
MATCH_INIT_ALLOWED_UNEXPECTED = (r'cls_token$', )


def _is_square(n: int) -> bool:
    side = int(round(math.sqrt(max(n, 0))))
    return n > 0 and side * side == n


@MODELS.register_module()
class RGBTViTMatch(SpecGeneViT):
    """ViT backbone for RGB-thermal matching: mmpretrain names (a pretraining encoder loads without renaming),
    global attention, learnable absolute positions resized to any input grid, final LayerNorm.

    The (B, 6, H, W) [RGB | T] batch is split into one (2B, 3, H, W) batch [all RGB; all T] and run once through
    the shared ViT; unlike detection/segmentation the two modalities are returned separately (matching compares
    them), each as a (B, C, H/16, W/16) map.

    Args:
        arch (str | dict): ViT size, see :data:`mmspecgene.models.vit.ARCH_SETTINGS`.
        pretrain_img_size (int): Size the stored ``pos_embed`` covers (1 + (S/16)^2 rows, cls row unused);
            a checkpoint of another grid is resized bicubically once at load time.
        patch_size (int): Patch size.
        drop_path_rate (float): Max stochastic depth.
        norm_eps (float): LayerNorm epsilon.
        with_cp (bool): Gradient checkpointing of every block in training.
        init_cfg (dict, optional): ``dict(type='Pretrained', checkpoint=PATH, src_format='auto')``: any
            pretraining checkpoint format (released or mmspecgene, det-init, seg-init) through
            :mod:`mmspecgene.models.checkpoint`, with a key report.
    """
    pretrained_allowed_unexpected = MATCH_INIT_ALLOWED_UNEXPECTED

    def __init__(self,
                 arch='base',
                 pretrain_img_size: int = 224,
                 patch_size: int = 16,
                 drop_path_rate: float = 0.1,
                 norm_eps: float = 1e-6,
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(
            arch=arch,
            img_size=pretrain_img_size,
            patch_size=patch_size,
            in_channels=3,
            naming='mmpretrain',
            qkv_bias=True,
            with_cls_token=False,
            pos_embed_type='learnable',
            final_norm=True,
            norm_eps=norm_eps,
            drop_path_rate=drop_path_rate,
            init_cfg=init_cfg)
        self.with_cp = with_cp
        self.pretrain_grid_size = self.grid_size
        # stored like a pretraining checkpoint: a cls row plus the grid (1 x 197 x C at 224)
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + self.grid_size[0] * self.grid_size[1], self.embed_dims))

    def forward(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(B, 6, H, W) normalised [RGB | T] -> (rgb, thermal) feature maps, each (B, C, H/16, W/16)."""
        stacked = split_modalities(inputs)  # (2B, 3, H, W)
        tokens, hw = self.patch_embed(stacked)  # (2B, h*w, C)
        pos = resize_pos_embed_grid(self.pos_embed, self.pretrain_grid_size, hw, num_extra_tokens=1)[:, 1:]
        tokens = tokens + pos.to(tokens.dtype)
        for layer in self.layers:
            if self.with_cp and self.training and tokens.requires_grad:
                tokens = cp.checkpoint(layer, tokens, hw, use_reentrant=False)
            else:
                tokens = layer(tokens, hw)
        tokens = self.norm(tokens)
        features = tokens.transpose(1, 2).reshape(tokens.shape[0], self.embed_dims, *hw)
        rgb, thermal = features.chunk(2, dim=0)
        return rgb, thermal

    def adapt_encoder_state(self, state: dict) -> dict:
        """Encoder state (mmpretrain names) with ``pos_embed`` resized to the stored grid when it differs.

        Whether ``pos_embed`` has a cls row is read from its length: (1, 1 + s*s, C) has one (pretraining
        encoders, and matchers, which keep the row without a cls token), (1, s*s, C) has none.
        """
        state = dict(state)
        pos = state.get('pos_embed')
        if pos is not None:
            if pos.dim() != 3 or pos.shape[0] != 1:
                raise CheckpointMismatchError(f'pos_embed: expected (1, 1 + s*s, C), got {tuple(pos.shape)}')
            num_extra = 1 if _is_square(pos.shape[1] - 1) else 0
            side = int(round(math.sqrt(pos.shape[1] - num_extra)))
            if side < 1 or side * side != pos.shape[1] - num_extra:
                raise CheckpointMismatchError(
                    f'pos_embed: expected (1, 1 + s*s, C) or (1, s*s, C), got {tuple(pos.shape)}')
            if num_extra == 0:
                pos = torch.cat([pos.new_zeros(1, 1, pos.shape[2]), pos], dim=1)
            state['pos_embed'] = resize_pos_embed_grid(pos, (side, side), self.pretrain_grid_size, num_extra_tokens=1)
        return state
