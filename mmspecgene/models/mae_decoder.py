# Copyright (c) mmspecgene contributors. All rights reserved.
"""Dual RGB/thermal MAE decoder with parallel cross-modal attention (docs/en/method.md#pretraining-model).

Host-free (torch + mmengine). Parameter layout (docs/en/method.md#checkpoint-layouts, ``neck.`` prefix in a full
model)::

    {rgb,thermal}.embed.{weight,bias}          (D_dec, D_enc)
    {rgb,thermal}.mask_token                   (1, 1, D_dec)
    {rgb,thermal}.pos_embed                    (1, 1 + L, D_dec)   fixed sin-cos
    {rgb,thermal}.cross_attn.{ln1,ln2}.*       query / key-value norm (shared) and FFN norm
    {rgb,thermal}.cross_attn.attn.{q,k,v}.weight, .attn.{q_bias,v_bias}, .attn.proj.*
    {rgb,thermal}.cross_attn.ffn.layers.{0.0,1}.*
    {rgb,thermal}.blocks.{j}.*                 mmpretrain-named pre-norm blocks
    {rgb,thermal}.pred.{weight,bias}           (p*p*3, D_dec)
    norm.*                                     shared final norm (or {rgb,thermal}.norm.* if not shared)

``thermal.cross_attn`` takes its query from thermal and key/value from RGB; ``rgb.cross_attn`` the reverse.
"""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from .layers.pos_embed import sincos_pos_embed_2d
from .layers.transformer import FeedForward, TransformerBlock

MODALITIES = ('rgb', 'thermal')


class CrossAttention(nn.Module):
    """Multi-head attention with the query from one stream and key/value from another.

    ``q``, ``k``, ``v`` are bias-free Linears; learnable ``q_bias`` and ``v_bias`` (zero init) are added,
    the key bias is fixed at 0 (no parameter). ``proj`` has a bias. No dropout.

    Args:
        embed_dims (int): Token width C.
        num_heads (int): Number of heads (C must be divisible by it).
    """

    def __init__(self, embed_dims: int, num_heads: int):
        super().__init__()
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims={embed_dims} is not divisible by num_heads={num_heads}')
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.head_dims = embed_dims // num_heads
        self.scale = self.head_dims**-0.5
        self.q = nn.Linear(embed_dims, embed_dims, bias=False)
        self.k = nn.Linear(embed_dims, embed_dims, bias=False)
        self.v = nn.Linear(embed_dims, embed_dims, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(embed_dims))
        self.v_bias = nn.Parameter(torch.zeros(embed_dims))
        self.proj = nn.Linear(embed_dims, embed_dims)

    def forward(self, query: Tensor, key_value: Tensor) -> Tensor:
        """Args: query (B, N, C); key_value (B, M, C). Returns: (B, N, C)."""
        B, N, C = query.shape
        M = key_value.shape[1]
        q = F.linear(query, self.q.weight, self.q_bias)
        k = F.linear(key_value, self.k.weight)
        v = F.linear(key_value, self.v.weight, self.v_bias)
        q = q.reshape(B, N, self.num_heads, self.head_dims).transpose(1, 2)
        k = k.reshape(B, M, self.num_heads, self.head_dims).transpose(1, 2)
        v = v.reshape(B, M, self.num_heads, self.head_dims).transpose(1, 2)
        out = F.scaled_dot_product_attention(q, k, v, scale=self.scale)  # (B, heads, N, hd)
        return self.proj(out.transpose(1, 2).reshape(B, N, C))


class CrossAttentionBlock(nn.Module):
    """Pre-norm cross-attention block (docs/en/method.md#pretraining-model).

    ``x <- x + attn(ln1(x), ln1(y))``, then ``x <- x + ffn(ln2(x))``: one LayerNorm (``ln1``) normalises
    both the query stream x and the key/value stream y.

    Args:
        embed_dims (int): Token width C.
        num_heads (int): Attention heads.
        mlp_ratio (float): FFN hidden width / C.
        norm_eps (float): LayerNorm epsilon.
    """

    def __init__(self, embed_dims: int, num_heads: int, mlp_ratio: float = 4., norm_eps: float = 1e-6):
        super().__init__()
        self.ln1 = nn.LayerNorm(embed_dims, eps=norm_eps)
        self.attn = CrossAttention(embed_dims, num_heads)
        self.ln2 = nn.LayerNorm(embed_dims, eps=norm_eps)
        self.ffn = FeedForward(embed_dims, int(embed_dims * mlp_ratio), naming='mmpretrain')

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        """Args: x (B, N, C) query stream; y (B, M, C) key/value stream. Returns: (B, N, C)."""
        x = x + self.attn(self.ln1(x), self.ln1(y))
        return x + self.ffn(self.ln2(x))


