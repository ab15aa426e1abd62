# LLVIP (12,025 train / 3,463 test pairs, docs/en/dataset_prepare.md), COCO bbox mAP.
_base_ = './rgbt_coco_lsj.py'
dataset_type = 'LLVIPDataset'
data_root = 'data/llvip/'
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root, ann_file='annotations/llvip_train.json'))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root, ann_file='annotations/llvip_test.json'))
test_dataloader = val_dataloader
val_evaluator = dict(type='RGBTCocoMetric', ann_file=data_root + 'annotations/llvip_test.json', metric='bbox')
test_evaluator = val_evaluator
