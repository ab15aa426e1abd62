# Copyright (c) mmspecgene contributors. All rights reserved.
"""Pre-norm transformer block with checkpoint-compatible parameter naming.

Two namings serve all released layouts with one implementation:

==============  ==========================================  ==============================
naming          norms / feed-forward                         used by
==============  ==========================================  ==============================
``mmpretrain``  ``ln1``, ``ln2``, ``ffn.layers.0.0``/``.1``   pretraining, segmentation
``timm``        ``norm1``, ``norm2``, ``mlp.fc1``/``mlp.fc2``  detection (ViTDet layout)
==============  ==========================================  ==============================
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .attention import MultiheadSelfAttention

NAMINGS = {
    'mmpretrain': dict(norm1='ln1', norm2='ln2', ffn='ffn'),
    'timm': dict(norm1='norm1', norm2='norm2', ffn='mlp'),
}


def check_naming(naming: str) -> dict:
    if naming not in NAMINGS:
        raise ValueError(f'naming must be one of {tuple(NAMINGS)}, got {naming!r}')
    return NAMINGS[naming]


class DropPath(nn.Module):
    """Stochastic depth per sample (identity at eval or with ``drop_prob == 0``)."""

    def __init__(self, drop_prob: float = 0.):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0. or not self.training:
            return x
        keep = 1 - self.drop_prob
        mask = x.new_empty((x.shape[0], ) + (1, ) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f'drop_prob={self.drop_prob}'


class FeedForward(nn.Module):
    """Linear -> GELU -> Linear, named after ``naming``.

    ``mmpretrain``: ``layers.0.0`` and ``layers.1`` (mmcv FFN layout); ``timm``: ``fc1`` and ``fc2``.
    """

    def __init__(self, embed_dims: int, hidden_dims: int, naming: str = 'mmpretrain'):
        super().__init__()
        check_naming(naming)
        self.naming = naming
        if naming == 'mmpretrain':
            self.layers = nn.Sequential(
                nn.Sequential(nn.Linear(embed_dims, hidden_dims), nn.GELU()), nn.Linear(hidden_dims, embed_dims))
        else:
            self.fc1 = nn.Linear(embed_dims, hidden_dims)
            self.act = nn.GELU()
            self.fc2 = nn.Linear(hidden_dims, embed_dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.naming == 'mmpretrain':
            return self.layers(x)
        return self.fc2(self.act(self.fc1(x)))


def window_partition(x: torch.Tensor, window: int) -> Tuple[torch.Tensor, Tuple[int, int]]:
    """(B, H, W, C) -> (B*nW, window*window, C), zero-padding H and W up to multiples of ``window``."""
    B, H, W, C = x.shape
    pad_h, pad_w = (-H) % window, (-W) % window
    if pad_h or pad_w:
        x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
    Hp, Wp = H + pad_h, W + pad_w
    x = x.view(B, Hp // window, window, Wp // window, window, C)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window * window, C), (Hp, Wp)


def window_unpartition(windows: torch.Tensor, window: int, padded_hw: Tuple[int, int],
                       hw: Tuple[int, int]) -> torch.Tensor:
    """Inverse of :func:`window_partition`: (B*nW, window*window, C) -> (B, H, W, C)."""
    Hp, Wp = padded_hw
    H, W = hw
    B = windows.shape[0] // ((Hp // window) * (Wp // window))
    x = windows.view(B, Hp // window, Wp // window, window, window, -1)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(B, Hp, Wp, -1)
    return x[:, :H, :W].contiguous()


class TransformerBlock(nn.Module):
    """Pre-norm ViT block: x + attn(norm1(x)), then x + ffn(norm2(x)).

    Args:
        embed_dims (int): Token width C.
        num_heads (int): Attention heads.
        mlp_ratio (float): FFN hidden width / C.
        qkv_bias (bool): Bias in the fused qkv projection.
        naming (str): Parameter naming, see module docstring.
        norm_eps (float): LayerNorm epsilon.
        drop_path_rate (float): Stochastic depth rate of this block.
        layer_scale_init_value (float): If > 0, learnable per-channel ``gamma_1``/``gamma_2``.
        window_size (int): If > 0, attention inside non-overlapping windows of this size
            (inputs must be a token grid without cls token).
        rel_pos (str): ``'none'``, ``'decomposed'`` or ``'bias'`` (see attention module).
        rel_pos_size (tuple[int, int], optional): Grid the relative position is built for.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 mlp_ratio: float = 4.,
                 qkv_bias: bool = True,
                 naming: str = 'mmpretrain',
                 norm_eps: float = 1e-6,
                 drop_path_rate: float = 0.,
                 layer_scale_init_value: float = 0.,
                 window_size: int = 0,
                 rel_pos: str = 'none',
                 rel_pos_size: Optional[Tuple[int, int]] = None):
        super().__init__()
        names = check_naming(naming)
        self._norm1_name, self._norm2_name, self._ffn_name = names['norm1'], names['norm2'], names['ffn']
        self.window_size = window_size
        if window_size > 0 and rel_pos_size is not None:
            rel_pos_size = (window_size, window_size)
        # stored under the checkpoint names; the properties below give name-independent access
        self._modules[self._norm1_name] = nn.LayerNorm(embed_dims, eps=norm_eps)
        self.attn = MultiheadSelfAttention(
            embed_dims, num_heads, qkv_bias=qkv_bias, rel_pos=rel_pos, rel_pos_size=rel_pos_size)
        self._modules[self._norm2_name] = nn.LayerNorm(embed_dims, eps=norm_eps)
        self._modules[self._ffn_name] = FeedForward(embed_dims, int(embed_dims * mlp_ratio), naming)
        self.drop_path = DropPath(drop_path_rate)
        if layer_scale_init_value > 0:
            self.gamma_1 = nn.Parameter(torch.full((embed_dims, ), float(layer_scale_init_value)))
            self.gamma_2 = nn.Parameter(torch.full((embed_dims, ), float(layer_scale_init_value)))
        else:
            self.gamma_1 = self.gamma_2 = None

    @property
    def norm1(self) -> nn.LayerNorm:
        return self._modules[self._norm1_name]

    @property
    def norm2(self) -> nn.LayerNorm:
        return self._modules[self._norm2_name]

    @property
    def feed_forward(self) -> FeedForward:
        return self._modules[self._ffn_name]

    def _attend(self, x: torch.Tensor, hw_shape: Optional[Tuple[int, int]]) -> torch.Tensor:
        if self.window_size <= 0:
            return self.attn(x, hw_shape)
        B, N, C = x.shape
        H, W = hw_shape
        windows, padded_hw = window_partition(x.view(B, H, W, C), self.window_size)
        windows = self.attn(windows, (self.window_size, self.window_size))
        return window_unpartition(windows, self.window_size, padded_hw, hw_shape).view(B, N, C)

    def forward(self, x: torch.Tensor, hw_shape: Optional[Tuple[int, int]] = None) -> torch.Tensor:
        """Args: x (B, N, C); ``hw_shape`` = token grid (H, W) when windows or decomposed rel-pos are used.

        Returns:
            Tensor: (B, N, C).
        """
        y = self._attend(self.norm1(x), hw_shape)
        x = x + self.drop_path(y if self.gamma_1 is None else self.gamma_1 * y)
        y = self.feed_forward(self.norm2(x))
        return x + self.drop_path(y if self.gamma_2 is None else self.gamma_2 * y)
