# M-SpecGene RGBT UperNet on semanticrt: ViT-B with layer scale, taps after blocks 3/5/7/11 fused to 1536 channels,
# Feature2Pyramid + UPerHead + FCN auxiliary head, crop 768, slide inference (stride 341), fp32 AdamW 1e-4 with
# layer decay 0.65, 320k iterations at global batch 2. Clean preprocessing (per-half BGR->RGB); to evaluate the
# released checkpoint use the -official-compat variant.
_base_ = [
    '../_base_/models/upernet_rgbt-vit-b.py',
    '../_base_/datasets/semanticrt_rgbt.py',
    '../_base_/schedules/upernet-adamw-poly-320k.py',
    '../_base_/default_runtime.py',
]
num_classes = 13
model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/M-SpecGene_VIT-B_seg_transform.pth',
                      src_format='auto')),
    decode_head=dict(num_classes=num_classes),
    auxiliary_head=dict(num_classes=num_classes))
