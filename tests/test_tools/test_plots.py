# Copyright (c) mmspecgene contributors. All rights reserved.
"""The plots: each file is a valid image of the expected size, and what is drawn equals the metric's numbers
(KAIST MR-FPPI curves of published detector results, SOD PR / F-measure curves, training curves of json logs)."""
import json
import math
import os.path as osp
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from mmspecgene.evaluation.kaist_mr import FPPI_REFERENCE_POINTS, log_average_miss_rate
from mmspecgene.testing.scripts import load_script
from mmspecgene.visualization.curves import figure_pixels

REPO = Path(__file__).resolve().parents[2]
KAIST = REPO.parent / 'shared' / 'data' / 'kaist_eval'
TOOLS = REPO / 'tools' / 'analysis_tools'


def _image_size(path):
    img = cv2.imread(str(path))
    assert img is not None, f'not a readable image: {path}'
    return img.shape[1], img.shape[0]


@pytest.mark.skipif(not (KAIST / 'KAIST_annotation.json').is_file(), reason=f'KAIST evaluation data not in {KAIST}')
def test_kaist_mr_fppi_plot(tmp_path):
    tool = load_script(TOOLS / 'kaist_eval.py', 'kaist_eval_tool')
    out = tool.main(['--ann', str(KAIST / 'KAIST_annotation.json'), '--results', str(KAIST / 'MLPD_result.txt'),
                     str(KAIST / 'MBNet_result.txt'), '--setups', 'reasonable', 'all', '--plot', str(tmp_path)])
    assert set(out['figures']) == {'reasonable', 'all'}
    for setup, (path, drawn) in out['figures'].items():
        assert path == str(tmp_path / f'mr_fppi_{setup}.png')
        assert _image_size(path) == figure_pixels(3)
        for subset in ('all', 'day', 'night'):
            assert list(drawn[subset]) == sorted(drawn[subset], key=lambda m: drawn[subset][m]['mr2'])  # best first
            for method, curve in drawn[subset].items():
                mr2 = out['miss_rates'][method][setup][subset]
                assert curve['mr2'] == mr2 and curve['label'].startswith(f'{mr2:.2f}%')
                # The drawn curve reproduces the metric: miss rate at the reference FPPI points (the reference
                # evaluator's rule: last point at or below, index -1 below the first false positive).
                index = np.searchsorted(curve['fppi'], FPPI_REFERENCE_POINTS, side='right') - 1
                assert log_average_miss_rate(1 - curve['miss_rate'][index]) == pytest.approx(mr2, abs=1e-9)
    # the published numbers (MR^-2 of MLPD 7.58 and MBNet 8.13, reasonable/all) are in the legend
    labels = [c['label'] for c in out['figures']['reasonable'][1]['all'].values()]
    assert labels == ['7.58% MLPD_result', '8.13% MBNet_result']


def _write_maps(folder, maps):
    folder.mkdir(parents=True)
    for i, m in enumerate(maps):
        cv2.imwrite(str(folder / f'{i:03d}.png'), m)


def test_sod_pr_and_fmeasure_plots(tmp_path):
    import py_sod_metrics
    rng = np.random.default_rng(0)
    gts, preds = [], dict(sharp=[], blurred=[])
    for _ in range(5):
        gt = np.zeros((96, 128), np.uint8)
        x, y = rng.integers(10, 60, 2)
        gt[y:y + 30, x:x + 50] = 255
        gts.append(gt)
        soft = cv2.GaussianBlur(gt.astype(np.float32), (0, 0), 4)
        preds['sharp'].append(np.clip(soft + rng.normal(0, 10, gt.shape), 0, 255).astype(np.uint8))
        preds['blurred'].append(np.clip(cv2.GaussianBlur(soft, (0, 0), 8) + rng.normal(0, 40, gt.shape), 0,
                                        255).astype(np.uint8))
    _write_maps(tmp_path / 'gt', gts)
    for name, maps in preds.items():
        _write_maps(tmp_path / name, maps)
    tool = load_script(TOOLS / 'sod_eval.py', 'sod_eval_tool')
    out_json = tmp_path / 'metrics.json'
    results = tool.main(['--pred', str(tmp_path / 'sharp'), str(tmp_path / 'blurred'), '--gt', str(tmp_path / 'gt'),
                         '--plot', str(tmp_path / 'plots'), '--out-json', str(out_json)])
    assert json.loads(out_json.read_text()) == results and list(results) == ['sharp', 'blurred']
    assert results['sharp']['maxF'] > results['blurred']['maxF']
    pr_file, fm_file = tmp_path / 'plots' / 'sod_pr_curves.png', tmp_path / 'plots' / 'sod_fmeasure_curves.png'
    assert _image_size(pr_file) == figure_pixels(1) and _image_size(fm_file) == figure_pixels(1)

    from mmspecgene.evaluation.sod import SODEvaluator
    from mmspecgene.visualization import plot_sod_curves
    curves = {}
    for name, maps in preds.items():
        evaluator = SODEvaluator()
        for pred, gt in zip(maps, gts):
            evaluator.step(pred, gt)
        curves[name] = evaluator.get_curves()
    drawn = plot_sod_curves(curves, str(tmp_path / 'pr.png'), str(tmp_path / 'fm.png'))
    for name, maps in preds.items():
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            reference = py_sod_metrics.Fmeasure()  # one PySODMetrics object over all images
        for pred, gt in zip(maps, gts):
            reference.step(pred=pred, gt=gt)
        ref = reference.get_results()
        np.testing.assert_allclose(drawn['pr'][name]['precision'], ref['pr']['p'], rtol=1e-12)
        np.testing.assert_allclose(drawn['pr'][name]['recall'], ref['pr']['r'], rtol=1e-12)
        fm = drawn['fmeasure'][name]['fmeasure']
        np.testing.assert_allclose(fm, ref['fm']['curve'], rtol=1e-12)
        assert fm.max() == pytest.approx(results[name]['maxF'], abs=1e-12)
        assert fm.mean() == pytest.approx(results[name]['meanF'], abs=1e-12)
        assert f"maxF {results[name]['maxF']:.3f}" in drawn['pr'][name]['label']
        thresholds = drawn['fmeasure'][name]['threshold']
        assert thresholds[0] == 255 and thresholds[-1] == 0  # curve index i: saliency >= 255 - i
        binary = [(p >= 200) for p in maps]  # F-measure at threshold 200, from scratch
        tp = [np.count_nonzero(b & (g > 0)) for b, g in zip(binary, gts)]
        precision = np.mean([t / max(np.count_nonzero(b), 1) for t, b in zip(tp, binary)])
        recall = np.mean([t / np.count_nonzero(g) for t, g in zip(tp, gts)])
        assert drawn['pr'][name]['precision'][55] == pytest.approx(precision)
        assert drawn['pr'][name]['recall'][55] == pytest.approx(recall)


