# Copyright (c) mmspecgene contributors. All rights reserved.
# RGBT UperNet with the shared ViT-B backbone (docs/en/method.md#segmentation-and-sod). The ViT size is `arch`; the
# four taps follow it
# (mmspecgene.models.vit.ARCH_SETTINGS: blocks 3/5/7/11 for ViT-B). Neck and heads take the fused [RGB | T] maps,
# 2 x embed_dims wide; upernet_rgbt-vit-{s,l}.py set these widths for ViT-S / ViT-L. Dataset configs set
# model.decode_head.num_classes / model.auxiliary_head.num_classes from the dataset class and
# model.backbone.init_cfg=dict(type='Pretrained', checkpoint=..., src_format='auto').
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='RGBTSegDataPreProcessor',
    mean=[123.675, 116.28, 103.53, 123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375, 58.395, 57.12, 57.375],
    to_rgb=(True, True),
    size=(768, 768),
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='RGBTViTSeg',
        arch='base',
        img_size=768,
        patch_size=16,
        qkv_bias=True,
        drop_path_rate=0.1,
        layer_scale_init_value=1.0,
        norm_eps=1e-6,
        interpolate_pos_embed=False),
    neck=dict(type='Feature2Pyramid', embed_dim=1536, rescales=[4, 2, 1, 0.5], norm_cfg=norm_cfg),
    decode_head=dict(
        type='UPerHead',
        in_channels=[1536, 1536, 1536, 1536],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=768,
        dropout_ratio=0.1,
        norm_cfg=norm_cfg,
        align_corners=False,
        ignore_index=255,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=1536,
        in_index=2,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        norm_cfg=norm_cfg,
        align_corners=False,
        ignore_index=255,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='slide', crop_size=(768, 768), stride=(341, 341)))
