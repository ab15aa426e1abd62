# Copyright (c) mmspecgene contributors. All rights reserved.
"""Training curves and training time from mmengine json logs (``work_dir/<timestamp>/vis_data/<timestamp>.json``).

In the spirit of mmdet's ``tools/analysis_tools/analyze_logs.py``::

    # loss and learning rate of one run, or one key of several runs overlaid
    python tools/analysis_tools/analyze_logs.py plot_curve LOG.json --keys loss lr --out curves.png
    python tools/analysis_tools/analyze_logs.py plot_curve A.json B.json --keys mIoU --legend base dropout \
        --out miou.png
    # average time per iteration (and per epoch for epoch-based runs)
    python tools/analysis_tools/analyze_logs.py cal_train_time LOG.json

Any logged key can be plotted: training scalars (``loss``, ``loss_*``, ``lr``, ``time``, ...) against the
iteration, validation metrics (``coco/bbox_mAP``, ``mIoU``, ...) at the iteration they were computed (for
epoch-based runs: the last logged iteration of their epoch).
"""
import argparse
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np

FIGURE_SIZE = (8.0, 5.0)
DPI = 100


def load_json_log(path: str) -> Dict[str, List[dict]]:
    """Split an mmengine json log into ``train`` rows (with ``iter``/``epoch``) and ``val`` rows (the others)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'json log not found: {path}')
    log = dict(train=[], val=[])
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}:{number}: not a json line ({err}); expected an mmengine json log') from None
            if 'step' not in row:
                raise ValueError(f'{path}:{number}: no "step" key; expected an mmengine json log, got {sorted(row)}')
            log['train' if ('iter' in row or 'epoch' in row) else 'val'].append(row)
    if not log['train'] and not log['val']:
        raise ValueError(f'{path}: empty json log')
    return log


def key_series(log: Dict[str, List[dict]], key: str, path: str = 'log'):
    """(x, y) arrays of ``key``: training rows against their iteration, validation rows against theirs."""
    train_rows = [row for row in log['train'] if key in row]
    if train_rows:
        return (np.array([row['step'] for row in train_rows], np.float64),
                np.array([row[key] for row in train_rows], np.float64))
    val_rows = [row for row in log['val'] if key in row]
    if not val_rows:
        available = sorted({k for rows in log.values() for row in rows for k in row} - {'step', 'iter', 'epoch'})
        raise KeyError(f'{path}: key {key!r} is not logged; available keys: {available}')
    by_epoch = any('epoch' in row for row in log['train'])
    if by_epoch:  # validation "step" is the epoch: place it at that epoch's last logged iteration
        epoch_end = {}
        for row in log['train']:
            epoch_end[row['epoch']] = max(epoch_end.get(row['epoch'], 0), row['step'])
        xs = [epoch_end.get(row['step'], np.nan) for row in val_rows]
    else:
        xs = [row['step'] for row in val_rows]
    return np.array(xs, np.float64), np.array([row[key] for row in val_rows], np.float64)


def plot_curve(log_files: Sequence[str], keys: Sequence[str], out: str, legend: Optional[Sequence[str]] = None,
               title: Optional[str] = None) -> Dict[str, dict]:
    """Draw every key of every log on one axes and save ``out``; returns label -> dict(x, y) as drawn."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    logs = [load_json_log(path) for path in log_files]
    if legend is None:
        stems = [osp.splitext(osp.basename(path))[0] for path in log_files]
        legend = [f'{stem}_{key}' if len(log_files) > 1 else key for stem in stems for key in keys]
    if len(legend) != len(log_files) * len(keys):
        raise ValueError(f'--legend needs {len(log_files) * len(keys)} names (logs x keys), got {len(legend)}')
    fig, ax = plt.subplots(figsize=FIGURE_SIZE)
    drawn = {}
    for i, (path, log) in enumerate(zip(log_files, logs)):
        for j, key in enumerate(keys):
            xs, ys = key_series(log, key, path)
            label = legend[i * len(keys) + j]
            marker = 'o' if len(xs) < 20 else None
            (line, ) = ax.plot(xs, ys, label=label, marker=marker, linewidth=1.2)
            drawn[label] = dict(x=np.asarray(line.get_xdata(), np.float64), y=np.asarray(line.get_ydata(), np.float64))
            print(f'plot curve of {path}, key: {key} ({len(xs)} points)')
    ax.set_xlabel('iteration')
    ax.set_ylabel(keys[0] if len(keys) == 1 else 'value')
    ax.grid(True, linestyle=':', linewidth=0.6)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    if osp.dirname(out):
        os.makedirs(osp.dirname(out), exist_ok=True)
    fig.savefig(out, dpi=DPI)
    plt.close(fig)
    print(f'save curve to: {out}')
    return drawn


