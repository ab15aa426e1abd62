# M-SpecGene ViT-L/16 pretraining on RGBT550K: the ViT-B recipe (8 GPUs x 128 pairs = global batch 1024, AMP,
# 100 epochs, GMM-CMSS progressive masking in clean mode) with the ViT-L/16 encoder; no ViT-L/16 weights were released.
# Initialise from a single-modality MAE with `load_from` (weights only; never resume), see docs/en/pretrain.md:
# mmpretrain's MAE ViT-L/16 (mae_vit-large-p16 configs) fills the encoder keys.
_base_ = [
    '../_base_/models/specgene-mae_vit-large-p16.py',
    '../_base_/datasets/rgbt550k.py',
    '../_base_/schedules/adamw-coslr-100e.py',
    '../_base_/default_runtime.py',
]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3))
randomness = dict(seed=0, diff_rank_seed=True)
