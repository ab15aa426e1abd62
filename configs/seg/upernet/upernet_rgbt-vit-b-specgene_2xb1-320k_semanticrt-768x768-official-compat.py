# semanticrt with the released 'official-compat' preprocessing (SPEC §2.5): both halves stay in BGR order and the
# ImageNet R,G,B statistics are applied positionally, as the released seg checkpoints were trained.
_base_ = ['./upernet_rgbt-vit-b-specgene_2xb1-320k_semanticrt-768x768.py']
model = dict(data_preprocessor=dict(to_rgb=(False, False)))
