# RGBT550K packed into tar shards (tools/dataset_converters/rgbt_pairs_to_tar.py data/rgbt550k
# --out-dir data/rgbt550k_shards): same pairs, same order and pipeline as rgbt550k.py, read by offset.
_base_ = ['./rgbt550k.py']
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='RGBTTarPairDataset',
        data_root='data/rgbt550k_shards/',
        ann_file='index.json',
        pipeline={{_base_.train_pipeline}}))
