# fmb with the released 'official-compat' preset (docs/en/finetune_seg.md): both halves stay in BGR order, the
# ImageNet R,G,B statistics are applied positionally, and the photometric distortion's HSV steps also reach the thermal
# half, as the released seg checkpoints were trained.
_base_ = ['./upernet_rgbt-vit-b-specgene_2xb1-320k_fmb-768x768.py']
model = dict(data_preprocessor=dict(to_rgb=(False, False)))
# The released training also applied the saturation and hue steps of the photometric distortion to the thermal half
# (the clean default distorts thermal brightness and contrast only).
train_pipeline = [
    dict(step, thermal_ops='all') if step['type'] == 'PairedPhotoMetricDistortion' else step
    for step in _base_.train_pipeline  # noqa: F821  (mmengine provides the inherited variables as _base_)
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
