# M-SpecGene RGBT UperNet with ViT-L/16 on semanticrt: the ViT-B recipe (layer scale, Feature2Pyramid + UPerHead + FCN
# auxiliary head, crop 768, slide inference, fp32 AdamW 1e-4, 320k iterations at global batch 2) with taps after blocks
# 7/11/15/23 fused to 2048 channels and layer decay 0.8 over the 24 blocks (0.65^(13/25) ~ 0.8 keeps ViT-B's lr scale
# of the embeddings; not tuned on RGBT data).
# No ViT-L/16 weights were released: pretrain with specgene_vit-large-p16_8xb128-amp-coslr-100e_rgbt550k.py and copy its
# last checkpoint to checkpoints/specgene_vit-large-p16_rgbt550k.pth (any pretraining layout loads, with a key report).
_base_ = [
    '../_base_/models/upernet_rgbt-vit-l.py',
    '../_base_/datasets/semanticrt_rgbt.py',
    '../_base_/schedules/upernet-adamw-poly-320k.py',
    '../_base_/default_runtime.py',
]
num_classes = 13
model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/specgene_vit-large-p16_rgbt550k.pth',
                      src_format='auto')),
    decode_head=dict(num_classes=num_classes),
    auxiliary_head=dict(num_classes=num_classes))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.8))
