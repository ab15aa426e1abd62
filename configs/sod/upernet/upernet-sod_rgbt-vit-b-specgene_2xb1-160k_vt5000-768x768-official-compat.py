# SOD with the released 'official-compat' preset (docs/en/finetune_seg.md): BGR halves with positional ImageNet
# statistics, the photometric distortion's HSV steps also on the thermal half, and hard-mask evaluation with the
# released weighted-F beta^2 = 0.3.
_base_ = ['./upernet-sod_rgbt-vit-b-specgene_2xb1-160k_vt5000-768x768.py']
model = dict(data_preprocessor=dict(to_rgb=(False, False)))
val_evaluator = dict(type='SODMetric', pred_mode='hard', dataset_name='vt5000', wf_beta2=0.3)
test_evaluator = dict(type='SODMetric', pred_mode='hard', dataset_name='auto', wf_beta2=0.3)
# The released training also applied the saturation and hue steps of the photometric distortion to the thermal half
# (the clean default distorts thermal brightness and contrast only).
train_pipeline = [
    dict(step, thermal_ops='all') if step['type'] == 'PairedPhotoMetricDistortion' else step
    for step in _base_.train_pipeline  # noqa: F821  (mmengine provides the inherited variables as _base_)
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
