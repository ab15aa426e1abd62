# Explicit 100-epoch RGBT schedule (docs/en/method.md#pretraining-model): AdamW 2.4e-3 at global batch 1024, linear
# warm-up over
# 40 epochs chained with cosine over [0, 100), replayed as written (our documented interpretation).
optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(type='AdamW', lr=2.4e-3, betas=(0.9, 0.95), weight_decay=0.05),
    constructor='RGBTLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=1.0, decay_exclusion='by_role'))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=40, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=100, eta_min=0., by_epoch=True, begin=0, end=100,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100)
auto_scale_lr = dict(base_batch_size=1024)
