# M-SpecGene RGBT UperNet with ViT-S/16 on semanticrt: the ViT-B recipe (layer scale, Feature2Pyramid + UPerHead + FCN
# auxiliary head, crop 768, slide inference, fp32 AdamW 1e-4, 320k iterations at global batch 2) with taps after blocks
# 3/5/7/11 fused to 768 channels and layer decay 0.65 over the 12 blocks.
# No ViT-S/16 weights were released: pretrain with specgene_vit-small-p16_8xb128-amp-coslr-100e_rgbt550k.py and copy its
# last checkpoint to checkpoints/specgene_vit-small-p16_rgbt550k.pth (any pretraining layout loads, with a key report).
_base_ = [
    '../_base_/models/upernet_rgbt-vit-s.py',
    '../_base_/datasets/semanticrt_rgbt.py',
    '../_base_/schedules/upernet-adamw-poly-320k.py',
    '../_base_/default_runtime.py',
]
num_classes = 13
model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/specgene_vit-small-p16_rgbt550k.pth',
                      src_format='auto')),
    decode_head=dict(num_classes=num_classes),
    auxiliary_head=dict(num_classes=num_classes))
