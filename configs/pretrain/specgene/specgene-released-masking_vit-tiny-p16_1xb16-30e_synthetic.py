# The synthetic pretraining run with the released masking algorithm (ReleasedGMMCMSSMasking): one tick per
# 4 calls (tick_every=3.5, one epoch of 64 pairs at batch 16), so 30 epochs stay in the released easy phase.
_base_ = ['./specgene_vit-tiny-p16_1xb16-30e_synthetic.py']
model = dict(backbone=dict(masker=dict(type='ReleasedGMMCMSSMasking', cmss_variant='released', tick_every=3.5)))
