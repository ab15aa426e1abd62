# The RGBT550K pretraining run reading tar shards (tools/dataset_converters/rgbt_pairs_to_tar.py data/rgbt550k
# --out-dir data/rgbt550k_shards): same pairs in the same order, same pipeline, read by offset.
_base_ = ['./specgene_vit-base-p16_8xb128-amp-coslr-100e_rgbt550k.py']
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='RGBTTarPairDataset',
        data_root='data/rgbt550k_shards/',
        ann_file='index.json',
        pipeline={{_base_.train_pipeline}}))
