# Copyright (c) mmspecgene contributors. All rights reserved.
# RGBT ViTDet Mask R-CNN with ViT-L/16 (1024 wide, 24 blocks, 16 heads; global attention in blocks 5, 11, 17, 23
# from the arch table). The fused [RGB | T] map is 2 x 1024 = 2048 channels; stochastic depth 0.4 as ViTDet-L.
_base_ = ['./mask-rcnn_rgbt-vitdet.py']
model = dict(backbone=dict(arch='large', drop_path_rate=0.4), neck=dict(backbone_channel=2048))
