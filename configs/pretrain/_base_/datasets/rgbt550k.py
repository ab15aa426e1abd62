# RGBT550K pairs (tools/dataset_converters/rgbt550k_pairs.py writes annotations/pairs_train.txt).
dataset_type = 'RGBTPairDataset'
data_root = 'data/rgbt550k/'
# Crop-aware decoding (docs/en/pretrain.md): the crop box is drawn from the JPEG headers and each JPEG is decoded at
# the coarsest DCT scale that still covers 224 px. Thermal is grey (one decoded plane, replicated at the end): the
# sources are grey thermal cameras, stored as 1- or 3-channel grey. dct_scaling=False decodes at full resolution.
train_pipeline = [
    dict(type='LoadRGBTRandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.0), thermal_grey=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs', meta_keys=('img_path', 'ir_path', 'modality_channels', 'channel_order')),
]
train_dataloader = dict(
    batch_size=128,
    num_workers=16,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/pairs_train.txt',
        data_prefix=dict(img_path='visible/', ir_path='infrared/'),
        pipeline=train_pipeline))
