# RGBT SOD (SPEC §9-10.9): train on VT5000 train; validate on VT5000 test; test on VT5000 test, VT1000, VT821 and
# VI-RGBT1500 (one ConcatDataset; SODMetric(dataset_name='auto') reports sod/<set>/<metric> per set).
data_root = 'data/sod/'
crop_size = (768, 768)
meta_keys = ('img_path', 'ir_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape', 'scale_factor', 'flip',
             'flip_direction', 'reduce_zero_label', 'modality_channels', 'channel_order')
train_pipeline = [
    dict(type='LoadRGBTImagePair'),
    dict(type='LoadAnnotations', reduce_zero_label=False),
    dict(type='RandomResize', scale=(2560, 768), ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PairedPhotoMetricDistortion'),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
test_pipeline = [
    dict(type='LoadRGBTImagePair'),
    dict(type='Resize', scale=(2560, 768), keep_ratio=True),
    dict(type='LoadAnnotations', reduce_zero_label=False),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]

train_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='VT5000Dataset',
        data_root=data_root + 'vt5000',
        data_prefix=dict(img_path='visible/train', ir_path='infrared/train', seg_map_path='labels/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='VT5000Dataset',
        data_root=data_root + 'vt5000',
        data_prefix=dict(img_path='visible/test', ir_path='infrared/test', seg_map_path='labels/test'),
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='ConcatDataset',
        datasets=[
            dict(
                type='VT5000Dataset',
                data_root=data_root + 'vt5000',
                data_prefix=dict(img_path='visible/test', ir_path='infrared/test', seg_map_path='labels/test'),
                pipeline=test_pipeline),
            dict(
                type='VT1000Dataset',
                data_root=data_root + 'vt1000',
                data_prefix=dict(img_path='visible/test', ir_path='infrared/test', seg_map_path='labels/test'),
                pipeline=test_pipeline),
            dict(
                type='VT821Dataset',
                data_root=data_root + 'vt821',
                data_prefix=dict(img_path='visible/test', ir_path='infrared/test', seg_map_path='labels/test'),
                pipeline=test_pipeline),
            dict(
                type='VIRGBT1500Dataset',
                data_root=data_root + 'vi-rgbt1500',
                data_prefix=dict(img_path='visible/test', ir_path='infrared/test', seg_map_path='labels/test'),
                pipeline=test_pipeline),
        ]))
val_evaluator = dict(type='SODMetric', pred_mode='soft', dataset_name='vt5000')
test_evaluator = dict(type='SODMetric', pred_mode='soft', dataset_name='auto')
