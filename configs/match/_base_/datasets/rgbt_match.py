# Matching samples from an aligned RGBT pair dataset. Training warps one modality (thermal, or RGB with
# probability swap_prob) with a random homography drawn from `homography_ranges`; evaluation uses one fixed,
# seeded homography per test pair, written once to `homography_file` under data_root (and read afterwards).
# Every pair is resized to `img_size` (w, h) first. See docs/en/match.md for the protocol.
dataset_type = 'RGBTMatchDataset'
data_root = 'data/llvip/'
img_size = (640, 512)
# rotation: +-degrees; scale: (low, high), log-uniform; perspective: +-normalised projective terms;
# translation: +-fraction of the image size
homography_ranges = dict(rotation=15.0, scale=(0.85, 1.2), perspective=0.1, translation=0.1)
train_pipeline = [
    dict(type='LoadRGBTMatchPair', img_size=img_size),
    dict(type='RGBTRandomHomographyWarp', ranges=homography_ranges, swap_prob=0.5),
    dict(type='PackRGBTMatchInputs'),
]
test_pipeline = [
    dict(type='LoadRGBTMatchPair', img_size=img_size),
    dict(type='RGBTHomographyWarp'),
    dict(type='PackRGBTMatchInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/llvip_train.json',
        data_prefix=dict(img_path='visible/', ir_path='infrared/'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/llvip_test.json',
        data_prefix=dict(img_path='visible/', ir_path='infrared/'),
        homography_file='annotations/match_homographies_test.json',
        img_size=img_size,
        homography_seed=0,
        homography_ranges=homography_ranges,
        swap_prob=0.5,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='RGBTMatchingMetric', ransac_thr=3.0)
test_evaluator = val_evaluator
