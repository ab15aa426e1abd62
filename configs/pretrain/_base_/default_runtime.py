# Runtime shared by every pretraining config: the host scope and the plugin import live here only.
default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmspecgene.pretrain'], allow_failed_imports=False)

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
# Passes the runner's progress to the masker before every iteration and logs the masking/curriculum statistics
# every logger interval (console: the losses plus curr/tick and the two keep budgets).
custom_hooks = [dict(type='RGBTMaskingHook')]
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
log_processor = dict(window_size=10, by_epoch=True, custom_cfg=[dict(data_src='', method='mean', window_size=1)])
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, diff_rank_seed=True)
