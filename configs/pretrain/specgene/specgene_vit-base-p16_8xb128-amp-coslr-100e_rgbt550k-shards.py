# The RGBT550K pretraining run reading tar shards (configs/pretrain/_base_/datasets/rgbt550k_shards.py).
_base_ = ['./specgene_vit-base-p16_8xb128-amp-coslr-100e_rgbt550k.py', '../_base_/datasets/rgbt550k_shards.py']
