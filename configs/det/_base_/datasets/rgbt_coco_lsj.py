# Paired RGBT COCO-style detection data with LSJ at lsj_size (docs/en/method.md#detection). One variable drives scale,
# crop and pad;
# the model's img_size and batch pad must equal it (asserted by tests/test_configs.py). Dataset files inherit this
# and set the dataset class, root, annotation files and evaluator.
dataset_type = 'RGBTCocoDataset'
data_root = 'data/'
lsj_size = 960
backend_args = None
# Masks load as polygons (poly2mask=False; the release used bitmaps): the converted masks are box rectangles, and
# through this pipeline polygons give the same instances, boxes within 1.5 px and masks that differ only on boundary
# pixels, at a fraction of the time and memory (docs/en/finetune_det.md, tests/test_models/test_det/
# test_det_polygon_masks.py).
meta_keys = ('img_id', 'img_path', 'ir_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip', 'flip_direction',
             'modality_channels', 'channel_order')
train_pipeline = [
    dict(type='LoadRGBTImagePair', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True, poly2mask=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomResize', scale=(lsj_size, lsj_size), ratio_range=(0.1, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_type='absolute_range', crop_size=(lsj_size, lsj_size), recompute_bbox=True,
         allow_negative_crop=True),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='RGBTPad', size=(lsj_size, lsj_size), pad_val=dict(img=114)),
    dict(type='PackDetInputs', meta_keys=meta_keys),
]
test_pipeline = [
    dict(type='LoadRGBTImagePair', backend_args=backend_args),
    dict(type='Resize', scale=(lsj_size, lsj_size), keep_ratio=True),
    dict(type='RGBTPad', size=(lsj_size, lsj_size), pad_val=dict(img=114)),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True, poly2mask=False),
    dict(type='PackDetInputs', meta_keys=meta_keys),
]
train_dataloader = dict(
    batch_size=1,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/train.json',
        data_prefix=dict(img='visible/', ir='infrared/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/test.json',
        data_prefix=dict(img='visible/', ir='infrared/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader
val_evaluator = dict(type='RGBTCocoMetric', ann_file=data_root + 'annotations/test.json', metric='bbox')
test_evaluator = val_evaluator
