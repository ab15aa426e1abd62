# RGBT SOD (docs/en/method.md#segmentation-and-sod): train on VT5000 train; validate on VT5000 test; test on VT5000
# test, VT1000, VT821 and
# VI-RGBT1500 (one ConcatDataset; SODMetric(dataset_name='auto') reports sod/<set>/<metric> per set). Pipelines
# are the segmentation ones (labels 0/1).
_base_ = '../../../seg/_base_/datasets/rgbt_seg_768.py'
data_root = 'data/sod/'
train_dataloader = dict(dataset=dict(type='VT5000Dataset', data_root=data_root + 'vt5000'))
val_dataloader = dict(dataset=dict(type='VT5000Dataset', data_root=data_root + 'vt5000'))
test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[
            dict(
                type='VT5000Dataset',
                data_root=data_root + 'vt5000',
                data_prefix=dict(img_path='visible/test', ir_path='infrared/test', seg_map_path='labels/test'),
                pipeline={{_base_.test_pipeline}}),
            dict(
                type='VT1000Dataset',
                data_root=data_root + 'vt1000',
                data_prefix=dict(img_path='visible/test', ir_path='infrared/test', seg_map_path='labels/test'),
                pipeline={{_base_.test_pipeline}}),
            dict(
                type='VT821Dataset',
                data_root=data_root + 'vt821',
                data_prefix=dict(img_path='visible/test', ir_path='infrared/test', seg_map_path='labels/test'),
                pipeline={{_base_.test_pipeline}}),
            dict(
                type='VIRGBT1500Dataset',
                data_root=data_root + 'vi-rgbt1500',
                data_prefix=dict(img_path='visible/test', ir_path='infrared/test', seg_map_path='labels/test'),
                pipeline={{_base_.test_pipeline}}),
        ]))
val_evaluator = dict(_delete_=True, type='SODMetric', pred_mode='soft', dataset_name='vt5000')
test_evaluator = dict(_delete_=True, type='SODMetric', pred_mode='soft', dataset_name='auto')
