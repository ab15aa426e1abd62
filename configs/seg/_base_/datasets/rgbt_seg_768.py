# Paired RGBT segmentation data (docs/en/method.md#segmentation-and-sod): paired photometric distortion, crop 768,
# slide inference in the model's
# test_cfg. Dataset files inherit this and set the dataset class and root.
dataset_type = 'RGBTSegDataset'
data_root = 'data/'
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
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='visible/train', ir_path='infrared/train', seg_map_path='labels/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='visible/test', ir_path='infrared/test', seg_map_path='labels/test'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='RGBTIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
