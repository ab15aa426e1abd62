# Copyright (c) mmspecgene contributors. All rights reserved.
"""Why the detection configs load masks as polygons (``LoadAnnotations(poly2mask=False)``) while the release used
mmdet's default bitmap masks (``poly2mask=True``).

The converters write every instance mask as the rectangle polygon of its box. Through the LSJ train pipeline of a
config (flip, resize 0.1-2x, crop with ``recompute_bbox=True``, filter, pad) on a 1280x1024 frame, with the same
random draws, polygon and bitmap masks give:

* the same instances, with boxes that differ by at most 1.5 px (a bitmap's recomputed box snaps to whole pixels);
* masks that differ only on their boundary pixels;
* 28x28 mask-head targets (``mask_target``) that agree on at least 90 % of the pixels;

while the polygons cost a few hundred bytes per image instead of megabytes of bitmaps (more than a hundredfold).
"""
import copy
import os.path as osp
import random

import numpy as np
import pytest
import torch

pytest.importorskip('mmdet', reason='mmdet is not installed')

from mmengine.config import Config, ConfigDict  # noqa: E402
from mmengine.dataset import Compose  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402

from mmspecgene.datasets.converters import coco_annotation  # noqa: E402
from mmspecgene.utils import register_all_modules  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
LLVIP_CFG = osp.join(REPO, 'configs', 'det', 'vitdet', 'vitdet_mask-rcnn_rgbt-vit-b-specgene_lsj-2xb1-105625i_llvip.py')
HEIGHT, WIDTH = 1024, 1280  # LLVIP frames


def people(num=12, seed=0):
    """Pedestrian-sized boxes with the rectangle polygons the converters write (data-info ``instances``)."""
    rng = np.random.default_rng(seed)
    instances = []
    for i in range(num):
        w, h = rng.uniform(20, 120), rng.uniform(50, 300)
        x, y = rng.uniform(0, WIDTH - w), rng.uniform(0, HEIGHT - h)
        ann = coco_annotation(i + 1, 1, 1, [x, y, w, h])
        instances.append(dict(bbox=[x, y, x + w, y + h], bbox_label=0, ignore_flag=0, mask=ann['segmentation']))
    return instances


@pytest.fixture(scope='module')
def train_pipeline():
    """``run(poly2mask, seed)``: the config's train pipeline after loading the image, before packing."""
    register_all_modules('det', init_default_scope=False)
    cfg = Config.fromfile(LLVIP_CFG)
    steps = [
        s for s in cfg.train_dataloader.dataset.pipeline if s['type'] not in ('LoadRGBTImagePair', 'PackDetInputs')
    ]
    assert [s['type'] for s in steps][:1] == ['LoadAnnotations'] and steps[0]['poly2mask'] is False
    assert any(s['type'] == 'RandomCrop' and s['recompute_bbox'] for s in steps)
    image = np.zeros((HEIGHT, WIDTH, 6), np.uint8)
    instances = people()

    def run(poly2mask, seed):
        pipeline_cfg = copy.deepcopy(steps)
        pipeline_cfg[0]['poly2mask'] = poly2mask
        np.random.seed(seed)
        random.seed(seed)
        with DefaultScope.overwrite_default_scope('mmdet'):
            return Compose(pipeline_cfg)(
                dict(img=image.copy(), img_shape=(HEIGHT, WIDTH), ori_shape=(HEIGHT, WIDTH),
                     instances=copy.deepcopy(instances), img_path='visible.jpg', ir_path='infrared.jpg'))

    return run


@pytest.mark.parametrize('seed', [0, 2, 3])
def test_polygon_masks_match_bitmap_masks_through_lsj(train_pipeline, seed):
    from mmdet.structures.mask import BitmapMasks, PolygonMasks, mask_target
    poly, bitmap = train_pipeline(False, seed), train_pipeline(True, seed)
    assert isinstance(poly['gt_masks'], PolygonMasks) and isinstance(bitmap['gt_masks'], BitmapMasks)
    assert poly['img'].shape == bitmap['img'].shape and len(poly['gt_masks']) == len(bitmap['gt_masks']) > 0
    boxes = poly['gt_bboxes'].numpy()
    assert np.abs(boxes - bitmap['gt_bboxes'].numpy()).max() <= 1.5
    poly_masks, bitmap_masks = poly['gt_masks'].to_ndarray(), bitmap['gt_masks'].to_ndarray()
    for box, poly_mask, bitmap_mask in zip(boxes, poly_masks, bitmap_masks):
        perimeter = 2 * (box[2] - box[0] + box[3] - box[1]) + 4
        assert poly_mask.sum() > 0 and (poly_mask != bitmap_mask).sum() <= perimeter, box
    proposals = torch.as_tensor(boxes) + torch.tensor([-5., -5., 5., 5.])
    assigned = torch.arange(len(boxes))
    targets = [mask_target([proposals], [assigned], [r['gt_masks']], ConfigDict(mask_size=28)) for r in (poly, bitmap)]
    assert (targets[0] == targets[1]).float().mean() >= 0.9
    polygon_bytes = sum(p.nbytes for obj in poly['gt_masks'].masks for p in obj)
    assert bitmap['gt_masks'].masks.nbytes > 100 * polygon_bytes
