# Single-modality MAE pretraining on the RGB half of the synthetic pairs (see the thermal config).
_base_ = ['./mae-thermal_vit-tiny-p16_1xb16-30e_synthetic.py']
train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(type='LoadRGBTImagePair'),
        dict(type='SelectModality', modality='rgb'),
        dict(type='RandomResizedCrop', scale=96, crop_ratio_range=(0.35, 1.0), interpolation='bicubic'),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackInputs', meta_keys=('img_path', 'ir_path')),
    ]))
