# Copyright (c) mmspecgene contributors. All rights reserved.
"""RGBTMatchingMetric against hand-computed cases."""
import numpy as np
import pytest
import torch

from mmspecgene.match.geometry import sample_homography, warp_points
from mmspecgene.match.metric import RGBTMatchingMetric, evaluate_pair

SHAPE = (512, 640)  # (h, w)


def _grid_points(step=40):
    xs, ys = np.meshgrid(np.arange(20, 620, step), np.arange(20, 500, step))
    return np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float64)


def _sample(kpts0, kpts1, H, idx=0):
    return dict(pred_kpts0=torch.as_tensor(kpts0), pred_kpts1=torch.as_tensor(kpts1), gt_homography=H,
                img_shape=SHAPE, sample_idx=idx, img_path=f'rgb{idx}.jpg', ir_path=f'ir{idx}.jpg')


def test_perfect_and_empty_pairs():
    """A pair matched exactly (error 0) and a pair without matches (failure): AUC 50 %, precision 50 %."""
    H = sample_homography(np.random.default_rng(0), (640, 512))
    kpts0 = _grid_points()
    metric = RGBTMatchingMetric()
    metric.process(None, [_sample(kpts0, warp_points(H, kpts0), H, 0), _sample(np.zeros((0, 2)), np.zeros((0, 2)),
                                                                             H, 1)])
    out = metric.compute_metrics(metric.results)
    for thr in (3, 5, 10):
        assert out[f'AUC@{thr}px'] == pytest.approx(50.0, abs=0.01)  # MAGSAC's fit is exact to ~1e-3 px
    assert out['precision@3px'] == pytest.approx(50.0)
    assert out['precision@5px'] == pytest.approx(50.0)
    assert out['num_matches'] == pytest.approx(len(kpts0) / 2)
    assert out['failed'] == 1


def test_precision_counts_matches_within_threshold():
    """A quarter of the matches are 4 px off: precision@3px 75 %, precision@5px 100 %; MAGSAC keeps the rest."""
    H = np.eye(3)
    kpts0 = _grid_points()
    kpts1 = kpts0.copy()
    kpts1[::4] += [0.0, 4.0]  # 4 px off
    stats = evaluate_pair(kpts0, kpts1, H, SHAPE, ransac_thr=1.0)
    assert stats['precision@3px'] == pytest.approx(0.75)
    assert stats['precision@5px'] == pytest.approx(1.0)
    assert stats['num_matches'] == len(kpts0)
    assert stats['corner_error'] < 1.0


def test_known_homography_offset_gives_known_corner_error():
    """All matches agree on a homography 3, 4 px off the ground truth: corner error 5 px, AUC@10 = 50 %."""
    H = np.eye(3)
    kpts0 = _grid_points()
    kpts1 = kpts0 + [3.0, 4.0]
    stats = evaluate_pair(kpts0, kpts1, H, SHAPE)
    assert stats['corner_error'] == pytest.approx(5.0, abs=1e-6)
    assert stats['precision@3px'] == 0 and stats['precision@5px'] == 0  # 5 px is not below 5 px
    metric = RGBTMatchingMetric()
    out = metric.compute_metrics([stats])
    # recall jumps from 0 to 1 at 5 px: trapezoid (0,0)-(5,1) then flat -> (2.5 + 5) / 10 at 10 px, 0.25 at 5 px
    assert out['AUC@10px'] == pytest.approx(75.0, abs=1e-4)
    assert out['AUC@5px'] == pytest.approx(50.0, abs=1e-4)
    assert out['AUC@3px'] == pytest.approx(0.0)


def test_bad_predictions_name_the_sample():
    metric = RGBTMatchingMetric()
    with pytest.raises(KeyError, match=r'sample 4 \(rgb4.jpg \| ir4.jpg\) lacks'):
        metric.process(None, [dict(sample_idx=4, img_path='rgb4.jpg', ir_path='ir4.jpg', gt_homography=np.eye(3),
                                   img_shape=SHAPE)])
    with pytest.raises(ValueError, match='sample 2 .*matches pair up'):
        metric.process(None, [_sample(np.zeros((3, 2)), np.zeros((2, 2)), np.eye(3), 2)])
    with pytest.raises(ValueError, match='no pairs'):
        metric.compute_metrics([])
    with pytest.raises(ValueError, match='ransac_thr'):
        RGBTMatchingMetric(ransac_thr=0)


def test_metric_is_registered_in_the_mmspecgene_scope():
    from mmengine.registry import METRICS, DefaultScope

    import mmspecgene.match  # noqa: F401
    with DefaultScope.overwrite_default_scope('mmspecgene'):
        metric = METRICS.build(dict(type='RGBTMatchingMetric', ransac_thr=2.0))
    assert isinstance(metric, RGBTMatchingMetric) and metric.ransac_thr == 2.0
