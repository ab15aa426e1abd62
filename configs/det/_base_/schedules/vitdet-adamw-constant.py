# RGBT ViTDet optimisation (docs/en/method.md#detection): AdamW 1e-4, wd 0.1, layer decay 0.7 over the backbone's
# blocks (the depth
# comes from the model), 'vitdet' decay exclusion, 250-iteration linear warm-up, then an explicitly constant LR (the
# release's milestones lay beyond max_iters). AMP needs CUDA; CPU configs override optim_wrapper.type='OptimWrapper'.
optim_wrapper = dict(
    type='AmpOptimWrapper',
    constructor='RGBTLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.7, decay_exclusion='vitdet'),
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.1))
# After the warm-up ends, mmengine keeps the last LR: constant, explicitly (no fake milestones).
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=250),
]
max_iters = 120000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=2000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=2)
