# Copyright (c) mmspecgene contributors. All rights reserved.
"""Self-attention with the relative-position variants used by M-SpecGene.

* ``rel_pos='none'``: plain fused-qkv attention (pretraining encoder).
* ``rel_pos='decomposed'``: ViTDet-style decomposed relative position, logits +=
  <q, R_h[q_h - k_h]> + <q, R_w[q_w - k_w]> (unscaled query), tables ``rel_pos_h`` / ``rel_pos_w``
  of shape (2S-1, head_dim), linearly interpolated when the token grid differs from the build size.
* ``rel_pos='bias'``: BEiT-style relative position bias table ``relative_position_bias_table``
  ((2Wh-1)(2Ww-1)+3, num_heads) and index buffer ``relative_position_index`` for a grid plus one cls token;
  on another token grid the (2Wh-1, 2Ww-1) offset table is resized bicubically (the three cls entries kept)
  and the index rebuilt for that grid.
"""
import functools
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

REL_POS_MODES = ('none', 'decomposed', 'bias')


def resize_rel_pos(rel_pos: torch.Tensor, length: int) -> torch.Tensor:
    """Linearly resize a (L0, C) relative-position table to (length, C)."""
    if rel_pos.shape[0] == length:
        return rel_pos
    resized = F.interpolate(rel_pos.t().unsqueeze(0), size=length, mode='linear')
    return resized.squeeze(0).t()


def decomposed_rel_pos_tables(rel_pos: torch.Tensor, q_size: int, k_size: int) -> torch.Tensor:
    """Gather the (q_size, k_size, C) relative embeddings for query/key positions."""
    max_dist = 2 * max(q_size, k_size) - 1
    table = resize_rel_pos(rel_pos, max_dist)
    q_coords = torch.arange(q_size, device=rel_pos.device)[:, None] * max(k_size / q_size, 1.0)
    k_coords = torch.arange(k_size, device=rel_pos.device)[None, :] * max(q_size / k_size, 1.0)
    offsets = (q_coords - k_coords) + (k_size - 1) * max(q_size / k_size, 1.0)
    return table[offsets.long()]


def beit_relative_position_index(window_size: Tuple[int, int]) -> torch.Tensor:
    """BEiT relative position index for ``Wh*Ww`` tokens plus one cls token.

    Returns:
        Tensor: (Wh*Ww+1, Wh*Ww+1) long, values in [0, (2Wh-1)(2Ww-1)+3) (a fresh copy of a cached table).
    """
    return _beit_relative_position_index(tuple(int(v) for v in window_size)).clone()


@functools.lru_cache(maxsize=8)
def _beit_relative_position_index(window_size: Tuple[int, int]) -> torch.Tensor:
    wh, ww = window_size
    num_rel = (2 * wh - 1) * (2 * ww - 1) + 3
    coords = torch.stack(torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing='ij')).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
    rel[:, :, 0] += wh - 1
    rel[:, :, 1] += ww - 1
    rel[:, :, 0] *= 2 * ww - 1
    index = torch.zeros((wh * ww + 1, ) * 2, dtype=torch.long)
    index[1:, 1:] = rel.sum(-1)
    index[0, 0:] = num_rel - 3
    index[0:, 0] = num_rel - 2
    index[0, 0] = num_rel - 1
    return index


def resize_beit_bias_table(table: torch.Tensor, src_window: Tuple[int, int],
                           dst_window: Tuple[int, int]) -> torch.Tensor:
    """Resize a ((2Wh-1)(2Ww-1)+3, heads) BEiT bias table from ``src_window`` to ``dst_window``.

    The offset part is resized bicubically (``align_corners=False``) as a (heads, 2Wh-1, 2Ww-1) image; the
    three cls entries at the end are kept.

    Returns:
        Tensor: ((2H-1)(2W-1)+3, heads).
    """
    src_h, src_w = (2 * v - 1 for v in src_window)
    dst_h, dst_w = (2 * v - 1 for v in dst_window)
    expected = src_h * src_w + 3
    if table.shape[0] != expected:
        raise ValueError(f'a BEiT bias table for a {src_window[0]}x{src_window[1]} grid has {expected} rows, '
                         f'got {table.shape[0]}')
    if (src_h, src_w) == (dst_h, dst_w):
        return table
    offsets, cls_entries = table[:-3], table[-3:]
    grid = offsets.t().reshape(1, -1, src_h, src_w)
    resized = F.interpolate(grid, size=(dst_h, dst_w), mode='bicubic', align_corners=False)
    return torch.cat([resized.reshape(-1, dst_h * dst_w).t(), cls_entries])


