# M-SpecGene ViT-B/16 on RGBT550K with the masking algorithm as released (ReleasedGMMCMSSMasking): released CMSS
# (thermal variance squared, per-GPU max), a per-GPU GMM (kept out of DDP's buffer broadcast automatically), the
# last batch's loss gap, a tick every 268 iterations (the release's 274,119 pairs / 1024 per step) and the 50/101
# phase constants. For ablations against the clean default; see docs/en/pretrain_masking.md.
_base_ = ['./specgene_vit-base-p16_8xb128-amp-coslr-100e_rgbt550k.py']
model = dict(
    backbone=dict(
        masker=dict(type='ReleasedGMMCMSSMasking', cmss_variant='released', tick_every=267.69, on_singular='raise')))
