# Tiny RGBT SOD model on the synthetic SOD set: trains on 2 CPU cores in minutes.
_base_ = [
    '../../seg/_base_/models/upernet_rgbt-vit-b.py',
    '../_base_/datasets/synthetic_sod_rgbt.py',
    '../_base_/schedules/upernet-adamw-poly-160k.py',
    '../../seg/_base_/default_runtime.py',
]
crop_size = (128, 128)
norm_cfg = dict(type='BN', requires_grad=True)  # SyncBN fails under CPU DDP
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(arch='tiny', img_size=crop_size, drop_path_rate=0.0),  # taps after all 4 blocks
    neck=dict(embed_dim=384, norm_cfg=norm_cfg),
    decode_head=dict(in_channels=[384] * 4, channels=64, num_classes=2, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=384, channels=32, num_classes=2, norm_cfg=norm_cfg),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(96, 96)))
optim_wrapper = dict(optimizer=dict(lr=5e-4), paramwise_cfg=dict(layer_decay_rate=0.9))
max_iters = 300
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=30),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=30, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
