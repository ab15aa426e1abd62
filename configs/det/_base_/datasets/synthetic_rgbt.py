# Synthetic RGBT detection set (tools/misc/make_synthetic_rgbt.py --task det): 160 px LSJ, CPU-sized loaders.
_base_ = './rgbt_coco_lsj.py'
dataset_type = 'RGBTSyntheticDetDataset'
data_root = 'data/synthetic/det/'
lsj_size = 160
backend_args = None
meta_keys = {{_base_.meta_keys}}
train_pipeline = [
    dict(type='LoadRGBTImagePair', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True, poly2mask=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomResize', scale=(lsj_size, lsj_size), ratio_range=(0.5, 1.5), keep_ratio=True),
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
    batch_size=4,
    num_workers=2,
    persistent_workers=False,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/synthetic_train.json',
        filter_cfg=dict(filter_empty_gt=True, min_size=8),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=False,
    dataset=dict(
        type=dataset_type, data_root=data_root, ann_file='annotations/synthetic_test.json', pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='RGBTCocoMetric', ann_file=data_root + 'annotations/synthetic_test.json', metric='bbox')
test_evaluator = val_evaluator
