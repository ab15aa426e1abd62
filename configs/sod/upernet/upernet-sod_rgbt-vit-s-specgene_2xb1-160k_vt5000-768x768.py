# M-SpecGene RGBT SOD with ViT-S/16: the ViT-B SOD recipe (the segmentation model with 2 classes, plain CE, trained on
# VT5000, tested on VT5000/VT1000/VT821/VI-RGBT1500, soft-map metrics) with taps after blocks 3/5/7/11 fused to 768
# channels and layer decay 0.65 over the 12 blocks.
# No ViT-S/16 weights were released: pretrain with specgene_vit-small-p16_8xb128-amp-coslr-100e_rgbt550k.py and copy its
# last checkpoint to checkpoints/specgene_vit-small-p16_rgbt550k.pth (any pretraining layout loads, with a key report).
_base_ = [
    '../../seg/_base_/models/upernet_rgbt-vit-s.py',
    '../_base_/datasets/vt_sod_rgbt.py',
    '../_base_/schedules/upernet-adamw-poly-160k.py',
    '../../seg/_base_/default_runtime.py',
]
model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/specgene_vit-small-p16_rgbt550k.pth',
                      src_format='auto')),
    decode_head=dict(num_classes=2),
    auxiliary_head=dict(num_classes=2))
default_hooks = dict(checkpoint=dict(interval=1000))
