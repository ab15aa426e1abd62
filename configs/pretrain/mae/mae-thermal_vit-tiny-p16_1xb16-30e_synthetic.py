# Single-modality MAE pretraining (ablation; the stage that initialises M-SpecGene): mmpretrain's MAE on the
# thermal half of the synthetic pairs (SelectModality), tiny ViT, 96x96 crops, 75% masking, 30 epochs. Its
# checkpoint initialises the Siamese model with `load_from` (same encoder names, see docs/en/pretrain.md).
_base_ = ['../specgene/specgene_vit-tiny-p16_1xb16-30e_synthetic.py']
modality = 'thermal'
img_size = 96
model = dict(
    _delete_=True,
    type='MAE',
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True),
    backbone=dict(
        type='MAEViT',
        arch=dict(embed_dims=192, num_layers=4, num_heads=3, feedforward_channels=768),
        img_size=img_size,
        patch_size=16,
        mask_ratio=0.75),
    neck=dict(
        type='MAEPretrainDecoder',
        num_patches=(img_size // 16)**2,
        patch_size=16,
        in_chans=3,
        embed_dim=192,
        decoder_embed_dim=128,
        decoder_depth=2,
        decoder_num_heads=4),
    head=dict(
        type='MAEPretrainHead', norm_pix=True, patch_size=16, loss=dict(type='PixelReconstructionLoss',
                                                                        criterion='L2')))
train_pipeline = [
    dict(type='LoadRGBTImagePair'),
    dict(type='SelectModality', modality=modality),
    dict(type='RandomResizedCrop', scale=img_size, crop_ratio_range=(0.35, 1.0), interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs', meta_keys=('img_path', 'ir_path')),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',  # fp32: AMP needs CUDA
    optimizer=dict(type='AdamW', lr=1.5e-3, betas=(0.9, 0.95), weight_decay=0.05))
custom_hooks = []  # no RGBT masker in a single-modality MAE