def cal_train_time(log_files: Sequence[str], include_outliers: bool = False) -> Dict[str, dict]:
    """Average logged time per iteration (s/iter) of each log; per epoch too for epoch-based runs.

    The first logged training row of each run (or epoch) is left out unless ``include_outliers`` (it holds the
    start-up: data loader workers, first allocations).
    """
    stats = {}
    for path in log_files:
        rows = [row for row in load_json_log(path)['train'] if 'time' in row]
        if not rows:
            raise ValueError(f'{path}: no training row with a "time" key')
        groups: Dict[int, List[float]] = {}
        for row in rows:
            groups.setdefault(row.get('epoch', 0), []).append(row['time'])
        if not include_outliers:
            groups = {epoch: times[1:] if len(times) > 1 else times for epoch, times in groups.items()}
        all_times = np.concatenate([np.asarray(times, np.float64) for times in groups.values()])
        per_epoch = {epoch: float(np.mean(times)) for epoch, times in groups.items()}
        result = dict(avg_iter_time=float(all_times.mean()), std_iter_time=float(all_times.std()),
                      num_rows=int(all_times.size))
        print(f'{"-" * 5}Analyze train time of {path}{"-" * 5}')
        if len(per_epoch) > 1 or 0 not in per_epoch:
            slowest = max(per_epoch, key=per_epoch.get)
            fastest = min(per_epoch, key=per_epoch.get)
            result.update(slowest_epoch=slowest, fastest_epoch=fastest,
                          std_over_epochs=float(np.std(list(per_epoch.values()))))
            print(f'slowest epoch {slowest}, average time is {per_epoch[slowest]:.4f} s/iter')
            print(f'fastest epoch {fastest}, average time is {per_epoch[fastest]:.4f} s/iter')
            print(f'time std over epochs is {result["std_over_epochs"]:.4f}')
        print(f'average iter time: {result["avg_iter_time"]:.4f} s/iter (std {result["std_iter_time"]:.4f}, '
              f'{result["num_rows"]} logged rows)\n')
        stats[path] = result
    return stats


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Analyze mmengine json logs')
    subparsers = parser.add_subparsers(dest='task', required=True, help='task parser')
    plot = subparsers.add_parser('plot_curve', help='plot training / validation curves')
    plot.add_argument('json_logs', nargs='+', help='mmengine json logs (vis_data/<timestamp>.json)')
    plot.add_argument('--keys', nargs='+', default=['loss'], help='the keys to plot (default: loss)')
    plot.add_argument('--legend', nargs='+', default=None, help='one name per (log, key), logs outermost')
    plot.add_argument('--title', help='figure title')
    plot.add_argument('--out', required=True, help='output image (png, pdf, svg ...)')
    timing = subparsers.add_parser('cal_train_time', help='average time per iteration')
    timing.add_argument('json_logs', nargs='+', help='mmengine json logs')
    timing.add_argument('--include-outliers', action='store_true',
                        help='keep the first logged row of each run / epoch')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.task == 'plot_curve':
        return plot_curve(args.json_logs, args.keys, args.out, args.legend, args.title)
    return cal_train_time(args.json_logs, args.include_outliers)


if __name__ == '__main__':
    main()
