# Copyright (c) mmspecgene contributors. All rights reserved.
# M-SpecGene Siamese RGBT MAE with a ViT-S/16 encoder (384 wide, 12 blocks, 6 heads from the arch table). The decoder
# keeps the ViT-B settings (512 wide, 4 blocks, 16 heads), as MAE keeps one decoder for every encoder size; only its
# input projection follows the encoder width.
_base_ = ['./specgene-mae_vit-base-p16.py']
model = dict(backbone=dict(arch='small'), neck=dict(embed_dim=384))
