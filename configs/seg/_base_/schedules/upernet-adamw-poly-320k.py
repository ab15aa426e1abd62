# RGBT UperNet optimisation (docs/en/method.md#segmentation-and-sod): fp32 OptimWrapper (the release's fp16 key was
# ignored), AdamW 1e-4,
# wd 0.05, layer decay 0.65 over the backbone's blocks (the depth comes from the model) with the 'mmseg' decay
# exclusion; 1,500 warm-up iterations, then PolyLR(power 1) to 320k. AMP is an explicit opt-in (tools/train.py --amp).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='RGBTLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.65, decay_exclusion='mmseg'))
max_iters = 320000
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=1500, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=2000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
