# The synthetic UperNet config trained with modality dropout: 40 % of the training pairs lose their RGB or their
# thermal image (20 % each), filled with the preprocessor mean (zeros after normalisation). Compare with the
# parent config under a missing modality: tools/analysis_tools/robustness_eval.py (docs/en/robustness.md).
_base_ = './upernet_rgbt-vit-tiny_1xb4-400i_synthetic.py'
modality_dropout = dict(
    type='MeanFillModalityDropout',
    prob=0.4,
    modality=('rgb', 'thermal'),
    mean=_base_.model.data_preprocessor.mean,
    to_rgb=_base_.model.data_preprocessor.to_rgb)
# last step before PackSegInputs
train_pipeline = _base_.train_pipeline[:-1] + [modality_dropout, _base_.train_pipeline[-1]]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
