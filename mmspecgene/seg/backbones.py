# Copyright (c) mmspecgene contributors. All rights reserved.
"""RGBT ViT segmentation backbone: one shared BEiT-style ViT over both modalities
(docs/en/method.md#segmentation-and-sod)."""
from typing import Optional, Sequence, Tuple

import torch
from mmseg.registry import MODELS

from mmspecgene.models.checkpoint import SEG_INIT_ALLOWED_MISSING, SEG_INIT_ALLOWED_UNEXPECTED, encoder_state_for_seg
from mmspecgene.models.layers.pos_embed import resize_pos_embed_grid
from mmspecgene.models.vit import SpecGeneViT, fuse_modalities, split_modalities


@MODELS.register_module()
class RGBTViTSeg(SpecGeneViT):
    """ViT backbone for paired RGB-thermal segmentation (UperNet), parameter names per
    docs/en/method.md#checkpoint-layouts.

    The (B, 6, H, W) [RGB | T] batch is split into one (2B, 3, H, W) batch [all RGB; all T] and run once
    through the shared ViT (cls token, learnable 1 x (1 + h*w) x C positions, layer scale, BEiT relative
    position bias in every layer, no final norm). The outputs of the blocks in ``out_indices`` lose their
    cls token, become (2B, C, h, w) maps and are fused per sample into (B, 2C, h, w) = [RGB | T].

    Args:
        arch (str | dict): ViT size (``'small'``, ``'base'``, ``'large'``, ...), see
            :data:`mmspecgene.models.vit.ARCH_SETTINGS`.
        img_size (int | tuple): Input size; ``pos_embed`` and the relative position bias cover its grid
            (768 -> 48 x 48, pos 1 x 2305 x 768, bias table 9028 x heads).
        patch_size (int): Patch size.
        in_channels (int): Channels per modality.
        out_indices (Sequence[int], optional): Blocks whose outputs are returned (0-based, increasing); None
            takes the arch's taps scaled to depth ((3, 5, 7, 11) for ViT-S/B, (7, 11, 15, 23) for ViT-L).
        qkv_bias (bool): Bias of the fused qkv projection.
        drop_path_rate (float): Max stochastic depth.
        layer_scale_init_value (float): Init of ``gamma_1`` / ``gamma_2``.
        norm_eps (float): LayerNorm epsilon.
        interpolate_pos_embed (bool): Allow inputs of another size (whole-image inference) by resizing, at
            that forward, the positional grid (bicubic) and every layer's BEiT bias table (bicubic, index
            rebuilt for the new grid). Not faithful to the release, which always runs at ``img_size``.
        init_cfg (dict, optional): ``dict(type='Pretrained', checkpoint=PATH, src_format='auto')`` loads any
            pretraining format (docs/en/method.md#checkpoint-layouts) with a key report; other mmengine init configs
            are not accepted.
    """
    pretrained_allowed_missing = SEG_INIT_ALLOWED_MISSING
    pretrained_allowed_unexpected = SEG_INIT_ALLOWED_UNEXPECTED

    def __init__(self,
                 arch='base',
                 img_size=768,
                 patch_size: int = 16,
                 in_channels: int = 3,
                 out_indices: Optional[Sequence[int]] = None,
                 qkv_bias: bool = True,
                 drop_path_rate: float = 0.1,
                 layer_scale_init_value: float = 1.0,
                 norm_eps: float = 1e-6,
                 interpolate_pos_embed: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(
            arch=arch,
            img_size=img_size,
            patch_size=patch_size,
            in_channels=in_channels,
            naming='mmpretrain',
            qkv_bias=qkv_bias,
            with_cls_token=True,
            pos_embed_type='learnable',
            final_norm=False,
            norm_eps=norm_eps,
            drop_path_rate=drop_path_rate,
            layer_scale_init_value=layer_scale_init_value,
            rel_pos='bias',
            init_cfg=init_cfg)
        if layer_scale_init_value <= 0:
            raise ValueError(f'RGBTViTSeg needs layer scale (gamma_1/gamma_2), got {layer_scale_init_value}')
        if out_indices is None:
            out_indices = self.arch_settings['out_indices']
        indices = [i + self.num_layers if i < 0 else i for i in out_indices]
        if not indices or any(not 0 <= i < self.num_layers for i in indices) or sorted(set(indices)) != indices:
            raise ValueError(f'out_indices must be increasing block indices in [0, {self.num_layers}), '
                             f'got {tuple(out_indices)}')
        self.out_indices = tuple(indices)
        self.interpolate_pos_embed = interpolate_pos_embed

    def _grid_pos_embed(self, hw: Tuple[int, int]) -> torch.Tensor:
        """(1, h*w, C) positions of the patch tokens for the token grid ``hw``."""
        if tuple(hw) == tuple(self.grid_size):
            return self.pos_embed[:, 1:]
        if not self.interpolate_pos_embed:
            size = (hw[0] * self.patch_size, hw[1] * self.patch_size)
            raise ValueError(f'RGBTViTSeg is built for {self.img_size[0]}x{self.img_size[1]} inputs, got '
                             f'{size[0]}x{size[1]}; use slide inference with crop_size={self.img_size} or set '
                             'interpolate_pos_embed=True')
        return resize_pos_embed_grid(self.pos_embed, self.grid_size, hw, num_extra_tokens=1)[:, 1:]

    def forward(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Args: inputs (B, 6, H, W) normalised [RGB | T].

        Returns:
            tuple[Tensor]: one (B, 2C, H/p, W/p) map per ``out_indices`` entry, channels [RGB | T].
        """
        images = split_modalities(inputs)  # (2B, 3, H, W)
        tokens, hw = self.patch_embed(images)  # (2B, h*w, C)
        tokens = self.prepend_cls(tokens + self._grid_pos_embed(hw))
        _, taps = self.run_layers(tokens, hw, self.out_indices)
        outs = []
        for tap in taps:
            fmap = tap[:, 1:].transpose(1, 2).reshape(tap.shape[0], self.embed_dims, hw[0], hw[1])
            outs.append(fuse_modalities(fmap))
        return tuple(outs)

    def adapt_encoder_state(self, state: dict) -> dict:
        """Encoder state -> seg names, with ``pos_embed`` resized once to this grid (cls row kept)."""
        return encoder_state_for_seg(state, self.grid_size)