class ModalityDecoder(nn.Module):
    """The decoder branch of one modality: embed, mask token, positions, cross-attention, blocks, pred.

    Args:
        grid_size (tuple[int, int]): Token grid (h, w); L = h * w.
        embed_dims (int): Encoder width (input of ``embed``).
        decoder_embed_dims (int): Decoder width.
        decoder_depth (int): Number of self-attention blocks.
        decoder_num_heads (int): Heads of the self-attention blocks.
        cross_num_heads (int): Heads of the cross-attention block.
        mlp_ratio (float): FFN ratio of all blocks.
        pred_dims (int): Output width per patch (p * p * in_channels).
        norm_eps (float): LayerNorm epsilon.
        with_norm (bool): Build a per-modality final ``norm`` (used when the final norm is not shared).
        with_cross_attn (bool): Build the cross-attention block (False: a plain MAE decoder branch).
    """

    def __init__(self, grid_size: Tuple[int, int], embed_dims: int, decoder_embed_dims: int, decoder_depth: int,
                 decoder_num_heads: int, cross_num_heads: int, mlp_ratio: float, pred_dims: int, norm_eps: float,
                 with_norm: bool, with_cross_attn: bool = True):
        super().__init__()
        self.grid_size = tuple(grid_size)
        num_tokens = self.grid_size[0] * self.grid_size[1] + 1
        self.embed = nn.Linear(embed_dims, decoder_embed_dims)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_embed_dims))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_tokens, decoder_embed_dims), requires_grad=False)
        if with_cross_attn:
            self.cross_attn = CrossAttentionBlock(decoder_embed_dims, cross_num_heads, mlp_ratio, norm_eps)
        self.blocks = nn.ModuleList([
            TransformerBlock(
                decoder_embed_dims,
                decoder_num_heads,
                mlp_ratio=mlp_ratio,
                qkv_bias=True,
                naming='mmpretrain',
                norm_eps=norm_eps) for _ in range(decoder_depth)
        ])
        if with_norm:
            self.norm = nn.LayerNorm(decoder_embed_dims, eps=norm_eps)
        self.pred = nn.Linear(decoder_embed_dims, pred_dims)

    def restore_tokens(self, latent: Tensor, ids_restore: Tensor) -> Tensor:
        """Embed the visible tokens, insert mask tokens in the original order and add positions.

        Args:
            latent (Tensor): (B, 1 + k, C_enc) encoder output, cls first, visible tokens in kept order.
            ids_restore (Tensor): (B, L) long, ``argsort(ids_shuffle)`` with the kept ids first in
                ``ids_shuffle``.

        Returns:
            Tensor: (B, 1 + L, C_dec).
        """
        B, L = ids_restore.shape
        if L + 1 != self.pos_embed.shape[1]:
            raise ValueError(f'ids_restore has {L} tokens but the decoder is built for '
                             f'{self.pos_embed.shape[1] - 1} ({self.grid_size[0]}x{self.grid_size[1]})')
        num_visible = latent.shape[1] - 1
        if not 0 < num_visible <= L:
            raise ValueError(f'expected 1..{L} visible tokens after the cls token, got {num_visible}')
        x = self.embed(latent)
        mask_tokens = self.mask_token.to(x.dtype).expand(B, L - num_visible, -1)
        tokens = torch.cat([x[:, 1:], mask_tokens], dim=1)
        index = ids_restore.unsqueeze(-1).expand(-1, -1, tokens.shape[-1])
        tokens = torch.gather(tokens, 1, index)
        return torch.cat([x[:, :1], tokens], dim=1) + self.pos_embed

    def run_blocks(self, x: Tensor) -> Tensor:
        """(B, 1 + L, C_dec) -> (B, 1 + L, C_dec) through the self-attention blocks."""
        for block in self.blocks:
            x = block(x)
        return x


