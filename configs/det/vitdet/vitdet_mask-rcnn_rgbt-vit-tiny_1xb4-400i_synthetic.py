# Tiny RGBT ViTDet Mask R-CNN on the synthetic detection set: trains on 2 CPU cores in minutes.
# Initialise from a synthetic pretraining run with
#   --cfg-options model.backbone.init_cfg.type=Pretrained model.backbone.init_cfg.checkpoint=PRETRAIN.pth
# (any pretraining format; tools/misc/run_synthetic_pipeline.py does this end to end)
_base_ = [
    '../_base_/models/mask-rcnn_rgbt-vitdet.py',
    '../_base_/datasets/synthetic_rgbt.py',
    '../_base_/schedules/vitdet-adamw-constant.py',
    '../_base_/default_runtime.py',
]
image_size = 160
channels = 64
model = dict(
    data_preprocessor=dict(batch_augments=[dict(type='BatchFixedSizePad', size=(image_size, image_size),
                                                 pad_mask=True)]),
    backbone=dict(
        arch='tiny',
        img_size=image_size,
        pretrain_img_size=96,
        window_size=5,  # global attention in blocks 1 and 3 (the tiny arch)
        drop_path_rate=0.0),
    neck=dict(backbone_channel=384, out_channels=channels),  # 2 x 192: [RGB | T]
    rpn_head=dict(in_channels=channels, feat_channels=channels),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=channels),
        bbox_head=dict(in_channels=channels, conv_out_channels=channels, fc_out_channels=256, num_classes=2),
        mask_roi_extractor=dict(out_channels=channels),
        mask_head=dict(in_channels=channels, conv_out_channels=channels, num_classes=2)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=500, max_per_img=300),
        rpn=dict(sampler=dict(num=128)),
        rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(nms_pre=300, max_per_img=300)))

optim_wrapper = dict(
    type='OptimWrapper',
    paramwise_cfg=dict(layer_decay_rate=0.9),
    optimizer=dict(lr=1e-3),
    clip_grad=dict(max_norm=1.0))
# Warm-up, constant, then one 10x step for the last quarter (the full schedules keep the released constant LR).
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=400, milestones=[300], gamma=0.1),
]
train_cfg = dict(max_iters=400, val_interval=400)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=400, max_keep_ckpts=1, save_best=None))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
