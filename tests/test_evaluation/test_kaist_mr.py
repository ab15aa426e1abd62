# Copyright (c) mmspecgene contributors. All rights reserved.
"""KAIST MR^-2: parity with the published numbers of the standard Python KAISTPed evaluator
(docs/en/method.md#evaluation-protocols)."""
import json
import math
import os
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mmspecgene.evaluation import KAISTMissRateMetric
from mmspecgene.evaluation.kaist_mr import (
    KAIST_SETUPS,
    SETUP_LISTS,
    SUBSETS,
    KAISTDetections,
    evaluate_kaist,
    frame_key_from_path,
    gt_ignore_flags,
    load_detections,
    load_detections_json,
    load_detections_txt,
    load_kaist_gt,
    resolve_setups,
    write_matlab_txt,
    write_reference_txt,
)

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / 'shared' / 'data' / 'kaist_eval'
ANN = DATA / 'KAIST_annotation.json'
RESULTS = {'MLPD': DATA / 'MLPD_result.txt', 'MBNet': DATA / 'MBNet_result.txt'}
pytestmark = pytest.mark.skipif(
    not (ANN.is_file() and all(path.is_file() for path in RESULTS.values())),
    reason=f'KAIST evaluation data not found under {DATA} (expected <repo>/../shared/data/kaist_eval)')

# Published MR^-2 (%), all / day / night: kaist_eval/README.md and docs/en/method.md#evaluation-protocols.
PUBLISHED = {
    'MLPD': {
        'reasonable': (7.58, 7.96, 6.95),
        'reasonable_small': (11.53, 11.55, 12.08),
        'reasonable_occ_heavy': (44.83, 43.87, 47.71),
        'all_h20': (28.49, 28.39, 28.69),
        'all': (28.49, 28.39, 28.69),
        'far': (50.86, 47.86, 56.07),
        'medium': (11.93, 12.89, 9.26),
        'near': (0.00, 0.00, 0.00),
        'occ_none': (24.15, 23.53, 25.71),
        'occ_partial': (28.75, 27.97, 29.91),
        'occ_heavy': (53.97, 53.86, 53.86),
    },
    'MBNet': {
        'reasonable': (8.13, 8.28, 7.86),
        'reasonable_small': (15.42, 14.22, 19.25),
        'reasonable_occ_heavy': (49.03, 49.26, 48.63),
        'all_h20': (31.87, 32.39, 30.95),
        'all': (31.87, 32.39, 30.95),
        'far': (55.99, 55.66, 56.48),
        'medium': (16.09, 17.34, 12.99),
        'near': (0.00, 0.00, 0.00),
        'occ_none': (27.75, 28.08, 27.15),
        'occ_partial': (35.43, 34.08, 38.17),
        'occ_heavy': (59.14, 59.58, 57.84),
    },
}


def assert_published(miss_rates, method):
    """Every published number, compared as the reference prints it (two decimals)."""
    mismatches = [(key, subset, f'{miss_rates[key][subset]:.2f}', f'{expected[i]:.2f}')
                  for key, expected in PUBLISHED[method].items() for i, subset in enumerate(SUBSETS)
                  if f'{miss_rates[key][subset]:.2f}' != f'{expected[i]:.2f}']
    assert not mismatches, f'{method}: (setup, subset, ours, published): {mismatches}'


@pytest.fixture(scope='module')
def gt():
    return load_kaist_gt(str(ANN))


def txt_to_json(txt_path, json_path):
    rows = np.loadtxt(txt_path, delimiter=',', ndmin=2)
    results = [dict(image_id=int(row[0]) - 1, category_id=1, bbox=row[1:5].tolist(), score=float(row[5]))
               for row in rows]
    with open(json_path, 'w') as f:
        json.dump(results, f)


def test_ground_truth_facts(gt):
    # docs/en/dataset_prepare.md test-set facts.
    assert gt.num_images == 2252 and len(gt.boxes) == 4254
    assert int((~gt.is_night).sum()) == 1455 and int(gt.is_night.sum()) == 797
    assert gt.frame_keys[1454].startswith('set08') and gt.frame_keys[1455].startswith('set09')
    assert int(gt.ignore.sum()) == 864
    assert np.bincount(gt.occlusions).tolist() == [3452, 534, 268]
    regular = ~gt_ignore_flags(gt, KAIST_SETUPS['reasonable'])
    night_box = gt.is_night[gt.image_index]
    assert (int(regular.sum()), int((regular & ~night_box).sum()), int((regular & night_box).sum())) == (1455, 989, 466)


