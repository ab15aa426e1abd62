# The synthetic pretraining run with plain MAE random masking per modality (RandomRGBTMasking): the baseline
# without GMM or curriculum (the visible sets of the two modalities may overlap).
_base_ = ['./specgene_vit-tiny-p16_1xb16-30e_synthetic.py']
model = dict(backbone=dict(masker=dict(_delete_=True, type='RandomRGBTMasking', num_tokens=36, mask_ratio=0.75)))
