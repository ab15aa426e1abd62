# Copyright (c) mmspecgene contributors. All rights reserved.
# RGBT UperNet with ViT-S/16 (384 wide, 12 blocks, 6 heads; taps after blocks 3/5/7/11 from the arch table): the fused
# [RGB | T] maps are 2 x 384 = 768 channels; the UPerHead width follows the encoder width (384, as 768 for ViT-B).
_base_ = ['./upernet_rgbt-vit-b.py']
fused_channels = 768
model = dict(
    backbone=dict(arch='small'),
    neck=dict(embed_dim=fused_channels),
    decode_head=dict(in_channels=[fused_channels] * 4, channels=384),
    auxiliary_head=dict(in_channels=fused_channels))
