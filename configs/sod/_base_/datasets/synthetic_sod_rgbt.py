# Synthetic RGBT SOD set (tools/misc/make_synthetic_rgbt.py --task sod), 128x128 png pairs, labels 0/1.
_base_ = '../../../seg/_base_/datasets/synthetic_rgbt.py'
dataset_type = 'RGBTSyntheticSODDataset'
data_root = 'data/synthetic/sod/synthetic/'
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='visible/test', ir_path='infrared/test', seg_map_path='labels/test')))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='SODMetric', pred_mode='soft', dataset_name='synthetic')
test_evaluator = val_evaluator
