# Tiny RGBT matcher on the synthetic matching pairs (tools/misc/make_synthetic_rgbt.py --task match: textured
# 320x256 scenes whose thermal image shares the edges but not the brightness), resized to 160x128: trains on CPU.
# Initialise from a synthetic pretraining run with
#   --cfg-options model.backbone.init_cfg.type=Pretrained model.backbone.init_cfg.checkpoint=PRETRAIN.pth
_base_ = [
    '../_base_/models/loftr_rgbt-vit-b.py',
    '../_base_/datasets/rgbt_match.py',
    '../_base_/schedules/adamw-layer-decay.py',
    '../_base_/default_runtime.py',
]
data_root = 'data/synthetic/match/'
img_size = (160, 128)
homography_ranges = dict(rotation=15.0, scale=(0.85, 1.2), perspective=0.1, translation=0.1)
model = dict(
    backbone=dict(arch='tiny', pretrain_img_size=96, drop_path_rate=0.0),
    coarse_channels=128,
    coarse_heads=4,
    coarse_layers=2,
    fine_channels=64,
    fine_heads=4,
    train_coarse_percent=0.3,
    train_pad_num_gt_min=8)
train_pipeline = [
    dict(type='LoadRGBTMatchPair', img_size=img_size),
    dict(type='RGBTRandomHomographyWarp', ranges=homography_ranges, swap_prob=0.5),
    dict(type='PackRGBTMatchInputs'),
]
test_pipeline = [
    dict(type='LoadRGBTMatchPair', img_size=img_size),
    dict(type='RGBTHomographyWarp'),
    dict(type='PackRGBTMatchInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(data_root=data_root, ann_file='annotations/pairs_train.txt', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/pairs_test.txt',
        img_size=img_size,
        homography_ranges=homography_ranges,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

max_iters = 3000
optim_wrapper = dict(
    type='OptimWrapper',  # fp32: AMP needs CUDA
    paramwise_cfg=dict(num_layers=4, layer_decay_rate=0.9),
    optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=100, end=max_iters, eta_min=1e-5),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1, save_best=None))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
