# M-SpecGene Siamese RGBT MAE, ViT-B/16 (docs/en/pretrain.md): shared encoder run on both modalities, one
# GMM-CMSS masker call per iteration (the clean algorithm), dual decoder with parallel cross-attention,
# per-modality norm-pix losses. The curriculum length E defaults to the run's max_epochs (RGBTMaskingHook passes
# the runner's progress to the masker). Other maskers: ReleasedGMMCMSSMasking (the released algorithm) and
# RandomRGBTMasking (plain MAE random masking).
model = dict(
    type='SpecGeneMAE',
    data_preprocessor=dict(
        type='RGBTSelfSupDataPreprocessor',
        # [RGB | T] after per-half BGR -> RGB conversion; ImageNet statistics on both halves
        mean=[123.675, 116.28, 103.53, 123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375, 58.395, 57.12, 57.375],
        to_rgb=(True, True)),
    backbone=dict(
        type='RGBTMAEViT',
        arch='base',
        img_size=224,
        patch_size=16,
        masker=dict(
            type='GMMCMSSMasking',
            num_tokens=196,
            mask_ratio=0.90,
            max_mask_ratio=0.95,
            num_components=3,
            # GMMCMSSMasking defaults: total_ticks=None (one tick per epoch of the run), loss_ema=0.98
            cmss_variant='product',
            mixture_assignment='per_image',
            curriculum_seed=0,
            first_selector='thermal',
            cmss_backend='eager')),  # 'compiled': the same CMSS function through torch.compile
    neck=dict(
        type='RGBTMAEDecoder',
        num_patches=196,
        patch_size=16,
        in_chans=3,
        embed_dim=768,
        decoder_embed_dim=512,
        decoder_depth=4,
        decoder_num_heads=16,
        mlp_ratio=4.,
        shared_decoder_norm=True),
    head=dict(
        type='RGBTMAEHead',
        patch_size=16,
        norm_pix=True,
        loss_weights=dict(rgb=1., thermal=1.)))
# Fresh init lives in the modules' init_weights: Xavier-uniform Linear, LN (1, 0), tokens N(0, 0.02),
# fixed sin-cos positions.
