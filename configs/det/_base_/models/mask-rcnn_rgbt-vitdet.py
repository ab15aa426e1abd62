# Copyright (c) mmspecgene contributors. All rights reserved.
# RGBT ViTDet Mask R-CNN (docs/en/method.md#detection) with ViT-B/16: a stock mmdet MaskRCNN whose backbone fuses RGB
# and thermal.
# The ViT size is `arch`; the global-attention blocks follow it (mmspecgene.models.vit.ARCH_SETTINGS). The neck
# takes the fused [RGB | T] map, 2 x embed_dims wide; mask-rcnn_rgbt-vitdet-{s,l}.py set it for ViT-S / ViT-L.
# `image_size` drives the backbone build size and the fixed batch pad; dataset configs that change
# it must set every derived value again (the pipeline asserts equality, docs/en/method.md#detection).
image_size = 960
# LN2d with the eps that mmcv's build_norm_layer gives every norm built without an explicit eps,
# i.e. what the released ViTDet neck/heads ran with. The class default (1e-6) applies only when
# SpecGeneLN2d is built directly.
norm_cfg = dict(type='SpecGeneLN2d', eps=1e-5, requires_grad=True)

model = dict(
    type='MaskRCNN',
    data_preprocessor=dict(
        type='RGBTDetDataPreprocessor',
        # [RGB | T] after per-half BGR -> RGB conversion; ImageNet statistics on both halves
        mean=[123.675, 116.28, 103.53, 123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375, 58.395, 57.12, 57.375],
        to_rgb=(True, True),
        pad_size_divisor=32,
        pad_mask=True,
        batch_augments=[dict(type='BatchFixedSizePad', size=(image_size, image_size), pad_mask=True)]),
    backbone=dict(
        type='RGBTViTDet',
        arch='base',
        img_size=image_size,
        pretrain_img_size=224,
        patch_size=16,
        window_size=14,  # global attention in the arch's global_attn_indexes: (2, 5, 8, 11) for ViT-B
        drop_path_rate=0.1,
        norm_eps=1e-5,
        qkv_bias=True),
    neck=dict(
        type='RGBTSimpleFPN',
        backbone_channel=1536,  # 2 x 768: [RGB | T]; the pyramid inputs [c/4, c/2, c, c] derive from it
        out_channels=256,
        num_outs=5,
        norm_cfg=norm_cfg),
    rpn_head=dict(
        type='RPNHead',
        in_channels=256,
        feat_channels=256,
        num_convs=2,
        anchor_generator=dict(
            type='AnchorGenerator', scales=[8], ratios=[0.5, 1.0, 2.0], strides=[4, 8, 16, 32, 64]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder', target_means=[0., 0., 0., 0.], target_stds=[1.0, 1.0, 1.0, 1.0]),
        loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
    roi_head=dict(
        type='StandardRoIHead',
        bbox_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0),
            out_channels=256,
            featmap_strides=[4, 8, 16, 32]),
        bbox_head=dict(
            type='Shared4Conv1FCBBoxHead',
            in_channels=256,
            conv_out_channels=256,
            fc_out_channels=1024,
            roi_feat_size=7,
            num_classes=1,  # KAIST / LLVIP: ('person', ); dataset configs override
            norm_cfg=norm_cfg,
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder', target_means=[0., 0., 0., 0.], target_stds=[0.1, 0.1, 0.2, 0.2]),
            reg_class_agnostic=False,
            loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
        mask_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=0),
            out_channels=256,
            featmap_strides=[4, 8, 16, 32]),
        mask_head=dict(
            type='FCNMaskHead',
            num_convs=4,
            in_channels=256,
            conv_out_channels=256,
            num_classes=1,
            norm_cfg=norm_cfg,
            loss_mask=dict(type='CrossEntropyLoss', use_mask=True, loss_weight=1.0))),
    # host defaults (docs/en/method.md#detection: only the test settings are confirmed against the release)
    train_cfg=dict(
        rpn=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.7,
                neg_iou_thr=0.3,
                min_pos_iou=0.3,
                match_low_quality=True,
                ignore_iof_thr=-1),
            sampler=dict(type='RandomSampler', num=256, pos_fraction=0.5, neg_pos_ub=-1, add_gt_as_proposals=False),
            allowed_border=-1,
            pos_weight=-1,
            debug=False),
        rpn_proposal=dict(nms_pre=2000, max_per_img=1000, nms=dict(type='nms', iou_threshold=0.7), min_bbox_size=0),
        rcnn=dict(
            assigner=dict(
                type='MaxIoUAssigner',
                pos_iou_thr=0.5,
                neg_iou_thr=0.5,
                min_pos_iou=0.5,
                match_low_quality=True,
                ignore_iof_thr=-1),
            sampler=dict(type='RandomSampler', num=512, pos_fraction=0.25, neg_pos_ub=-1, add_gt_as_proposals=True),
            mask_size=28,
            pos_weight=-1,
            debug=False)),
    test_cfg=dict(
        rpn=dict(nms_pre=1000, max_per_img=1000, nms=dict(type='nms', iou_threshold=0.7), min_bbox_size=0),
        rcnn=dict(score_thr=0.05, nms=dict(type='nms', iou_threshold=0.5), max_per_img=100, mask_thr_binary=0.5)))
