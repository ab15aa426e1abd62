# M-SpecGene RGBT ViTDet Mask R-CNN (box-shaped masks) on KAIST: global batch 2 (2 GPUs x 1 or 1 x 2), LSJ 960,
# AdamW 1e-4 with layer decay 0.7, 25000 iterations (the released checkpoint's count), bbox metrics only.
# Backbone init: the det-transform of the pretrained model (tools/model_converters/specgene_convert.py
# --dst-format det-init), or the released M-SpecGene_VIT-B_det_transform.pth.
_base_ = [
    '../_base_/models/mask-rcnn_rgbt-vitdet.py',
    '../_base_/datasets/kaist_rgbt.py',
    '../_base_/schedules/vitdet-adamw-constant.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/M-SpecGene_VIT-B_det_transform.pth',
                      src_format='auto')),
    roi_head=dict(bbox_head=dict(num_classes=1), mask_head=dict(num_classes=1)))
train_dataloader = dict(dataset=dict(check_category_order=True))
val_dataloader = dict(dataset=dict(check_category_order=True))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=25000, val_interval=5000)
# lower miss rate is better: keep the best Reasonable MR^-2 snapshot
default_hooks = dict(checkpoint=dict(interval=5000, save_best='kaist/MR_reasonable_all', rule='less'))
