# Copyright (c) mmspecgene contributors. All rights reserved.
"""RGBTCocoMetric scores a json whose categories are listed in another order than the dataset classes."""
import json

import pytest
import torch

pytest.importorskip('mmdet')
from mmengine.registry import init_default_scope  # noqa: E402

import mmspecgene.det  # noqa: E402,F401
from mmspecgene.datasets.synthetic import make_det  # noqa: E402


@pytest.fixture(scope='module')
def det_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('coco_metric')
    make_det(str(root), num_train=1, num_test=4)
    return root / 'det'


def _perfect_predictions(dataset):
    """The dataset's own boxes and labels as predictions (score 1)."""
    samples = []
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        kept = [inst for inst in info['instances'] if not inst['ignore_flag']]
        boxes = torch.tensor([inst['bbox'] for inst in kept], dtype=torch.float32).reshape(-1, 4)
        labels = torch.tensor([inst['bbox_label'] for inst in kept], dtype=torch.long)
        samples.append(dict(img_id=info['img_id'], ori_shape=(info['height'], info['width']),
                            pred_instances=dict(bboxes=boxes, scores=torch.ones(len(kept)), labels=labels)))
    return samples


def _map(metric_type, ann_file, root):
    from mmdet.registry import DATASETS, METRICS
    init_default_scope('mmdet')
    dataset = DATASETS.build(dict(type='RGBTSyntheticDetDataset', data_root=str(root), ann_file=ann_file,
                                  test_mode=True, pipeline=[]))
    metric = METRICS.build(dict(type=metric_type, ann_file=ann_file, metric='bbox'))
    metric.dataset_meta = dataset.metainfo
    samples = _perfect_predictions(dataset)
    assert sum(len(s['pred_instances']['labels']) for s in samples) > 0
    metric.process({}, samples)
    return metric.evaluate(len(samples))['coco/bbox_mAP']


def test_category_order_of_the_json_does_not_matter(det_root, tmp_path):
    ann = json.loads((det_root / 'annotations' / 'synthetic_test.json').read_text())
    assert len(ann['categories']) >= 2
    ann['categories'] = ann['categories'][::-1]  # same ids and names, listed in reverse
    reversed_json = tmp_path / 'reversed.json'
    reversed_json.write_text(json.dumps(ann))
    assert _map('RGBTCocoMetric', str(det_root / 'annotations' / 'synthetic_test.json'), det_root) == 1.0
    assert _map('RGBTCocoMetric', str(reversed_json), det_root) == 1.0
    assert _map('CocoMetric', str(reversed_json), det_root) < 0.5  # the host maps labels in json order


def test_class_missing_from_the_json_is_named(det_root, tmp_path):
    from mmdet.registry import METRICS
    ann = json.loads((det_root / 'annotations' / 'synthetic_test.json').read_text())
    metric = METRICS.build(dict(type='RGBTCocoMetric', ann_file=str(det_root / 'annotations' / 'synthetic_test.json')))
    metric.dataset_meta = dict(classes=tuple(c['name'] for c in ann['categories']) + ('dog', ))
    with pytest.raises(ValueError, match=r"classes \['dog'\] are not categories of the evaluation json"):
        metric.compute_metrics([])