@pytest.mark.parametrize('method', ['MLPD', 'MBNet'])
def test_published_numbers_txt(gt, method):
    evaluation = evaluate_kaist(gt, load_detections(str(RESULTS[method]), gt))
    assert list(evaluation.miss_rates) == resolve_setups(('reference4', 'extended8'))
    assert_published(evaluation.miss_rates, method)


@pytest.mark.parametrize('method', ['MLPD', 'MBNet'])
def test_published_numbers_json(gt, method, tmp_path):
    json_path = tmp_path / f'{method}_result.json'
    txt_to_json(RESULTS[method], json_path)
    evaluation = evaluate_kaist(gt, load_detections(str(json_path), gt))
    assert_published(evaluation.miss_rates, method)


def test_shuffled_input_gives_sorted_numbers(gt, tmp_path):
    lines = RESULTS['MLPD'].read_text().splitlines()
    shuffled = [lines[i] for i in np.random.default_rng(0).permutation(len(lines))]
    assert shuffled != lines
    shuffled_path = tmp_path / 'MLPD_shuffled.txt'
    shuffled_path.write_text('\n'.join(shuffled) + '\n')
    shuffled_eval = evaluate_kaist(gt, load_detections_txt(str(shuffled_path), gt))
    sorted_eval = evaluate_kaist(gt, load_detections_txt(str(RESULTS['MLPD']), gt))
    assert shuffled_eval.miss_rates == sorted_eval.miss_rates
    assert_published(shuffled_eval.miss_rates, 'MLPD')


def test_setups_are_independent_of_order(gt):
    dets = load_detections(str(RESULTS['MBNet']), gt)
    pristine = gt.ignore.copy()
    forward = evaluate_kaist(gt, dets, setups=['far', 'reasonable', 'occ_heavy'])
    backward = evaluate_kaist(gt, dets, setups=['occ_heavy', 'reasonable', 'far'])
    single = evaluate_kaist(gt, dets, setups='reasonable')
    assert forward.miss_rates == backward.miss_rates
    assert forward.miss_rates['reasonable'] == single.miss_rates['reasonable']
    np.testing.assert_array_equal(gt.ignore, pristine)


def test_faithful_quirks_off(gt):
    dets = load_detections(str(RESULTS['MLPD']), gt)
    faithful = evaluate_kaist(gt, dets, faithful_quirks=True).miss_rates
    plain = evaluate_kaist(gt, dets, faithful_quirks=False).miss_rates
    # Skipped GT-only images hide misses, so counting them can only raise the miss rate.
    assert plain['all_h20']['all'] > faithful['all_h20']['all'] + 0.5
    assert all(plain[key][s] >= faithful[key][s] - 0.1 for key in plain for s in SUBSETS)
    assert f"{plain['reasonable']['all']:.2f}" == '7.58'


def test_setup_lists_and_errors():
    assert resolve_setups('reference4') == list(SETUP_LISTS['reference4'])
    assert len(resolve_setups(('reference4', 'extended8'))) == 11
    assert resolve_setups(['far', 'extended8'])[:2] == ['far', 'reasonable']
    with pytest.raises(ValueError, match='unknown KAIST setup'):
        resolve_setups(['reasonable', 'tiny'])


def test_frame_key_from_path():
    assert frame_key_from_path('data/kaist/visible/set06/V000/I00019.jpg') == 'set06/V000/I00019'
    assert frame_key_from_path('/raw/images/set10/V001/lwir/I01239.jpg') == 'set10/V001/I01239'
    assert frame_key_from_path('out/set07_V002_I00439.png') == 'set07/V002/I00439'
    with pytest.raises(ValueError, match='cannot derive a KAIST frame key'):
        frame_key_from_path('data/llvip/visible/test/190001.jpg')


