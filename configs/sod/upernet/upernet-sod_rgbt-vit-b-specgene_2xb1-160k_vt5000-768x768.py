# M-SpecGene RGBT SOD: the segmentation model with 2 classes (Background, Saliency), plain CE, trained on VT5000
# and tested on VT5000/VT1000/VT821/VI-RGBT1500. Metrics on soft saliency maps by default; the released numbers
# used hard masks (see the -official-compat variant).
_base_ = [
    '../../seg/_base_/models/upernet_rgbt-vit-b.py',
    '../_base_/datasets/vt_sod_rgbt.py',
    '../_base_/schedules/upernet-adamw-poly-160k.py',
    '../../seg/_base_/default_runtime.py',
]
model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/M-SpecGene_VIT-B_seg_transform.pth',
                      src_format='auto')),
    decode_head=dict(num_classes=2),
    auxiliary_head=dict(num_classes=2))
default_hooks = dict(checkpoint=dict(interval=1000))
