# Copyright (c) mmspecgene contributors. All rights reserved.
"""SOD evaluation (docs/en/method.md#segmentation-and-sod): evaluator, CLI and SODMetric versus PySODMetrics."""
import json
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

py_sod_metrics = pytest.importorskip('py_sod_metrics')

from mmspecgene.evaluation.sod import (SOD_METRIC_KEYS, SODEvaluator,  # noqa
                                       load_gt, load_pred, normalize_gt,
                                       pair_files)
from mmspecgene.evaluation.sod_metric import SODMetric  # noqa: E402
from mmspecgene.testing.scripts import load_script  # noqa: E402

CLI_PATH = (Path(__file__).resolve().parents[2] / 'tools' / 'analysis_tools' /
            'sod_eval.py')
TOL = 1e-6


# --------------------------------------------------------------- references
def pysod_reference(preds, gts, wf_beta=None):
    """PySODMetrics' own accumulators over uint8 maps (GT on 0/255)."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        f_measure = py_sod_metrics.Fmeasure()
    s_measure = py_sod_metrics.Smeasure()
    mae = py_sod_metrics.MAE()
    e_measure = py_sod_metrics.Emeasure()
    weighted_f = (
        py_sod_metrics.WeightedFmeasure() if wf_beta is None else
        py_sod_metrics.WeightedFmeasure(beta=wf_beta))
    for pred, gt in zip(preds, gts):
        for metric in (f_measure, s_measure, mae, e_measure, weighted_f):
            metric.step(pred=pred, gt=gt)
    fm = f_measure.get_results()['fm']
    em = e_measure.get_results()['em']
    return dict(
        S=s_measure.get_results()['sm'],
        MAE=mae.get_results()['mae'],
        maxF=fm['curve'].max(),
        meanF=fm['curve'].mean(),
        adpF=fm['adp'],
        maxE=em['curve'].max(),
        meanE=em['curve'].mean(),
        adpE=em['adp'],
        wF=weighted_f.get_results()['wfm'])


def assert_matches(results, reference):
    assert set(results) == set(SOD_METRIC_KEYS)
    for key in SOD_METRIC_KEYS:
        assert isinstance(results[key], float), key
        assert abs(results[key] - float(reference[key])) <= TOL, (
            key, results[key], reference[key])


# --------------------------------------------------------------- data
def random_maps(rng, count=4, shape=(36, 44)):
    preds = [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(count)]
    gts = [(rng.random(shape) > 0.6).astype(np.uint8) * 255
           for _ in range(count)]
    return preds, gts


def structured_maps(rng, shape=(48, 64)):
    """Rectangles and Gaussian blobs, incl. all-background/foreground GT."""
    height, width = shape
    ys, xs = np.mgrid[0:height, 0:width]
    preds, gts = [], []
    # rectangle GT, blurred and shifted rectangle prediction
    gt = np.zeros(shape, np.uint8)
    gt[10:30, 15:45] = 255
    pred = np.zeros(shape, np.float64)
    pred[12:33, 18:50] = 1.0
    pred = cv2.GaussianBlur(pred, (7, 7), 2)
    preds.append(np.round(pred * 255).astype(np.uint8))
    gts.append(gt)
    # two Gaussian blobs, one of them in the GT
    blob_a = np.exp(-((ys - 15)**2 + (xs - 20)**2) / (2 * 6.0**2))
    blob_b = np.exp(-((ys - 35)**2 + (xs - 50)**2) / (2 * 4.0**2))
    preds.append(np.round((0.9 * blob_a + 0.6 * blob_b) * 255).astype(
        np.uint8))
    gts.append(((blob_a > 0.4) * 255).astype(np.uint8))
    # all-background GT with a weak false positive
    pred = np.zeros(shape, np.uint8)
    pred[5:15, 5:15] = 80
    preds.append(pred)
    gts.append(np.zeros(shape, np.uint8))
    # all-foreground GT with a noisy prediction
    preds.append(rng.integers(100, 256, shape, dtype=np.uint8))
    gts.append(np.full(shape, 255, np.uint8))
    # perfect hard prediction on a small square
    gt = np.zeros(shape, np.uint8)
    gt[20:28, 30:38] = 255
    preds.append(gt.copy())
    gts.append(gt)
    # constant prediction on a non-trivial GT
    preds.append(np.full(shape, 128, np.uint8))
    gts.append(gts[0])
    return preds, gts


def write_maps(folder, maps, names, suffix='.png'):
    folder.mkdir(parents=True, exist_ok=True)
    for name, image in zip(names, maps):
        assert cv2.imwrite(str(folder / f'{name}{suffix}'), image)


def load_cli():
    return load_script(CLI_PATH, 'sod_eval_cli')


# --------------------------------------------------------------- core
@pytest.mark.parametrize('wf_beta2', [None, 0.3])
def test_evaluator_matches_pysodmetrics_random(wf_beta2):
    preds, gts = random_maps(np.random.default_rng(0))
    evaluator = SODEvaluator(wf_beta2=wf_beta2)
    for pred, gt in zip(preds, gts):
        evaluator.step(pred, gt)
    assert len(evaluator) == len(preds)
    assert_matches(evaluator.get_results(),
                   pysod_reference(preds, gts, wf_beta=wf_beta2))


def test_evaluator_matches_pysodmetrics_on_anti_aliased_gt():
    """A bilinearly resized 0/255 mask has edge pixels of exactly 128; both sides call them background."""
    gt = np.zeros((64, 64), np.uint8)
    gt[:, 32:] = 255
    gt = cv2.resize(gt, (127, 64), interpolation=cv2.INTER_LINEAR)
    assert (gt == 128).any()
    pred = np.zeros_like(gt)
    pred[:, 60:66] = 200
    evaluator = SODEvaluator()
    evaluator.step(pred, gt)
    assert_matches(evaluator.get_results(), pysod_reference([pred], [gt]))


def test_evaluator_matches_pysodmetrics_structured():
    preds, gts = structured_maps(np.random.default_rng(1))
    evaluator = SODEvaluator()
    for pred, gt in zip(preds, gts):
        evaluator.step(pred, gt)
    results = evaluator.get_results()
    assert_matches(results, pysod_reference(preds, gts))
    # β² = 0.3 must change wF on these maps (the option is not a no-op)
    evaluator_released = SODEvaluator(wf_beta2=0.3)
    for pred, gt in zip(preds, gts):
        evaluator_released.step(pred, gt)
    assert abs(evaluator_released.get_results()['wF'] - results['wF']) > 1e-4


def test_gt_scale_detection_and_idempotence(tmp_path):
    rng = np.random.default_rng(2)
    labels = (rng.random((20, 30)) > 0.5).astype(np.uint8)
    gt_255 = normalize_gt(labels)
    assert gt_255.dtype == np.uint8 and set(np.unique(gt_255)) == {0, 255}
    np.testing.assert_array_equal(gt_255, labels * 255)
    np.testing.assert_array_equal(normalize_gt(gt_255), gt_255)
    np.testing.assert_array_equal(normalize_gt(labels.astype(bool)), gt_255)
    # anti-aliased 0/255 GT: G = GT > 128, PySODMetrics' threshold
    soft_gt = np.array([[0, 127, 128, 129, 255]], np.uint8)
    np.testing.assert_array_equal(normalize_gt(soft_gt), [[0, 0, 0, 255, 255]])
    with pytest.raises(ValueError, match=r'max value is 128'):
        normalize_gt(np.array([[0, 128]], np.uint8))
    # all-zero GT is valid on either scale
    np.testing.assert_array_equal(
        normalize_gt(np.zeros((3, 3), np.uint8)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match='scale'):
        normalize_gt(np.array([[0, 1, 2]], np.uint8), name='labels.png')
    with pytest.raises(ValueError, match='2-D'):
        normalize_gt(np.zeros((2, 3, 3), np.uint8))

    cv2.imwrite(str(tmp_path / 'a01.png'), labels)
    cv2.imwrite(str(tmp_path / 'a255.png'), labels * 255)
    np.testing.assert_array_equal(load_gt(str(tmp_path / 'a01.png')), gt_255)
    np.testing.assert_array_equal(load_gt(str(tmp_path / 'a255.png')), gt_255)
    grey = load_pred(str(tmp_path / 'a255.png'))
    assert grey.dtype == np.uint8 and grey.shape == (20, 30)
    with pytest.raises(FileNotFoundError, match='missing.png'):
        load_gt(str(tmp_path / 'missing.png'))


def test_palette_gt_is_read_by_index(tmp_path):
    """A 0/1 palette PNG (index 1 drawn dark red) is read by index, as mmseg reads labels, not by colour."""
    from PIL import Image
    labels = np.zeros((20, 30), np.uint8)
    labels[5:15, 10:20] = 1
    image = Image.fromarray(labels, mode='P')
    image.putpalette([0, 0, 0, 128, 0, 0] + [0] * 762)
    image.save(tmp_path / 'gt.png')
    np.testing.assert_array_equal(load_gt(str(tmp_path / 'gt.png')), labels * 255)


def test_gt_01_and_0255_give_same_results():
    preds, gts = structured_maps(np.random.default_rng(3))
    results = []
    for scale in (1, 255):
        evaluator = SODEvaluator()
        for pred, gt in zip(preds, gts):
            evaluator.step(pred, (gt > 0).astype(np.uint8) * scale)
        results.append(evaluator.get_results())
    assert results[0] == results[1]
    assert_matches(results[0], pysod_reference(preds, gts))


def test_size_mismatched_prediction_is_resized():
    preds, gts = random_maps(np.random.default_rng(4), count=3)
    small_preds = [cv2.resize(p, (22, 18), interpolation=cv2.INTER_AREA)
                   for p in preds]
    resized = [cv2.resize(p, (g.shape[1], g.shape[0]),
                          interpolation=cv2.INTER_LINEAR)
               for p, g in zip(small_preds, gts)]
    evaluator = SODEvaluator()
    for pred, gt in zip(small_preds, gts):
        evaluator.step(pred, gt)
    assert_matches(evaluator.get_results(), pysod_reference(resized, gts))


def test_pair_files(tmp_path):
    maps = [np.zeros((4, 4), np.uint8)] * 3
    write_maps(tmp_path / 'pred', maps, ['a', 'b', 'c'])
    write_maps(tmp_path / 'gt', maps[:2], ['a', 'd'])
    (tmp_path / 'pred' / 'notes.txt').write_text('not an image')
    pairs, unpaired_pred, unpaired_gt = pair_files(
        str(tmp_path / 'pred'), str(tmp_path / 'gt'))
    assert [(Path(p).name, Path(g).name) for p, g in pairs] == [('a.png',
                                                                 'a.png')]
    assert [Path(p).name for p in unpaired_pred] == ['b.png', 'c.png']
    assert [Path(p).name for p in unpaired_gt] == ['d.png']
    # prediction stored as .jpg pairs with a .png GT of the same stem
    write_maps(tmp_path / 'pred_jpg', maps[:1], ['a'], suffix='.jpg')
    pairs, _, _ = pair_files(str(tmp_path / 'pred_jpg'), str(tmp_path / 'gt'))
    assert len(pairs) == 1
    write_maps(tmp_path / 'pred_jpg', maps[:1], ['a'], suffix='.png')
    with pytest.raises(ValueError, match="stem 'a'"):
        pair_files(str(tmp_path / 'pred_jpg'), str(tmp_path / 'gt'))


# --------------------------------------------------------------- CLI
def test_cli_matches_pysodmetrics(tmp_path, capsys):
    rng = np.random.default_rng(5)
    preds, gts = structured_maps(rng)
    random_preds, random_gts = random_maps(rng, count=2, shape=(48, 64))
    preds, gts = preds + random_preds, gts + random_gts
    names = [f'img_{i:03d}' for i in range(len(preds))]
    write_maps(tmp_path / 'pred', preds, names)
    write_maps(tmp_path / 'gt255', gts, names)
    write_maps(tmp_path / 'gt01', [g // 255 for g in gts], names)
    reference = pysod_reference(preds, gts)
    cli = load_cli()
    outputs = []
    for gt_dir in ('gt255', 'gt01'):
        out_json = tmp_path / f'{gt_dir}.json'
        cli.main([
            '--pred', str(tmp_path / 'pred'), '--gt',
            str(tmp_path / gt_dir), '--out-json',
            str(out_json)
        ])
        results = json.loads(out_json.read_text())
        assert list(results) == list(SOD_METRIC_KEYS)
        assert_matches(results, reference)
        outputs.append(results)
    assert outputs[0] == outputs[1]
    assert 'maxF' in capsys.readouterr().out

    # released-compatible weighted F
    cli.main([
        '--pred', str(tmp_path / 'pred'), '--gt',
        str(tmp_path / 'gt255'), '--out-json',
        str(tmp_path / 'released.json'), '--weighted-beta2', '0.3'
    ])
    released = json.loads((tmp_path / 'released.json').read_text())
    assert_matches(released, pysod_reference(preds, gts, wf_beta=0.3))


def test_cli_reports_unpaired_files(tmp_path, capsys):
    rng = np.random.default_rng(6)
    preds, gts = random_maps(rng, count=3, shape=(16, 16))
    write_maps(tmp_path / 'pred', preds, ['x1', 'x2', 'only_pred'])
    write_maps(tmp_path / 'gt', gts, ['x1', 'x2', 'only_gt'])
    args = ['--pred', str(tmp_path / 'pred'), '--gt', str(tmp_path / 'gt')]
    cli = load_cli()
    with pytest.raises(SystemExit) as exit_info:
        cli.main(args + ['--out-json', str(tmp_path / 'never.json')])
    assert exit_info.value.code not in (0, None)
    stderr = capsys.readouterr().err
    assert 'only_pred.png' in stderr and 'only_gt.png' in stderr
    assert not (tmp_path / 'never.json').exists()

    results = cli.main(args + ['--allow-unpaired'])
    assert_matches(results, pysod_reference(preds[:2], gts[:2]))
    stderr = capsys.readouterr().err
    assert 'only_pred.png' in stderr and 'only_gt.png' in stderr


# --------------------------------------------------------------- SODMetric
def logits_for(saliency_u8, rng):
    """2×H×W logits whose soft map rounds to ``saliency_u8`` exactly."""
    prob = (saliency_u8.astype(np.float64) + rng.uniform(-0.3, 0.3,
                                                         saliency_u8.shape))
    prob = np.clip(prob, 0.2, 254.8) / 255
    offset = rng.normal(0, 2, saliency_u8.shape)  # softmax is shift-invariant
    logits = np.stack([np.log1p(-prob) + offset, np.log(prob) + offset])
    return torch.from_numpy(logits.astype(np.float32))


def make_sample(logits, gt_labels=None, seg_map_path=None, name='x.jpg'):
    sample = dict(
        img_path=name,
        seg_logits=dict(data=logits),
        pred_sem_seg=dict(data=logits.argmax(dim=0, keepdim=True)))
    if gt_labels is not None:
        sample['gt_sem_seg'] = dict(
            data=torch.from_numpy(gt_labels.astype(np.int64))[None])
    if seg_map_path is not None:
        sample['seg_map_path'] = seg_map_path
    return sample


@pytest.mark.parametrize('pred_mode', ['soft', 'hard'])
def test_sod_metric_matches_pysodmetrics(pred_mode):
    rng = np.random.default_rng(7)
    preds, gts = structured_maps(rng)
    samples = [
        make_sample(logits_for(p, rng), gt_labels=g // 255, name=f'{i}.jpg')
        for i, (p, g) in enumerate(zip(preds, gts))
    ]
    if pred_mode == 'soft':
        expected_preds = preds
    else:
        expected_preds = [
            (s['seg_logits']['data'].argmax(0).numpy() * 255).astype(np.uint8)
            for s in samples
        ]
        assert any(not np.array_equal(e, p)
                   for e, p in zip(expected_preds, preds))
    metric = SODMetric(pred_mode=pred_mode, dataset_name='VT821')
    metric.process({}, samples[:3])
    metric.process({}, samples[3:])
    results = metric.compute_metrics(metric.results)
    reference = pysod_reference(expected_preds, gts)
    assert set(results) == {f'VT821/{key}' for key in SOD_METRIC_KEYS}
    assert_matches({k.split('/')[1]: v
                    for k, v in results.items()}, reference)

    # BaseMetric.evaluate adds the default 'sod/' prefix
    evaluated = metric.evaluate(size=len(samples))
    assert set(evaluated) == {f'sod/VT821/{key}' for key in SOD_METRIC_KEYS}
    assert evaluated['sod/VT821/S'] == pytest.approx(results['VT821/S'])


def test_sod_metric_soft_differs_from_hard():
    rng = np.random.default_rng(8)
    preds, gts = structured_maps(rng)
    samples = [make_sample(logits_for(p, rng), g // 255)
               for p, g in zip(preds, gts)]
    results = {}
    for mode in ('soft', 'hard'):
        metric = SODMetric(pred_mode=mode)
        metric.process({}, samples)
        results[mode] = metric.compute_metrics(metric.results)
    assert set(results['soft']) == set(SOD_METRIC_KEYS)
    assert abs(results['soft']['MAE'] - results['hard']['MAE']) > 1e-4


def test_sod_metric_hard_without_pred_sem_seg_and_gt_from_file(tmp_path):
    rng = np.random.default_rng(9)
    preds, gts = structured_maps(rng)
    samples_tensor, samples_file = [], []
    for index, (pred, gt) in enumerate(zip(preds, gts)):
        logits = logits_for(pred, rng)
        samples_tensor.append(make_sample(logits, gt // 255))
        gt_path = tmp_path / f'{index}.png'
        cv2.imwrite(str(gt_path), gt)  # 0/255 file
        sample = make_sample(logits, seg_map_path=str(gt_path))
        del sample['pred_sem_seg']
        samples_file.append(sample)
    results = []
    for samples in (samples_tensor, samples_file):
        metric = SODMetric(pred_mode='hard')
        metric.process({}, samples)
        results.append(metric.compute_metrics(metric.results))
    assert results[0] == results[1]


def test_sod_metric_resizes_prediction():
    rng = np.random.default_rng(10)
    preds, gts = random_maps(rng, count=2, shape=(30, 40))
    small = [rng.integers(0, 256, (15, 20), dtype=np.uint8) for _ in gts]
    samples = [make_sample(logits_for(p, rng), g // 255)
               for p, g in zip(small, gts)]
    metric = SODMetric(pred_mode='soft')
    metric.process({}, samples)
    resized = [cv2.resize(p, (40, 30), interpolation=cv2.INTER_LINEAR)
               for p in small]
    assert_matches(
        metric.compute_metrics(metric.results), pysod_reference(resized, gts))


def test_sod_metric_rejects_bad_input():
    rng = np.random.default_rng(11)
    logits = logits_for(rng.integers(0, 256, (8, 8), dtype=np.uint8), rng)
    gt = np.zeros((8, 8), np.int64)
    gt[0, 0] = 255
    metric = SODMetric()
    with pytest.raises(ValueError, match='ignore'):
        metric.process({}, [make_sample(logits, gt, name='bad.jpg')])
    gt[0, 0] = 2
    with pytest.raises(ValueError, match='0/1'):
        metric.process({}, [make_sample(logits, gt)])
    with pytest.raises(KeyError, match='seg_map_path'):
        metric.process({}, [make_sample(logits)])
    with pytest.raises(ValueError, match='2×H×W'):
        metric.process({}, [make_sample(logits[:1], np.zeros((8, 8)))])
    with pytest.raises(ValueError, match='pred_mode'):
        SODMetric(pred_mode='binary')
    with pytest.raises(ValueError, match='No images'):
        metric.compute_metrics([])


def test_metric_auto_groups_by_set():
    """dataset_name='auto' reports each test set of a ConcatDataset under its own key."""
    import torch

    from mmspecgene.evaluation import SODMetric
    rng = np.random.default_rng(5)
    metric = SODMetric(pred_mode='hard', dataset_name='auto')
    samples = []
    for set_name in ('vt1000', 'vt821', 'vt1000'):
        gt = torch.from_numpy((rng.random((1, 12, 14)) > 0.5).astype(np.int64))
        samples.append(dict(img_path=f'/data/sod/{set_name}/visible/test/x.jpg', gt_sem_seg=dict(data=gt),
                            pred_sem_seg=dict(data=gt.clone())))
    metric.process(None, samples)
    out = metric.compute_metrics(metric.results)
    assert {'vt1000/S', 'vt821/S', 'vt1000/MAE'} <= set(out)
    assert out['vt1000/MAE'] == 0 and out['vt821/S'] == pytest.approx(1.0)
    bad = SODMetric(dataset_name='auto')
    with pytest.raises(ValueError, match='auto'):
        bad.process(None, [dict(img_path='x.jpg', gt_sem_seg=dict(data=samples[0]['gt_sem_seg']['data']),
                                seg_logits=dict(data=torch.zeros(2, 12, 14)))])