def _write_gt(path, images, annotations, first_ann_id=1):
    anns = [
        dict(id=first_ann_id + i, image_id=image_id, category_id=1, bbox=bbox, height=bbox[3], occlusion=0,
             ignore=ignore) for i, (image_id, bbox, ignore) in enumerate(annotations)
    ]
    path.write_text(json.dumps(dict(images=[dict(id=i, im_name=name) for i, name in images], annotations=anns)))


def test_matching_on_synthetic_frames(tmp_path):
    # Json id 7 is a night frame with 3 regular boxes and 1 ignored box, json id 3 a day frame without boxes.
    ann = tmp_path / 'gt.json'
    _write_gt(ann, [(7, 'set09/V000/I00019'), (3, 'set06/V000/I00019')],
              [(7, [100, 100, 40, 100], 0), (7, [200, 100, 40, 100], 0), (7, [400, 100, 40, 100], 0),
               (7, [300, 100, 40, 100], 1)])
    gt = load_kaist_gt(str(ann))
    assert gt.is_night.tolist() == [False, True]  # derived from the set id, evaluator order = sorted ids
    dets = KAISTDetections(
        image_index=np.array([1, 1, 1, 1]),
        # on the ignored box (crowd IoU 1: dropped), on GT 1, a false positive, on GT 2
        boxes=np.array([[305, 120, 20, 40], [101, 101, 40, 100], [500, 300, 40, 100], [200, 100, 40, 100]], float),
        scores=np.array([0.99, 0.9, 0.8, 0.7]))
    result = evaluate_kaist(gt, dets, setups='reasonable')
    # Kept in score order: TP, FP, TP over 3 positives and 2 images -> FPPI [0, .5, .5], recall [1/3, 1/3, 2/3].
    expected = math.exp((7 * math.log(1 - 1 / 3) + 2 * math.log(1 - 2 / 3)) / 9) * 100
    assert result.miss_rates['reasonable']['all'] == pytest.approx(expected)
    assert result.miss_rates['reasonable']['night'] == pytest.approx(
        math.exp((8 * math.log(1 - 1 / 3) + math.log(1 - 2 / 3)) / 9) * 100)  # 1 image: FPPI [0, 1, 1]
    assert math.isnan(result.miss_rates['reasonable']['day'])  # no positive by day
    assert result.recalls['reasonable']['all'] == pytest.approx(200 / 3)
    # Input order does not matter.
    order = np.array([3, 1, 0, 2])
    shuffled = KAISTDetections(dets.image_index[order], dets.boxes[order], dets.scores[order])
    assert evaluate_kaist(gt, shuffled, setups='reasonable').miss_rates == result.miss_rates
    # Reference quirk: a match to the GT box with json id 0 is stored as id 0 = "unmatched", i.e. a false positive.
    _write_gt(ann, [(7, 'set09/V000/I00019'), (3, 'set06/V000/I00019')],
              [(7, [100, 100, 40, 100], 0), (7, [200, 100, 40, 100], 0), (7, [400, 100, 40, 100], 0),
               (7, [300, 100, 40, 100], 1)], first_ann_id=0)
    gt_id0 = load_kaist_gt(str(ann))
    assert evaluate_kaist(gt_id0, dets, setups='reasonable').recalls['reasonable']['all'] == pytest.approx(100 / 3)
    assert evaluate_kaist(gt_id0, dets, setups='reasonable', faithful_quirks=False).miss_rates == result.miss_rates


def test_malformed_detection_files(gt, tmp_path):
    empty = tmp_path / 'empty.txt'
    empty.write_text('\n')
    with pytest.raises(ValueError, match='no detections'):
        load_detections(str(empty), gt)
    columns = tmp_path / 'columns.txt'
    columns.write_text('1,503.0512,213.2522,18.0536,42.1411,0.12698865\n2,529.1,224.2,20.8,47.9\n')
    with pytest.raises(ValueError, match=r'columns.txt:2: expected 6 comma-separated columns'):
        load_detections(str(columns), gt)
    text = tmp_path / 'text.txt'
    text.write_text('1,503.0512,abc,18.0536,42.1411,0.12698865\n')
    with pytest.raises(ValueError, match='non-numeric'):
        load_detections(str(text), gt)
    unknown = tmp_path / 'unknown.txt'
    unknown.write_text('1,503.0512,213.2522,18.0536,42.1411,0.12698865\n2254,1,1,10,10,0.5\n')
    with pytest.raises(ValueError, match='json image id 2253'):
        load_detections(str(unknown), gt)
    empty_json = tmp_path / 'empty.json'
    empty_json.write_text('[]')
    with pytest.raises(ValueError, match='no detections'):
        load_detections_json(str(empty_json), gt)
    unknown_json = tmp_path / 'unknown.json'
    unknown_json.write_text(json.dumps([dict(image_id=-1, bbox=[1, 1, 10, 10], score=0.5, category_id=1)]))
    with pytest.raises(ValueError, match='json image id -1'):
        load_detections_json(str(unknown_json), gt)
    no_score = tmp_path / 'no_score.json'
    no_score.write_text(json.dumps([dict(image_id=0, bbox=[1, 1, 10, 10], category_id=1)]))
    with pytest.raises(ValueError, match=r"missing key\(s\) \['score'\]"):
        load_detections_json(str(no_score), gt)
    with pytest.raises(ValueError, match='unsupported detection file type'):
        load_detections(str(tmp_path / 'result.csv'), gt)


