# M-SpecGene RGBT ViT-B + LoFTR-style matching on KAIST pairs (640x512, kept at that size), the KAIST detection
# annotation files as pair lists (docs/en/dataset_prepare.md); protocol as in the LLVIP config (docs/en/match.md).
_base_ = ['./loftr_rgbt-vit-b-specgene_1xb4-40k_llvip.py']
data_root = 'data/kaist/'
train_dataloader = dict(dataset=dict(data_root=data_root, ann_file='annotations/kaist_train.json'))
val_dataloader = dict(dataset=dict(data_root=data_root, ann_file='annotations/kaist_test.json'))
test_dataloader = val_dataloader
