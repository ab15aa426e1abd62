# Ablation of the decoder's cross-modal attention: two plain MAE decoders (RGBTMAEPlainDecoder), GMM-CMSS masking
# and everything else as in the synthetic M-SpecGene config.
_base_ = ['./specgene_vit-tiny-p16_1xb16-30e_synthetic.py']
model = dict(neck=dict(type='RGBTMAEPlainDecoder'))
