# Copyright (c) mmspecgene contributors. All rights reserved.
"""Evaluation curves people compare with, drawn with matplotlib (Agg): KAIST MR-FPPI and SOD PR / F-threshold.

Every function writes one PNG of a fixed size (``FIGURE_SIZE`` inches at ``DPI``) and returns the data it drew,
read back from the drawn lines, so that callers and tests can check it against the metric's numbers.
"""
import os
import os.path as osp
from typing import Dict, Mapping, Sequence, Tuple

import numpy as np

DPI = 100
FIGURE_SIZE = (5.0, 4.5)  # inches per panel
#: FPPI range over which MR^-2 averages the miss rate (the shaded band of the MR-FPPI plots).
MR2_FPPI_RANGE = (1e-2, 1.0)
MR_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.64, 0.8, 1.0)


def _pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend (works without a display)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def figure_pixels(num_panels: int = 1) -> Tuple[int, int]:
    """(width, height) in pixels of a figure of ``num_panels`` side-by-side panels."""
    return int(round(FIGURE_SIZE[0] * num_panels * DPI)), int(round(FIGURE_SIZE[1] * DPI))


def _save(fig, out_file: str) -> None:
    if osp.dirname(out_file):
        os.makedirs(osp.dirname(out_file), exist_ok=True)
    fig.savefig(out_file, dpi=DPI)


def plot_mr_fppi(curves: Mapping[str, Mapping[str, Tuple[np.ndarray, np.ndarray]]],
                 miss_rates: Mapping[str, Mapping[str, float]],
                 out_file: str,
                 title: str = '',
                 subsets: Sequence[str] = ('all', 'day', 'night')) -> Dict[str, Dict[str, dict]]:
    """Log-log miss rate vs false positives per image, one panel per subset, one curve per method.

    Args:
        curves: method -> subset -> (fppi, miss rate) arrays (``evaluate_kaist(..., return_curves=True)``,
            one setup).
        miss_rates: method -> subset -> MR^-2 in percent, shown in the legend (best first).
        out_file: PNG path.
        title: Figure title (e.g. the setup).
        subsets: Panels, left to right.

    Returns:
        subset -> method -> ``dict(fppi, miss_rate, mr2, label)`` as drawn.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(subsets), figsize=(FIGURE_SIZE[0] * len(subsets), FIGURE_SIZE[1]), squeeze=False)
    drawn: Dict[str, Dict[str, dict]] = {}
    for ax, subset in zip(axes[0], subsets):
        drawn[subset] = {}
        ranked = sorted(curves, key=lambda m: (np.nan_to_num(miss_rates[m][subset], nan=np.inf), m))
        for method in ranked:
            fppi, miss_rate = curves[method][subset]
            mr2 = float(miss_rates[method][subset])
            label = f'{mr2:.2f}% {method}'
            (line, ) = ax.plot(fppi, miss_rate, linewidth=1.5, label=label)
            drawn[subset][method] = dict(
                fppi=np.asarray(line.get_xdata(), np.float64), miss_rate=np.asarray(line.get_ydata(), np.float64),
                mr2=mr2, label=label)
        ax.axvspan(*MR2_FPPI_RANGE, color='0.92', zorder=0)
        ax.set_xscale('log')
        ax.set_yscale('log')
        ax.set_xlim(2e-4, 10)
        ax.set_ylim(0.01, 1.0)
        ax.set_yticks(MR_TICKS)
        ax.set_yticklabels([f'{t:.2f}' for t in MR_TICKS])
        ax.minorticks_off()
        ax.grid(True, which='major', linestyle=':', linewidth=0.6)
        ax.set_xlabel('false positives per image')
        ax.set_ylabel('miss rate')
        ax.set_title(f'{title} / {subset}' if title else subset)
        ax.legend(loc='lower left', fontsize=8, title='MR$^{-2}$', title_fontsize=8)
    fig.tight_layout()
    _save(fig, out_file)
    plt.close(fig)
    return drawn


def plot_sod_curves(curves: Mapping[str, Mapping[str, np.ndarray]], pr_file: str,
                    fmeasure_file: str) -> Dict[str, Dict[str, dict]]:
    """Precision-recall curves and F-measure-vs-threshold curves of several prediction sets (one each).

    Args:
        curves: method -> ``aggregate_curves`` dict (``thresholds``, ``precision``, ``recall``, ``fmeasure``).
        pr_file, fmeasure_file: PNG paths of the two figures.

    Returns:
        ``dict(pr={method: dict(recall, precision, label)}, fmeasure={method: dict(threshold, fmeasure,
        label)})`` as drawn; labels carry maxF (PR) and maxF / meanF (F-measure).
    """
    plt = _pyplot()
    drawn = dict(pr={}, fmeasure={})
    fig_pr, ax_pr = plt.subplots(figsize=FIGURE_SIZE)
    fig_f, ax_f = plt.subplots(figsize=FIGURE_SIZE)
    for method, curve in curves.items():
        fm = np.asarray(curve['fmeasure'], np.float64)
        label_pr = f'{method} (maxF {fm.max():.3f})'
        (line, ) = ax_pr.plot(curve['recall'], curve['precision'], linewidth=1.5, label=label_pr)
        drawn['pr'][method] = dict(recall=np.asarray(line.get_xdata(), np.float64),
                                   precision=np.asarray(line.get_ydata(), np.float64), label=label_pr)
        label_f = f'{method} (maxF {fm.max():.3f}, meanF {fm.mean():.3f})'
        (line, ) = ax_f.plot(curve['thresholds'], fm, linewidth=1.5, label=label_f)
        drawn['fmeasure'][method] = dict(threshold=np.asarray(line.get_xdata(), np.float64),
                                         fmeasure=np.asarray(line.get_ydata(), np.float64), label=label_f)
    ax_pr.set(xlim=(0, 1), ylim=(0, 1.02), xlabel='recall', ylabel='precision', title='precision-recall')
    ax_f.set(xlim=(0, 255), ylim=(0, 1.02), xlabel='threshold (saliency >= t)', ylabel='F-measure',
             title='F-measure vs threshold')
    for fig, ax, out_file in ((fig_pr, ax_pr, pr_file), (fig_f, ax_f, fmeasure_file)):
        ax.grid(True, linestyle=':', linewidth=0.6)
        ax.legend(loc='lower left', fontsize=8)
        fig.tight_layout()
        _save(fig, out_file)
        plt.close(fig)
    return drawn
