# FLIR-aligned (4,129 train / 1,013 test pairs, docs/en/dataset_prepare.md), COCO bbox mAP.
_base_ = './rgbt_coco_lsj.py'
dataset_type = 'FLIRAlignedDataset'
data_root = 'data/flir_aligned/'
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root, ann_file='annotations/flir_train.json'))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root, ann_file='annotations/flir_test.json'))
test_dataloader = val_dataloader
val_evaluator = dict(type='RGBTCocoMetric', ann_file=data_root + 'annotations/flir_test.json', metric='bbox')
test_evaluator = val_evaluator
