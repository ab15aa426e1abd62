# Tiny M-SpecGene pretraining on the synthetic pairs (96x96 crops, 36 tokens, 75% masking, GMM-CMSS curriculum
# over 30 epochs): runs on 2 CPU cores in about two minutes; the reconstruction losses fall clearly.
_base_ = [
    '../_base_/models/specgene-mae_vit-base-p16.py',
    '../_base_/datasets/synthetic_pairs.py',
    '../_base_/schedules/adamw-coslr-100e.py',
    '../_base_/default_runtime.py',
]
img_size = 96
num_tokens = (img_size // 16)**2
model = dict(
    backbone=dict(
        arch='tiny',
        img_size=img_size,
        masker=dict(num_tokens=num_tokens, mask_ratio=0.75, max_mask_ratio=0.9)),
    neck=dict(
        num_patches=num_tokens,
        embed_dim=192,
        decoder_embed_dim=128,
        decoder_depth=2,
        decoder_num_heads=4))
max_epochs = 30
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',  # fp32: AMP needs CUDA
    optimizer=dict(type='AdamW', lr=1.5e-3, betas=(0.9, 0.95), weight_decay=0.05),
    constructor='RGBTLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=1.0, decay_exclusion='by_role'))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=3, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-5, by_epoch=True, begin=0, end=max_epochs,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
default_hooks = dict(
    logger=dict(interval=4),
    checkpoint=dict(type='CheckpointHook', interval=max_epochs, max_keep_ckpts=1))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0, diff_rank_seed=True)
