# Tiny RGBT UperNet on the synthetic segmentation set (4 classes): trains on 2 CPU cores in minutes.
# Initialise from a synthetic pretraining run with
#   --cfg-options model.backbone.init_cfg.type=Pretrained model.backbone.init_cfg.checkpoint=PRETRAIN.pth
# (any pretraining format; tools/misc/run_synthetic_pipeline.py does this end to end)
_base_ = [
    '../_base_/models/upernet_rgbt-vit-b.py',
    '../_base_/datasets/synthetic_rgbt.py',
    '../_base_/schedules/upernet-adamw-poly-320k.py',
    '../_base_/default_runtime.py',
]
crop_size = (128, 128)
num_classes = 4
norm_cfg = dict(type='BN', requires_grad=True)  # SyncBN fails under CPU DDP
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(arch='tiny', img_size=crop_size, drop_path_rate=0.0),  # taps after all 4 blocks
    neck=dict(embed_dim=384, norm_cfg=norm_cfg),
    decode_head=dict(in_channels=[384] * 4, channels=64, num_classes=num_classes, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=384, channels=32, num_classes=num_classes, norm_cfg=norm_cfg),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(96, 96)))
optim_wrapper = dict(
    optimizer=dict(lr=5e-4),
    paramwise_cfg=dict(layer_decay_rate=0.9))
max_iters = 400
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=40),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=40, end=max_iters),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
