# SemanticRT (13 classes, docs/en/dataset_prepare.md): train on train/, validate and test on test/.
_base_ = './rgbt_seg_768.py'
dataset_type = 'SemanticRTDataset'
data_root = 'data/semanticrt/'
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