def test_exports_round_trip(gt, tmp_path):
    dets = load_detections(str(RESULTS['MLPD']), gt)
    order = np.random.default_rng(1).permutation(len(dets))
    shuffled = KAISTDetections(dets.image_index[order], dets.boxes[order], dets.scores[order])
    txt_path = tmp_path / 'export.txt'
    write_reference_txt(str(txt_path), gt, shuffled)
    # The published file is in evaluator order, sorted by score, with 4 / 8 decimals: we write it back verbatim.
    assert txt_path.read_text().splitlines() == RESULTS['MLPD'].read_text().splitlines()
    paths = write_matlab_txt(str(tmp_path / 'matlab'), gt, shuffled)
    assert len(paths) == gt.num_images and os.path.basename(paths[0]) == 'set06_V000_I00019.txt'
    assert Path(paths[0]).read_text().splitlines()[0] == 'person 503.0512 213.2522 521.1048 255.3933 0.12698865'
    num_lines = sum(len(Path(path).read_text().splitlines()) for path in paths)
    assert num_lines == len(dets)


def _data_samples(gt, dets, positions, prefix='data/kaist/visible'):
    samples = []
    for position in positions:
        mine = dets.image_index == position
        x1y1 = dets.boxes[mine, :2]
        samples.append(
            dict(img_path=f'{prefix}/{gt.frame_keys[position]}.jpg', img_id=int(gt.image_ids[position]),
                 pred_instances=dict(
                     bboxes=torch.from_numpy(np.concatenate([x1y1, x1y1 + dets.boxes[mine, 2:]], axis=1)),
                     scores=torch.from_numpy(dets.scores[mine]),
                     labels=torch.zeros(int(mine.sum()), dtype=torch.long))))
    return samples


def test_metric_few_frames(gt):
    dets = load_detections(str(RESULTS['MBNet']), gt)
    positions = [0, 1, 2, 700, 1500, 2000]
    metric = KAISTMissRateMetric(str(ANN), setups=['reasonable', 'far'])
    samples = _data_samples(gt, dets, positions)
    metric.process({}, samples[:3])
    metric.process({}, samples[3:])
    metrics = metric.evaluate(len(samples))
    assert set(metrics) == {f'kaist/MR_{key}_{subset}' for key in ('reasonable', 'far') for subset in SUBSETS} | {
        'kaist/recall_all'}
    subset = np.isin(dets.image_index, positions)
    frames = np.isin(np.arange(gt.num_images), positions)  # the metric evaluates the processed frames only
    expected = evaluate_kaist(gt, KAISTDetections(dets.image_index[subset], dets.boxes[subset], dets.scores[subset]),
                              setups=['reasonable', 'far'], frames=frames)
    for key in ('reasonable', 'far'):
        for subset_name in SUBSETS:
            value, reference = metrics[f'kaist/MR_{key}_{subset_name}'], expected.miss_rates[key][subset_name]
            assert (math.isnan(value) and math.isnan(reference)) or value == pytest.approx(reference, abs=1e-4)
    assert metrics['kaist/recall_all'] == pytest.approx(expected.recalls['reasonable']['all'], abs=1e-4)


