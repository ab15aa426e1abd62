# Ablation of the disjoint visible sets: GMM-CMSS masking whose modalities select independently
# (OverlappingGMMCMSSMasking; a position may be visible in both), everything else as in the synthetic config.
_base_ = ['./specgene_vit-tiny-p16_1xb16-30e_synthetic.py']
model = dict(backbone=dict(masker=dict(type='OverlappingGMMCMSSMasking')))
