# SemanticRT (13 classes, SPEC §10.6): train on train/, validate and test on test/.
_base_ = './rgbt_seg_768.py'
dataset_type = 'SemanticRTDataset'
data_root = 'data/semanticrt/'
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
