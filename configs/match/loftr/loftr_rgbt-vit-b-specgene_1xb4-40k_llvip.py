# M-SpecGene RGBT ViT-B + LoFTR-style coarse-to-fine matching on LLVIP pairs (1280x1024, resized to 640x512), each
# training pair warped by a random homography, evaluated on fixed seeded test homographies (docs/en/match.md).
# The paper's own LLVIP matching protocol is not published: numbers from this config are not comparable to it.
# Backbone init: any pretraining checkpoint (the released M-SpecGene pretraining checkpoint or an mmspecgene one,
# loaded through mmspecgene.models.checkpoint).
_base_ = [
    '../_base_/models/loftr_rgbt-vit-b.py',
    '../_base_/datasets/rgbt_match.py',
    '../_base_/schedules/adamw-layer-decay.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone=dict(
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/M-SpecGene_VIT-B.pth', src_format='auto')))
default_hooks = dict(checkpoint=dict(save_best='match/AUC@5px', rule='greater'))
