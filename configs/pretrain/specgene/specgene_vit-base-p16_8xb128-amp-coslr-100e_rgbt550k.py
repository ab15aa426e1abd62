# M-SpecGene ViT-B/16 pretraining on RGBT550K: 8 GPUs x 128 pairs = global batch 1024, AMP, 100 epochs,
# GMM-CMSS progressive masking (GMMCMSSMasking, the clean algorithm). Initialise from a single-modality MAE ViT-B with
# `load_from` (weights only; never resume), see docs/en/pretrain.md.
_base_ = [
    '../_base_/models/specgene-mae_vit-base-p16.py',
    '../_base_/datasets/rgbt550k.py',
    '../_base_/schedules/adamw-coslr-100e.py',
    '../_base_/default_runtime.py',
]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3))
randomness = dict(seed=0, diff_rank_seed=True)
