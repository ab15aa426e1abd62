# Copyright (c) mmspecgene contributors. All rights reserved.
# RGBT UperNet with ViT-L/16 (1024 wide, 24 blocks, 16 heads; taps after blocks 7/11/15/23 from the arch table): the
# fused [RGB | T] maps are 2 x 1024 = 2048 channels; the UPerHead width follows the encoder width (1024, as BEiT-L's
# UperNet); stochastic depth 0.2 as BEiT-L.
_base_ = ['./upernet_rgbt-vit-b.py']
fused_channels = 2048
model = dict(
    backbone=dict(arch='large', drop_path_rate=0.2),
    neck=dict(embed_dim=fused_channels),
    decode_head=dict(in_channels=[fused_channels] * 4, channels=1024),
    auxiliary_head=dict(in_channels=fused_channels))
