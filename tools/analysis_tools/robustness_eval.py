# Copyright (c) mmspecgene contributors. All rights reserved.
"""Evaluate one checkpoint with both modalities, without RGB and without thermal, and print one table.

Each condition is one ``tools/test.py`` run (``--missing-modality rgb|thermal --missing-fill FILL``), so loading,
evaluation and metrics are exactly those of the test tool. Works for any det / seg / SOD config.

Example::

    python tools/analysis_tools/robustness_eval.py \
        configs/det/vitdet/vitdet_mask-rcnn_rgbt-vit-tiny_1xb4-400i_synthetic.py work_dirs/det/iter_400.pth \
        --fill mean --out-json work_dirs/det/robustness.json
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
from typing import Dict, Optional, Sequence

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONDITIONS = ('none', 'rgb', 'thermal')
CONDITION_NAMES = dict(none='RGB + thermal', rgb='RGB missing', thermal='thermal missing')
# The headline metric of each task, first match wins (any other key can be chosen with --metric); KAIST's
# miss rate comes before a COCO mAP that a KAIST config may also compute.
TASK_METRICS = ('kaist/MR_reasonable_all', 'coco/bbox_mAP', 'mIoU', 'S', 'sod/S')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Metrics under none / RGB missing / thermal missing')
    parser.add_argument('config', help='det / seg / SOD test config')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--fill', choices=('mean', 'copy', 'noise'), default='mean',
                        help='what replaces the missing modality (default: mean = zeros after normalisation)')
    parser.add_argument('--conditions', nargs='+', choices=CONDITIONS, default=list(CONDITIONS),
                        help='conditions to evaluate (default: all three)')
    parser.add_argument('--metric', help='headline metric key (default: the task metric of the config)')
    parser.add_argument('--work-dir', default=None, help='logs and per-condition metrics (default: work_dirs/...)')
    parser.add_argument('--out-json', help='write {condition: {metric: value}} plus the headline metric here')
    parser.add_argument('--cfg-options', nargs='+', default=[], help='passed on to tools/test.py')
    return parser.parse_args(argv)


def headline_metric(metrics: Dict[str, float], requested: Optional[str] = None) -> str:
    """The key reported in the table: ``requested``, else the first task metric present, else the first key."""
    if requested:
        if requested not in metrics:
            raise KeyError(f'metric {requested!r} not among the returned metrics {sorted(metrics)}')
        return requested
    for key in TASK_METRICS:
        if key in metrics:
            return key
    for key in metrics:
        if key.endswith('/S'):  # SOD metrics are prefixed by their dataset name
            return key
    return next(iter(metrics))


def run_condition(args, condition: str, work_dir: str) -> Dict[str, float]:
    """One tools/test.py run; returns its metrics json."""
    out_json = osp.join(work_dir, f'metrics_{condition}.json')
    command = [sys.executable, osp.join(REPO, 'tools', 'test.py'), args.config, args.checkpoint, '--work-dir',
               osp.join(work_dir, condition), '--metrics-json', out_json]
    if condition != 'none':
        command += ['--missing-modality', condition, '--missing-fill', args.fill]
    if args.cfg_options:
        command += ['--cfg-options'] + list(args.cfg_options)
    print(f'=== {CONDITION_NAMES[condition]}: {" ".join(command)}', flush=True)
    proc = subprocess.run(command)
    if proc.returncode:
        raise SystemExit(f'tools/test.py failed for condition {condition!r} (exit code {proc.returncode})')
    with open(out_json) as f:
        return json.load(f)


def format_table(results: Dict[str, Dict[str, float]], key: str, fill: str) -> str:
    """One row per condition: the headline metric and its change against both modalities."""
    base = results.get('none', {}).get(key)
    rows = [f'{"condition":<17}{key:>16}{"change":>10}', '-' * 43]
    for condition, metrics in results.items():
        value = metrics[key]
        change = '' if base is None or condition == 'none' else f'{value - base:+.3f}'
        rows.append(f'{CONDITION_NAMES[condition]:<17}{value:>16.3f}{change:>10}')
    rows.append(f'(missing modality filled by {fill!r})')
    return '\n'.join(rows)


def evaluate(args) -> dict:
    work_dir = args.work_dir or osp.join(
        'work_dirs', 'robustness', osp.splitext(osp.basename(args.config))[0])
    os.makedirs(work_dir, exist_ok=True)
    results = {condition: run_condition(args, condition, work_dir) for condition in args.conditions}
    key = headline_metric(results[args.conditions[0]], args.metric)
    print()
    print(format_table(results, key, args.fill))
    summary = dict(metric=key, fill=args.fill, config=args.config, checkpoint=args.checkpoint, results=results)
    if args.out_json:
        out_dir = osp.dirname(osp.abspath(args.out_json))
        os.makedirs(out_dir, exist_ok=True)
        with open(args.out_json, 'w') as f:
            json.dump(summary, f, indent=2)
        print(f'written to {args.out_json}')
    return summary


def main(argv: Optional[Sequence[str]] = None) -> dict:
    return evaluate(parse_args(argv))


if __name__ == '__main__':
    main()
