# LoFTR-style coarse-to-fine matcher on the RGBT ViT-B (shared by both modalities): coarse dual-softmax matching at
# 1/16 (the patch grid), fine regression in 5x5 windows of stride-4 maps. kornia's LoFTR blocks do the matching.
model = dict(
    type='RGBTMatcher',
    data_preprocessor=dict(
        type='RGBTMatchDataPreprocessor',
        mean=[123.675, 116.28, 103.53, 123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375, 58.395, 57.12, 57.375],
        to_rgb=(True, True)),
    backbone=dict(type='RGBTViTMatch', arch='base', pretrain_img_size=224, drop_path_rate=0.1),
    coarse_channels=256,
    coarse_heads=8,
    coarse_layers=4,
    fine_channels=128,
    fine_heads=8,
    fine_stride=4,
    fine_window=5,
    match_thr=0.2,
    dsmax_temperature=0.1,
    train_coarse_percent=0.2,
    train_pad_num_gt_min=64)
