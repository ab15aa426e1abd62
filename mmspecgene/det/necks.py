# Copyright (c) mmspecgene contributors. All rights reserved.
"""Simple feature pyramid over the fused RGBT ViTDet map (docs/en/method.md#detection)."""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_norm_layer
from mmdet.registry import MODELS
from mmengine.model import BaseModule


@MODELS.register_module()
class RGBTSimpleFPN(BaseModule):
    """ViTDet simple pyramid: strides 4/8/16/32 from one stride-16 map, plus a stride-64 level.

    With ``backbone_channel`` = c (1536 for fused ViT-B):

    * ``fpn1`` = ConvT(c -> c/2, k2 s2) -> norm -> GELU -> ConvT(c/2 -> c/4, k2 s2)  (stride 4)
    * ``fpn2`` = ConvT(c -> c/2, k2 s2)                                           (stride 8)
    * ``fpn3`` = identity                                                          (stride 16)
    * ``fpn4`` = max-pool 2                                                        (stride 32)
    * a 1x1 lateral and a 3x3 output ``ConvModule`` per level (no bias, ``norm_cfg``, no
      activation); levels past the fourth are max-pools (kernel 1, stride 2) of the last output.

    Key names match the released checkpoints (``fpn1.0``, ``fpn1.1``, ``fpn1.3``, ``fpn2.0``,
    ``lateral_convs.i.conv``, ``lateral_convs.i.norm_layer``, ...) when ``norm_cfg`` is
    ``SpecGeneLN2d``.

    Args:
        backbone_channel (int): Channels c of the fused backbone map.
        in_channels (Sequence[int], optional): Channels of the four pyramid inputs; must be
            [c/4, c/2, c, c] (derived when None).
        out_channels (int): Output channels of every level.
        num_outs (int): Number of output levels (>= 4).
        conv_cfg (dict, optional): Conv config of the ConvModules.
        norm_cfg (dict, optional): Norm config (fpn1 norm and all ConvModules); default ``SpecGeneLN2d``, eps 1e-5.
        act_cfg (dict, optional): Activation of the ConvModules (None as released).
        init_cfg (dict, optional): mmengine init config.
    """

    def __init__(self,
                 backbone_channel: int = 1536,
                 in_channels: Optional[Sequence[int]] = None,
                 out_channels: int = 256,
                 num_outs: int = 5,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if norm_cfg is None:
            norm_cfg = dict(type='SpecGeneLN2d', eps=1e-5)
        if backbone_channel % 4:
            raise ValueError(f'backbone_channel must be divisible by 4, got {backbone_channel}')
        stage_channels = [backbone_channel // 4, backbone_channel // 2, backbone_channel, backbone_channel]
        if in_channels is not None and list(in_channels) != stage_channels:
            raise ValueError(f'in_channels {list(in_channels)} do not match backbone_channel={backbone_channel}, '
                             f'expected {stage_channels}')
        if num_outs < len(stage_channels):
            raise ValueError(f'num_outs must be >= {len(stage_channels)}, got {num_outs}')
        self.backbone_channel = backbone_channel
        self.in_channels = stage_channels
        self.out_channels = out_channels
        self.num_ins = len(stage_channels)
        self.num_outs = num_outs

        half = backbone_channel // 2
        self.fpn1 = nn.Sequential(
            nn.ConvTranspose2d(backbone_channel, half, 2, 2),
            build_norm_layer(norm_cfg, half)[1], nn.GELU(), nn.ConvTranspose2d(half, backbone_channel // 4, 2, 2))
        self.fpn2 = nn.Sequential(nn.ConvTranspose2d(backbone_channel, half, 2, 2))
        self.fpn3 = nn.Sequential(nn.Identity())
        self.fpn4 = nn.Sequential(nn.MaxPool2d(kernel_size=2, stride=2))

        self.lateral_convs = nn.ModuleList()
        self.fpn_convs = nn.ModuleList()
        for channels in stage_channels:
            self.lateral_convs.append(
                ConvModule(
                    channels,
                    out_channels,
                    1,
                    conv_cfg=conv_cfg,
                    norm_cfg=norm_cfg,
                    act_cfg=act_cfg,
                    inplace=False))
            self.fpn_convs.append(
                ConvModule(
                    out_channels,
                    out_channels,
                    3,
                    padding=1,
                    conv_cfg=conv_cfg,
                    norm_cfg=norm_cfg,
                    act_cfg=act_cfg,
                    inplace=False))

    def forward(self, inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, ...]:
        """Args: inputs: a 1-sequence with the (B, c, H, W) fused map.

        Returns:
            tuple[Tensor]: ``num_outs`` maps (B, out_channels, H*4 / 2^k, W*4 / 2^k).
        """
        if len(inputs) != 1:
            raise ValueError(f'RGBTSimpleFPN takes the 1-tuple of the backbone, got {len(inputs)} maps')
        x = inputs[0]
        if x.shape[1] != self.backbone_channel:
            raise ValueError(f'expected {self.backbone_channel} backbone channels, got shape {tuple(x.shape)}')
        stages = [self.fpn1(x), self.fpn2(x), self.fpn3(x), self.fpn4(x)]
        outs = [
            fpn_conv(lateral(stage))
            for stage, lateral, fpn_conv in zip(stages, self.lateral_convs, self.fpn_convs)
        ]
        for _ in range(self.num_outs - self.num_ins):
            outs.append(F.max_pool2d(outs[-1], 1, stride=2))
        return tuple(outs)
