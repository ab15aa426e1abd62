# KAIST (train-all-02 / test-all-20, docs/en/dataset_prepare.md), evaluated with the Python KAIST MR^-2 (all setups,
# day/night).
_base_ = './rgbt_coco_lsj.py'
dataset_type = 'KAISTDataset'
data_root = 'data/kaist/'
train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root, ann_file='annotations/kaist_train.json'))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root, ann_file='annotations/kaist_test.json'))
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True,
    type='KAISTMissRateMetric',
    ann_file=data_root + 'annotations/kaist_test_eval.json',
    setups=('reference4', 'extended8'))
test_evaluator = val_evaluator
