# M-SpecGene RGBT ViTDet Mask R-CNN with ViT-L/16 on KAIST: the ViT-B KAIST recipe (global batch 2, LSJ 960, AdamW
# 1e-4, 25000 iterations) with the large backbone and ViTDet-L's layer decay 0.8 over the 24 blocks (and stochastic
# depth 0.4, in the model base); not tuned on RGBT data. No ViT-L weights were released: pretrain with
# specgene_vit-large-p16_8xb128-amp-coslr-100e_rgbt550k.py and copy its last checkpoint to
# checkpoints/specgene_vit-large-p16_rgbt550k.pth (any pretraining layout loads, with a key report).
# Out of GPU memory: add --cfg-options model.backbone.with_cp=True (gradient checkpointing of every block).
_base_ = [
    '../_base_/models/mask-rcnn_rgbt-vitdet-l.py',
    '../_base_/datasets/kaist_rgbt.py',
    '../_base_/schedules/vitdet-adamw-constant.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/specgene_vit-large-p16_rgbt550k.pth',
                      src_format='auto')),
    roi_head=dict(bbox_head=dict(num_classes=1), mask_head=dict(num_classes=1)))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.8))
train_dataloader = dict(dataset=dict(check_category_order=True))
val_dataloader = dict(dataset=dict(check_category_order=True))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=25000, val_interval=5000)
# lower miss rate is better: keep the best Reasonable MR^-2 snapshot
default_hooks = dict(checkpoint=dict(interval=5000, save_best='kaist/MR_reasonable_all', rule='less'))
