# Synthetic RGBT pairs (tools/misc/make_synthetic_rgbt.py --task pretrain): 128x128 pairs, pair list.
dataset_type = 'RGBTPairDataset'
data_root = 'data/synthetic/pretrain/'
train_pipeline = [  # crop-aware decoding as for RGBT550K (128 px frames: every decode is at full resolution)
    dict(type='LoadRGBTRandomResizedCrop', scale=96, crop_ratio_range=(0.35, 1.0), thermal_grey=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs', meta_keys=('img_path', 'ir_path', 'modality_channels', 'channel_order')),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,  # 30 short epochs: no worker respawn per epoch
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/pairs_train.txt',
        data_prefix=dict(img_path='visible/', ir_path='infrared/'),
        pipeline=train_pipeline))