class RGBTMAEDecoder(BaseModule):
    """Dual MAE decoder for RGB and thermal with parallel cross-modal attention (docs/en/method.md#pretraining-model).

    Per modality: embed the visible tokens, restore the full sequence with mask tokens and fixed sin-cos
    positions; then, from these pre-cross tokens, ``x_thermal' = CA_thermal(x_thermal, x_rgb)`` and
    ``x_rgb' = CA_rgb(x_rgb, x_thermal)`` (parallel: neither uses the other's output); then the
    self-attention blocks, the final norm, ``pred`` and drop cls.

    Args:
        num_patches (int | tuple[int, int]): L (a square grid) or the grid (h, w). Defaults to 196.
        patch_size (int): Patch size p. Defaults to 16.
        in_chans (int): Channels per modality. Defaults to 3.
        embed_dim (int): Encoder width. Defaults to 768.
        decoder_embed_dim (int): Decoder width. Defaults to 512.
        decoder_depth (int): Self-attention blocks per modality. Defaults to 4.
        decoder_num_heads (int): Heads of the blocks. Defaults to 16.
        cross_num_heads (int, optional): Heads of the cross-attention (default: ``decoder_num_heads``).
        mlp_ratio (float): FFN ratio. Defaults to 4.
        norm_eps (float): LayerNorm epsilon. Defaults to 1e-6.
        shared_decoder_norm (bool): One final ``norm`` for both modalities (released layout, default) or
            one ``{rgb,thermal}.norm`` each.
        init_cfg (dict, optional): mmengine init config.
    """

    with_cross_attn = True

    def __init__(self,
                 num_patches: Union[int, Sequence[int]] = 196,
                 patch_size: int = 16,
                 in_chans: int = 3,
                 embed_dim: int = 768,
                 decoder_embed_dim: int = 512,
                 decoder_depth: int = 4,
                 decoder_num_heads: int = 16,
                 cross_num_heads: Optional[int] = None,
                 mlp_ratio: float = 4.,
                 norm_eps: float = 1e-6,
                 shared_decoder_norm: bool = True,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if isinstance(num_patches, int):
            side = int(round(num_patches**0.5))
            if side * side != num_patches:
                raise ValueError(f'num_patches={num_patches} is not a square; pass the grid (h, w) instead')
            grid_size = (side, side)
        else:
            grid_size = tuple(int(s) for s in num_patches)
            if len(grid_size) != 2:
                raise ValueError(f'num_patches must be an int or a grid (h, w), got {num_patches!r}')
        self.grid_size = grid_size
        self.num_patches = grid_size[0] * grid_size[1]
        self.patch_size = patch_size
        self.in_chans = in_chans
        self.shared_decoder_norm = shared_decoder_norm
        branch_cfg = dict(
            grid_size=grid_size,
            embed_dims=embed_dim,
            decoder_embed_dims=decoder_embed_dim,
            decoder_depth=decoder_depth,
            decoder_num_heads=decoder_num_heads,
            cross_num_heads=cross_num_heads or decoder_num_heads,
            mlp_ratio=mlp_ratio,
            pred_dims=patch_size * patch_size * in_chans,
            norm_eps=norm_eps,
            with_norm=not shared_decoder_norm,
            with_cross_attn=self.with_cross_attn)
        self.rgb = ModalityDecoder(**branch_cfg)
        self.thermal = ModalityDecoder(**branch_cfg)
        if shared_decoder_norm:
            self.norm = nn.LayerNorm(decoder_embed_dim, eps=norm_eps)

    def branch(self, modality: str) -> ModalityDecoder:
        if modality not in MODALITIES:
            raise KeyError(f'unknown modality {modality!r}, expected one of {MODALITIES}')
        return getattr(self, modality)

    def final_norm(self, modality: str) -> nn.LayerNorm:
        return self.norm if self.shared_decoder_norm else self.branch(modality).norm

    def exchange(self, tokens: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Parallel cross-attention: both modalities read the other's pre-cross tokens (B, 1 + L, C_dec)."""
        return {
            'rgb': self.rgb.cross_attn(tokens['rgb'], tokens['thermal']),
            'thermal': self.thermal.cross_attn(tokens['thermal'], tokens['rgb']),
        }

    def init_weights(self):
        """Xavier-uniform Linear, zero biases, LN (1, 0), mask tokens N(0, 0.02), sin-cos positions."""
        super().init_weights()
        if self.init_cfg is not None and self.init_cfg.get('type') == 'Pretrained':
            return
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, CrossAttention):
                nn.init.zeros_(m.q_bias)
                nn.init.zeros_(m.v_bias)
        for modality in MODALITIES:
            branch = self.branch(modality)
            branch.pos_embed.data.copy_(
                sincos_pos_embed_2d(self.grid_size, branch.pos_embed.shape[-1], cls_token=True))
            nn.init.normal_(branch.mask_token, std=0.02)

    def forward(self, latents: Dict[str, Tensor], ids_restore: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Reconstruct both modalities.

        Args:
            latents (dict[str, Tensor]): ``rgb``/``thermal`` encoder outputs (B, 1 + k_m, C_enc); the
                visible counts k_m may differ.
            ids_restore (dict[str, Tensor]): ``rgb``/``thermal`` (B, L) long restore indices.

        Returns:
            dict[str, Tensor]: ``rgb``/``thermal`` pixel predictions (B, L, p*p*in_chans).
        """
        for modality in MODALITIES:
            if modality not in latents or modality not in ids_restore:
                raise KeyError(f'RGBTMAEDecoder needs {modality!r} in latents and ids_restore, got '
                               f'{sorted(latents)} and {sorted(ids_restore)}')
        tokens = {m: self.branch(m).restore_tokens(latents[m], ids_restore[m]) for m in MODALITIES}
        crossed = self.exchange(tokens)
        preds = {}
        for modality in MODALITIES:
            branch = self.branch(modality)
            x = self.final_norm(modality)(branch.run_blocks(crossed[modality]))
            preds[modality] = branch.pred(x)[:, 1:]
        return preds


class RGBTMAEPlainDecoder(RGBTMAEDecoder):
    """Two plain MAE decoders, one per modality, without cross-modal attention (ablation of the cross-attention).

    Same arguments and layout as :class:`RGBTMAEDecoder` minus ``{rgb,thermal}.cross_attn.*``
    (``cross_num_heads`` is ignored): embed, mask tokens, positions, self-attention blocks, final norm, pred.
    """

    with_cross_attn = False

    def exchange(self, tokens: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """No exchange: each modality decodes from its own tokens."""
        return tokens
