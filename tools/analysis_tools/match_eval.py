# Copyright (c) mmspecgene contributors. All rights reserved.
"""Evaluate RGB-thermal matching with RGBTMatchingMetric: the classical SIFT + MAGSAC baseline on a config's test
split, and/or the predictions of a checkpoint dumped by ``tools/test.py --out``, side by side.

Examples::

    # SIFT + MAGSAC on the fixed test homographies of the config
    python tools/analysis_tools/match_eval.py configs/match/loftr/loftr_rgbt-vit-tiny_1xb4-3000i_synthetic.py
    # a checkpoint's predictions next to the baseline
    python tools/test.py CONFIG CKPT --out preds.pkl
    python tools/analysis_tools/match_eval.py CONFIG --predictions preds.pkl --out-json metrics.json
"""
import argparse
import json
import pickle

import cv2
import numpy as np
from mmengine.config import Config
from mmengine.registry import DATASETS, init_default_scope
from mmengine.utils import ProgressBar

from mmspecgene.match.metric import RGBTMatchingMetric
from mmspecgene.utils import scope_of_config
from mmspecgene.utils.cfg_options import add_cfg_options_arguments, merge_cfg_options


def sift_matches(rgb_bgr: np.ndarray, thermal_bgr: np.ndarray, ratio: float = 0.8, max_features: int = 4000):
    """SIFT keypoints on both grey images, Lowe's ratio test on 2-NN L2 matches.

    Returns:
        tuple: (N, 2) RGB and (N, 2) thermal pixels (OpenCV: pixel centres at integer coordinates).
    """
    sift = cv2.SIFT_create(nfeatures=max_features)
    kp0, desc0 = sift.detectAndCompute(cv2.cvtColor(rgb_bgr, cv2.COLOR_BGR2GRAY), None)
    kp1, desc1 = sift.detectAndCompute(cv2.cvtColor(thermal_bgr, cv2.COLOR_BGR2GRAY), None)
    if desc0 is None or desc1 is None or len(kp0) < 2 or len(kp1) < 2:
        return np.zeros((0, 2)), np.zeros((0, 2))
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(desc0, desc1, k=2)
    good = [m for m, n in (p for p in pairs if len(p) == 2) if m.distance < ratio * n.distance]
    kpts0 = np.array([kp0[m.queryIdx].pt for m in good], dtype=np.float64).reshape(-1, 2)
    kpts1 = np.array([kp1[m.trainIdx].pt for m in good], dtype=np.float64).reshape(-1, 2)
    return kpts0, kpts1


def evaluate_sift(dataset, metric: RGBTMatchingMetric, ratio: float = 0.8) -> dict:
    """Run SIFT + MAGSAC on every (warped) test pair of ``dataset`` and return the metric dict."""
    progress = ProgressBar(len(dataset))
    for index in range(len(dataset)):
        packed = dataset[index]
        img = packed['inputs'].numpy().transpose(1, 2, 0)  # H×W×6 uint8 [RGB | T], BGR halves
        kpts0, kpts1 = sift_matches(np.ascontiguousarray(img[..., :3]), np.ascontiguousarray(img[..., 3:]), ratio)
        sample = packed['data_samples'].to_dict()
        sample.update(pred_kpts0=kpts0, pred_kpts1=kpts1)
        metric.process(None, [sample])
        progress.update()
    print()
    return metric.compute_metrics(metric.results)


def evaluate_predictions(path: str, metric: RGBTMatchingMetric) -> dict:
    """Evaluate a ``tools/test.py --out`` pickle (a list of data-sample dicts with ``pred_kpts0/1``)."""
    with open(path, 'rb') as f:
        samples = pickle.load(f)
    if not isinstance(samples, list) or not samples:
        raise ValueError(f'{path}: expected a non-empty list of data samples (tools/test.py --out), got '
                         f'{type(samples).__name__}')
    metric.process(None, samples)
    return metric.compute_metrics(metric.results)


def format_table(rows: dict) -> str:
    keys = list(next(iter(rows.values())))
    lines = [f'{"method":<16}' + ''.join(f'{k:>15}' for k in keys)]
    for name, metrics in rows.items():
        lines.append(f'{name:<16}' + ''.join(f'{metrics[k]:>15.2f}' for k in keys))
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='RGB-thermal matching evaluation (RGBTMatchingMetric)')
    parser.add_argument('config', help='matching config: its test_dataloader.dataset is evaluated')
    parser.add_argument('--predictions', help='pickle of tools/test.py --out with a checkpoint\'s matches')
    parser.add_argument('--no-sift', action='store_true', help='skip the SIFT + MAGSAC baseline')
    parser.add_argument('--ratio', type=float, default=0.8, help='Lowe ratio of the SIFT matches')
    parser.add_argument('--ransac-thr', type=float, default=None,
                        help='MAGSAC threshold in pixels (default: the config\'s test_evaluator value)')
    parser.add_argument('--out-json', help='write {method: metrics} to this json file')
    add_cfg_options_arguments(parser)
    args = parser.parse_args(argv)
    if args.no_sift and not args.predictions:
        parser.error('nothing to evaluate: give --predictions or drop --no-sift')
    return args


def main(argv=None):
    args = parse_args(argv)
    cfg = merge_cfg_options(Config.fromfile(args.config), args)
    init_default_scope(scope_of_config(cfg))
    evaluator = cfg.test_evaluator if isinstance(cfg.test_evaluator, dict) else cfg.test_evaluator[0]
    thr = args.ransac_thr if args.ransac_thr is not None else evaluator.get('ransac_thr', 3.0)
    rows = {}
    if not args.no_sift:
        dataset = DATASETS.build(cfg.test_dataloader.dataset)
        rows['sift+magsac'] = evaluate_sift(dataset, RGBTMatchingMetric(ransac_thr=thr), args.ratio)
    if args.predictions:
        rows['predictions'] = evaluate_predictions(args.predictions, RGBTMatchingMetric(ransac_thr=thr))
    print(format_table(rows))
    if args.out_json:
        with open(args.out_json, 'w') as f:
            json.dump(rows, f, indent=2)
    return rows


if __name__ == '__main__':
    main()
