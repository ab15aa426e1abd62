# M-SpecGene RGBT SOD with ViT-L/16: the ViT-B SOD recipe (the segmentation model with 2 classes, plain CE, trained on
# VT5000, tested on VT5000/VT1000/VT821/VI-RGBT1500, soft-map metrics) with taps after blocks 7/11/15/23 fused to 2048
# channels and layer decay 0.8 over the 24 blocks (0.65^(13/25) ~ 0.8 keeps ViT-B's lr scale of the embeddings; not
# tuned on RGBT data).
# No ViT-L/16 weights were released: pretrain with specgene_vit-large-p16_8xb128-amp-coslr-100e_rgbt550k.py and copy its
# last checkpoint to checkpoints/specgene_vit-large-p16_rgbt550k.pth (any pretraining layout loads, with a key report).
_base_ = [
    '../../seg/_base_/models/upernet_rgbt-vit-l.py',
    '../_base_/datasets/vt_sod_rgbt.py',
    '../_base_/schedules/upernet-adamw-poly-160k.py',
    '../../seg/_base_/default_runtime.py',
]
model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/specgene_vit-large-p16_rgbt550k.pth',
                      src_format='auto')),
    decode_head=dict(num_classes=2),
    auxiliary_head=dict(num_classes=2))
default_hooks = dict(checkpoint=dict(interval=1000))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.8))
