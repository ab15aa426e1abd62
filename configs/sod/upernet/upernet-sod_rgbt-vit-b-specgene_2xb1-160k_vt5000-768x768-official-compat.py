# SOD with the released conventions: BGR halves with positional ImageNet statistics (SPEC §2.5) and hard-mask
# evaluation with the released weighted-F beta^2 = 0.3 (SPEC §9).
_base_ = ['./upernet-sod_rgbt-vit-b-specgene_2xb1-160k_vt5000-768x768.py']
model = dict(data_preprocessor=dict(to_rgb=(False, False)))
val_evaluator = dict(type='SODMetric', pred_mode='hard', dataset_name='vt5000', wf_beta2=0.3)
test_evaluator = dict(type='SODMetric', pred_mode='hard', dataset_name='auto', wf_beta2=0.3)
