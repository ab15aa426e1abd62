# Copyright (c) mmspecgene contributors. All rights reserved.
"""Channels-first LayerNorm for convolutional feature maps (ViTDet neck and heads)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class SpecGeneLN2d(nn.LayerNorm):
    """LayerNorm over the channel dimension of a (B, C, ...) tensor.

    out = (x - mean_c) / sqrt(var_c + eps) * weight + bias, with the mean and the biased
    variance taken over C at every spatial position.

    It subclasses :class:`torch.nn.LayerNorm` so that role-based code (weight-decay rules,
    norm detection) sees a norm layer. ``_abbr_ = 'norm_layer'`` makes mmcv's
    ``build_norm_layer`` (and thus ``ConvModule``) name it ``norm_layer``, the key used by the
    released ViTDet checkpoints (docs/en/method.md#checkpoint-layouts). Note that ``build_norm_layer`` sets ``eps=1e-5``
    unless the norm config gives ``eps`` explicitly.

    Args:
        num_channels (int): Channels C.
        eps (float): Added to the variance. Defaults to 1e-6.
        elementwise_affine (bool): Learnable per-channel ``weight`` and ``bias``.
    """

    _abbr_ = 'norm_layer'

    def __init__(self, num_channels: int, eps: float = 1e-6, elementwise_affine: bool = True):
        super().__init__(num_channels, eps=eps, elementwise_affine=elementwise_affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, ...) -> (B, C, ...), contiguous.

        The result is made contiguous: normalising a channels-last view leaves channels-last strides, and mmcv's
        CPU/CUDA ``RoIAlign`` reads its input as raw NCHW memory, so a strided map gives scrambled RoI features
        (the neck's LN2d output feeds the RoI extractors directly).
        """
        if x.dim() < 2 or x.shape[1] != self.normalized_shape[0]:
            raise ValueError(f'{self.__class__.__name__} expects (B, {self.normalized_shape[0]}, ...) '
                             f'channels-first input, got shape {tuple(x.shape)}')
        x = x.movedim(1, -1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.movedim(-1, 1).contiguous()