def _write_json_log(path, rows):
    with open(path, 'w') as f:
        for row in rows:
            f.write(json.dumps(row) + '\n')


def test_analyze_logs_plot_curve_and_train_time(tmp_path, capsys):
    tool = load_script(TOOLS / 'analyze_logs.py', 'analyze_logs_tool')
    iter_rows = [dict(lr=1e-3 / i, loss=2.0 / i, time=0.5 + 0.1 * (i == 1), data_time=0.01, iter=10 * i, step=10 * i)
                 for i in range(1, 11)]
    iter_log = tmp_path / 'iter_based.json'
    _write_json_log(iter_log, iter_rows[:5] + [dict(mIoU=40.0, aAcc=80.0, step=50)] + iter_rows[5:] +
                    [dict(mIoU=55.5, aAcc=90.0, step=100)])
    epoch_log = tmp_path / 'epoch_based.json'
    epoch_rows = [dict(lr=1e-3, loss=1.0 / (e + i), time=1.0 + e, epoch=e, iter=i, step=4 * (e - 1) + i)
                  for e in (1, 2, 3) for i in (2, 4)]
    _write_json_log(epoch_log, epoch_rows + [dict(mIoU=30.0 + e, step=e) for e in (1, 2, 3)])
    out = tmp_path / 'curves' / 'loss.png'
    drawn = tool.main(['plot_curve', str(iter_log), str(epoch_log), '--keys', 'loss', 'mIoU', '--legend', 'a_loss',
                       'a_miou', 'b_loss', 'b_miou', '--out', str(out), '--title', 'two runs'])
    assert _image_size(out) == (800, 500)
    np.testing.assert_array_equal(drawn['a_loss']['x'], [r['step'] for r in iter_rows])
    np.testing.assert_array_equal(drawn['a_loss']['y'], [r['loss'] for r in iter_rows])
    np.testing.assert_array_equal(drawn['a_miou']['x'], [50, 100])
    np.testing.assert_array_equal(drawn['a_miou']['y'], [40.0, 55.5])
    np.testing.assert_array_equal(drawn['b_miou']['x'], [4, 8, 12])  # each epoch's last logged iteration
    np.testing.assert_array_equal(drawn['b_miou']['y'], [31.0, 32.0, 33.0])

    stats = tool.main(['cal_train_time', str(iter_log), str(epoch_log)])
    assert stats[str(iter_log)]['avg_iter_time'] == pytest.approx(0.5)  # first (start-up) row left out
    assert stats[str(epoch_log)]['slowest_epoch'] == 3 and stats[str(epoch_log)]['fastest_epoch'] == 1
    with_outliers = tool.main(['cal_train_time', str(iter_log), '--include-outliers'])
    assert with_outliers[str(iter_log)]['avg_iter_time'] == pytest.approx(np.mean([r['time'] for r in iter_rows]))
    assert 'average iter time' in capsys.readouterr().out

    with pytest.raises(KeyError, match=r"'mAP' is not logged; available keys: \['aAcc', 'data_time'"):
        tool.main(['plot_curve', str(iter_log), '--keys', 'mAP', '--out', str(tmp_path / 'x.png')])
    with pytest.raises(ValueError, match='needs 2 names'):
        tool.main(['plot_curve', str(iter_log), '--keys', 'loss', 'lr', '--legend', 'a', '--out',
                   str(tmp_path / 'x.png')])
    bad = tmp_path / 'bad.json'
    bad.write_text('{"loss": 1.0}\n')
    with pytest.raises(ValueError, match=r'bad\.json:1: no "step" key'):
        tool.main(['plot_curve', str(bad), '--out', str(tmp_path / 'x.png')])
    assert not osp.exists(tmp_path / 'x.png') and math.isfinite(stats[str(iter_log)]['std_iter_time'])
