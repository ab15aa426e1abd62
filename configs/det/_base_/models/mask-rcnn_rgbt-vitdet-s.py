# Copyright (c) mmspecgene contributors. All rights reserved.
# RGBT ViTDet Mask R-CNN with ViT-S/16 (384 wide, 12 blocks, 6 heads; global attention in blocks 2, 5, 8, 11 from
# the arch table). Only the width of the fused [RGB | T] map differs from ViT-B: 2 x 384 = 768 channels.
_base_ = ['./mask-rcnn_rgbt-vitdet.py']
model = dict(backbone=dict(arch='small'), neck=dict(backbone_channel=768))
