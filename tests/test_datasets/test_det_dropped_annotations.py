# Copyright (c) mmspecgene contributors. All rights reserved.
"""RGBTCocoDataset reports the annotations mmdet leaves out: degenerate boxes at WARNING with ids and reasons
(an error in strict mode), ``ignore`` flags separately at INFO, iscrowd boxes kept as ignored regions."""
import json
import logging
import os.path as osp

import pytest

from mmspecgene.datasets.ann_checks import degenerate_reason
from mmspecgene.testing.logs import captured_log_records
from mmspecgene.utils import register_all_modules


def _build(root, ann_file, **kwargs):
    register_all_modules('det')
    from mmdet.registry import DATASETS
    with captured_log_records() as records:
        dataset = DATASETS.build(dict(type='RGBTSyntheticDetDataset', data_root=root, ann_file=ann_file,
                                      data_prefix=dict(img='visible/', ir='infrared/'), pipeline=[], **kwargs))
    return dataset, records


@pytest.fixture
def broken_json(synthetic_root, tmp_path):
    """The synthetic train json with four degenerate boxes, one ``ignore`` flag and one crowd box."""
    root = osp.join(synthetic_root, 'det')
    data = json.load(open(osp.join(root, 'annotations', 'synthetic_train.json')))
    anns = [a for a in data['annotations'] if not a['iscrowd']]
    edits = {
        anns[0]['id']: dict(bbox=[500.0, 20.0, 10.0, 10.0]),  # right of the 160x128 image
        anns[1]['id']: dict(bbox=[40.0, 30.0, -12.0, 20.0]),  # negative width
        anns[2]['id']: dict(area=0),
        anns[3]['id']: dict(bbox=[10.0, 10.0, 0.5, 8.0]),  # sub-pixel width
        anns[4]['id']: dict(ignore=1),
        anns[5]['id']: dict(iscrowd=1),
    }
    for ann in data['annotations']:
        ann.update(edits.get(ann['id'], {}))
    path = tmp_path / 'broken.json'
    path.write_text(json.dumps(data))
    return root, str(path), data, [anns[i] for i in range(6)]


def test_degenerate_reason_per_rule():
    assert degenerate_reason([0, 0, 10, 10], 100, 160, 128) is None
    assert degenerate_reason([200, 0, 10, 10], 100, 160, 128)[0] == 'outside the image'
    assert degenerate_reason([-20, 0, 10, 10], 100, 160, 128)[0] == 'outside the image'
    assert degenerate_reason([0, 0, -1, 10], 100, 160, 128)[0] == 'non-positive width or height'
    assert degenerate_reason([0, 0, 10, 0.4], 4, 160, 128)[0] == 'width or height below 1 px'
    assert degenerate_reason([0, 0, 10, 10], 0, 160, 128)[0] == 'area <= 0'


def test_dropped_boxes_are_warned_with_ids_and_counted(broken_json):
    root, ann_file, data, anns = broken_json
    dataset, records = _build(root, ann_file)
    warnings = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    text = warnings[0]
    assert 'broken.json' in text and '4 degenerate annotations' in text
    for ann, reason in zip(anns[:4], ('outside the image', 'non-positive width or height', 'area <= 0',
                                      'width or height below 1 px')):
        assert f'annotation id={ann["id"]} image id={ann["image_id"]}: {reason}' in text
    assert ("{'outside the image': 1, 'non-positive width or height': 1, 'area <= 0': 1, "
            "'width or height below 1 px': 1}") in text
    # the ignore flag is not mixed with the degenerate boxes: counted at INFO
    infos = [r.getMessage() for r in records if r.levelno == logging.INFO]
    assert any('1 annotations flagged "ignore"' in m for m in infos)
    assert f'id={anns[4]["id"]} ' not in text
    # what was loaded: everything else, the crowd box as an ignored region
    loaded = sum(len(dataset.get_data_info(i)['instances']) for i in range(len(dataset)))
    assert loaded == len(data['annotations']) - 5
    crowd = next(dataset.get_data_info(i) for i in range(len(dataset))
                 if dataset.get_data_info(i)['img_id'] == anns[5]['image_id'])
    assert any(inst['ignore_flag'] == 1 and inst['bbox'][0] == anns[5]['bbox'][0] for inst in crowd['instances'])


def test_strict_annotations_raises(broken_json):
    root, ann_file, _, anns = broken_json
    with pytest.raises(ValueError, match=rf'(?s)broken\.json.*annotation id={anns[0]["id"]} .*strict_annotations'):
        _build(root, ann_file, strict_annotations=True)


def test_clean_file_logs_no_warning(synthetic_root):
    root = osp.join(synthetic_root, 'det')
    _, records = _build(root, 'annotations/synthetic_train.json', strict_annotations=True)
    assert not [r for r in records if r.levelno >= logging.WARNING]


def test_filter_cfg_reports_the_images_it_leaves_out(camera_root):
    root = osp.join(camera_root, 'det')
    # a 1280x1024 and a 640x512 image: min_size 600 leaves out the second
    dataset, records = _build(root, 'annotations/synthetic_test.json', filter_cfg=dict(min_size=600))
    assert len(dataset) == 1
    assert any('leaves out 1 of 2 images' in r.getMessage() for r in records)


def test_annotations_without_a_usable_polygon_get_their_box_as_mask(synthetic_root, tmp_path):
    """Box-only, RLE and invalid segmentations would crash (KeyError 'mask') or be ignored by the Mask R-CNN
    pipelines' polygon loading: the box rectangle is used and counted."""
    register_all_modules('det')
    from mmcv.transforms import Compose
    root = osp.join(synthetic_root, 'det')
    data = json.load(open(osp.join(root, 'annotations', 'synthetic_train.json')))
    image_id = data['annotations'][0]['image_id']
    anns = [a for a in data['annotations'] if a['image_id'] == image_id and not a['iscrowd']]
    assert len(anns) >= 3
    anns[0].pop('segmentation', None)
    anns[1]['segmentation'] = dict(size=[128, 160], counts='PPYo04')  # an RLE
    anns[2]['segmentation'] = [[1.0, 2.0, 3.0]]  # too short to be a polygon
    path = tmp_path / 'masks.json'
    path.write_text(json.dumps(data))
    dataset, records = _build(root, str(path))
    warnings = [r.getMessage() for r in records if r.levelno == logging.WARNING]
    assert any("3 annotations have no usable polygon (per reason: {'no segmentation': 1, 'RLE segmentation': 1, "
               "'no valid polygon': 1})" in m for m in warnings)
    index = next(i for i in range(len(dataset)) if dataset.get_data_info(i)['img_id'] == image_id)
    info = dataset.get_data_info(index)
    for ann in anns[:3]:
        instance = next(inst for inst in info['instances']
                        if inst['bbox'][:2] == ann['bbox'][:2] and inst['ignore_flag'] == 0)
        x1, y1, x2, y2 = instance['bbox']
        assert instance['mask'] == [[x1, y1, x2, y1, x2, y2, x1, y2]]
    load = Compose([dict(type='LoadAnnotations', with_bbox=True, with_mask=True, poly2mask=False)])
    results = load(dict(info, img_shape=(128, 160), ori_shape=(128, 160)))
    kept = int((~results['gt_ignore_flags']).sum())
    assert kept == sum(1 for inst in info['instances'] if not inst['ignore_flag'])  # none turned into ignored
