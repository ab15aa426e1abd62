# FMB (15 classes, png, docs/en/dataset_prepare.md): test on test/.
_base_ = './rgbt_seg_768.py'
dataset_type = 'FMBDataset'
data_root = 'data/fmb/'
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
