# MVSeg (26 classes, docs/en/dataset_prepare.md): <seq>/<frame> relative paths; test on test/.
_base_ = './rgbt_seg_768.py'
dataset_type = 'MVSegDataset'
data_root = 'data/mvseg/'
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
