# Copyright (c) mmspecgene contributors. All rights reserved.
"""Positional embedding construction and resizing."""
from typing import Tuple

import torch
import torch.nn.functional as F


def sincos_pos_embed_2d(grid_size: Tuple[int, int], embed_dims: int, cls_token: bool = True,
                        temperature: float = 1e4) -> torch.Tensor:
    """Fixed 2-D sin-cos table.

    Layout per token: [sin(u*w), cos(u*w), sin(v*w), cos(v*w)] with u = row index, v = column
    index and D/4 frequencies w_d = temperature^(-d/(D/4)); the cls row (if any) is all zeros.

    Returns:
        Tensor: (1, [1 +] H*W, D) float32.
    """
    if embed_dims % 4:
        raise ValueError(f'sin-cos embedding needs embed_dims divisible by 4, got {embed_dims}')
    h, w = grid_size
    num_freq = embed_dims // 4
    omega = 1. / temperature**(torch.arange(num_freq, dtype=torch.float64) / num_freq)
    rows, cols = torch.meshgrid(
        torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing='ij')
    out_u = rows.reshape(-1, 1) * omega[None]
    out_v = cols.reshape(-1, 1) * omega[None]
    table = torch.cat([out_u.sin(), out_u.cos(), out_v.sin(), out_v.cos()], dim=1).float()
    if cls_token:
        table = torch.cat([table.new_zeros(1, embed_dims), table], dim=0)
    return table.unsqueeze(0)


def resize_pos_embed_grid(pos_embed: torch.Tensor, src_hw: Tuple[int, int], dst_hw: Tuple[int, int],
                          num_extra_tokens: int = 1) -> torch.Tensor:
    """Bicubically resize the grid part of a (1, extra + H*W, C) table (align_corners=False).

    Returns:
        Tensor: (1, extra + H'*W', C); the extra (cls) rows are kept unchanged.
    """
    if tuple(src_hw) == tuple(dst_hw):
        return pos_embed
    extra, grid = pos_embed[:, :num_extra_tokens], pos_embed[:, num_extra_tokens:]
    C = grid.shape[-1]
    if grid.shape[1] != src_hw[0] * src_hw[1]:
        raise ValueError(f'pos_embed has {grid.shape[1]} grid tokens, expected {src_hw[0]}x{src_hw[1]}')
    grid = grid.reshape(1, src_hw[0], src_hw[1], C).permute(0, 3, 1, 2)
    grid = F.interpolate(grid.float(), size=tuple(dst_hw), mode='bicubic', align_corners=False)
    grid = grid.to(pos_embed.dtype).permute(0, 2, 3, 1).reshape(1, -1, C)
    return torch.cat([extra, grid], dim=1)