class MultiheadSelfAttention(nn.Module):
    """Fused-qkv multi-head self-attention.

    Args:
        embed_dims (int): Token width C.
        num_heads (int): Number of heads.
        qkv_bias (bool): Bias in the fused ``qkv`` Linear.
        rel_pos (str): One of :data:`REL_POS_MODES`.
        rel_pos_size (tuple[int, int], optional): Token grid (H, W) the relative-position
            parameters are built for: the window for windowed blocks, the full grid otherwise.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 qkv_bias: bool = True,
                 rel_pos: str = 'none',
                 rel_pos_size: Optional[Tuple[int, int]] = None):
        super().__init__()
        if rel_pos not in REL_POS_MODES:
            raise ValueError(f'rel_pos must be one of {REL_POS_MODES}, got {rel_pos!r}')
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims={embed_dims} is not divisible by num_heads={num_heads}')
        if rel_pos != 'none' and rel_pos_size is None:
            raise ValueError(f'rel_pos={rel_pos!r} needs rel_pos_size=(H, W)')
        self.num_heads = num_heads
        self.head_dims = embed_dims // num_heads
        self.scale = self.head_dims**-0.5
        self.rel_pos = rel_pos
        self.qkv = nn.Linear(embed_dims, embed_dims * 3, bias=qkv_bias)
        self.proj = nn.Linear(embed_dims, embed_dims)
        if rel_pos == 'decomposed':
            h, w = rel_pos_size
            self.rel_pos_h = nn.Parameter(torch.zeros(2 * h - 1, self.head_dims))
            self.rel_pos_w = nn.Parameter(torch.zeros(2 * w - 1, self.head_dims))
        elif rel_pos == 'bias':
            self.bias_window_size = tuple(rel_pos_size)
            wh, ww = self.bias_window_size
            self.relative_position_bias_table = nn.Parameter(
                torch.zeros((2 * wh - 1) * (2 * ww - 1) + 3, num_heads))
            self.register_buffer('relative_position_index',
                                 beit_relative_position_index(self.bias_window_size))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # The BEiT index is recomputed at build time; accept its presence or absence in checkpoints.
        key = prefix + 'relative_position_index'
        if self.rel_pos == 'bias' and key not in state_dict:
            state_dict[key] = self.relative_position_index
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, x: torch.Tensor, hw_shape: Optional[Tuple[int, int]] = None) -> torch.Tensor:
        """Args: x (B, N, C); ``hw_shape`` (H, W) with N == H*W (+1 cls token for the BEiT bias), needed for
        decomposed rel-pos and for a BEiT bias on a grid other than its build grid.

        Returns:
            Tensor: (B, N, C).
        """
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dims).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # (B, heads, N, hd)
        attn_bias = None
        if self.rel_pos == 'decomposed':
            attn_bias = self._decomposed_bias(q, hw_shape)
        elif self.rel_pos == 'bias':
            attn_bias = self._beit_bias(N, hw_shape).to(q.dtype)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_bias)
        return self.proj(out.transpose(1, 2).reshape(B, N, C))

    def _decomposed_bias(self, q: torch.Tensor, hw_shape: Tuple[int, int]) -> torch.Tensor:
        """(B, heads, N, N) additive bias of the decomposed relative position."""
        H, W = hw_shape
        B, heads, N, hd = q.shape
        rh = decomposed_rel_pos_tables(self.rel_pos_h, H, H)  # (H, H, hd)
        rw = decomposed_rel_pos_tables(self.rel_pos_w, W, W)  # (W, W, hd)
        r_q = q.reshape(B, heads, H, W, hd)
        bias_h = torch.einsum('bnhwc,hkc->bnhwk', r_q, rh.to(q.dtype))
        bias_w = torch.einsum('bnhwc,wkc->bnhwk', r_q, rw.to(q.dtype))
        bias = bias_h[..., :, None] + bias_w[..., None, :]  # (B, heads, H, W, H, W)
        return bias.reshape(B, heads, N, N)

    def _beit_bias(self, num_tokens: int, hw_shape: Optional[Tuple[int, int]] = None) -> torch.Tensor:
        """(1, heads, N, N) BEiT relative position bias for N = H*W+1 tokens.

        On the build grid the stored table and index are used; on another ``hw_shape`` the table is resized
        with :func:`resize_beit_bias_table` and the index rebuilt for that grid.
        """
        window = tuple(self.bias_window_size) if hw_shape is None else tuple(int(v) for v in hw_shape)
        if num_tokens != window[0] * window[1] + 1:
            raise ValueError(f'relative position bias for a {window[0]}x{window[1]} grid needs '
                             f'{window[0] * window[1] + 1} tokens (grid + cls), got {num_tokens}')
        if window == tuple(self.bias_window_size):
            table, index = self.relative_position_bias_table, self.relative_position_index
        else:
            table = resize_beit_bias_table(self.relative_position_bias_table, self.bias_window_size, window)
            index = beit_relative_position_index(window).to(table.device)
        bias = table[index.reshape(-1)]
        return bias.reshape(num_tokens, num_tokens, -1).permute(2, 0, 1).unsqueeze(0)