def test_metric_full_set_and_export(gt, tmp_path):
    dets = load_detections(str(RESULTS['MLPD']), gt)
    metric = KAISTMissRateMetric(str(ANN), outfile_prefix=str(tmp_path / 'mlpd'))
    samples = _data_samples(gt, dets, range(gt.num_images), prefix='/raw/kaist/images')
    for start in range(0, len(samples), 64):
        metric.process({}, samples[start:start + 64])
    metrics = metric.compute_metrics(metric.results)
    assert len(metrics) == 11 * 3 + 1
    published = {f'MR_{key}_{subset}': values[i] for key, values in PUBLISHED['MLPD'].items()
                 for i, subset in enumerate(SUBSETS)}
    assert {key: f'{metrics[key]:.2f}' for key in published} == {key: f'{v:.2f}' for key, v in published.items()}
    assert 0 < metrics['recall_all'] <= 100
    exported = evaluate_kaist(gt, load_detections(str(tmp_path / 'mlpd.txt'), gt))
    assert_published(exported.miss_rates, 'MLPD')
    assert len(list((tmp_path / 'mlpd_matlab').glob('set*_V*_I*.txt'))) == gt.num_images


def test_metric_errors(gt):
    metric = KAISTMissRateMetric(str(ANN), setups='reasonable')
    sample = dict(img_path='data/kaist/visible/set06/V000/I00020.jpg',
                  pred_instances=dict(bboxes=torch.zeros(0, 4), scores=torch.zeros(0), labels=torch.zeros(0)))
    with pytest.raises(ValueError, match=r"frame 'set06/V000/I00020' .* is not in the evaluator ground truth"):
        metric.process({}, [sample])
    with pytest.raises(KeyError, match='pred_instances'):
        metric.process({}, [dict(img_path='data/kaist/visible/set06/V000/I00019.jpg')])
    bad_shape = dict(img_path='set06/V000/I00019.jpg',
                     pred_instances=dict(bboxes=torch.zeros(2, 5), scores=torch.zeros(2), labels=torch.zeros(2)))
    with pytest.raises(ValueError, match='expected \\(N, 4\\)'):
        metric.process({}, [bad_shape])
    empty = dict(img_path='set06/V000/I00019.jpg',
                 pred_instances=dict(bboxes=torch.zeros(0, 4), scores=torch.zeros(0), labels=torch.zeros(0)))
    metric.process({}, [empty, empty])
    with pytest.raises(ValueError, match='more than once'):
        metric.compute_metrics(metric.results)
    # No detection at all: the reference skips every GT-only frame (no positive left), without quirks all are missed.
    assert math.isnan(metric.compute_metrics(metric.results[:1])['MR_reasonable_all'])
    plain_metric = KAISTMissRateMetric(str(ANN), setups='reasonable', faithful_quirks=False)
    plain_metric.process({}, [
        dict(empty, img_path=f'data/kaist/visible/{key}.jpg') for key in gt.frame_keys])
    assert plain_metric.compute_metrics(plain_metric.results)['MR_reasonable_all'] == pytest.approx(100.0)


def test_cli(tmp_path, monkeypatch, capsys):
    out_json = tmp_path / 'out' / 'kaist_mr.json'
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get('PYTHONPATH', '')]))
    completed = subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'analysis_tools' / 'kaist_eval.py'), '--ann', str(ANN), '--results',
         str(RESULTS['MLPD']), str(RESULTS['MBNet']), '--out-json', str(out_json)],
        capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert 'reasonable' in completed.stdout and '7.58' in completed.stdout
    summary = json.loads(out_json.read_text())
    assert set(summary) == {'MLPD_result', 'MBNet_result'}
    for method in ('MLPD', 'MBNet'):
        assert_published(summary[f'{method}_result'], method)
    # Other options in-process (a second interpreter start costs seconds).
    monkeypatch.setattr(sys, 'argv', ['kaist_eval.py', '--ann', str(ANN), '--results', str(RESULTS['MLPD']),
                                      '--setups', 'reasonable_small', '--no-faithful-quirks'])
    runpy.run_path(str(REPO / 'tools' / 'analysis_tools' / 'kaist_eval.py'), run_name='__main__')
    stdout = capsys.readouterr().out
    assert 'faithful_quirks=False' in stdout and 'reasonable_small' in stdout and '11.53' not in stdout
