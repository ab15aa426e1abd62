# Copyright (c) mmspecgene contributors. All rights reserved.
"""Draw RGB‖thermal with match lines coloured by their reprojection error (matplotlib)."""
from typing import Optional

import numpy as np

from ..visualization.rgbt_canvas import side_by_side


def draw_matches(rgb: np.ndarray, thermal: np.ndarray, kpts0: np.ndarray, kpts1: np.ndarray,
                 errors: Optional[np.ndarray], out_file: str, max_error: float = 10.0, title: str = '') -> None:
    """Save a figure of RGB‖thermal (H×W×3 uint8, RGB order) with one line per match.

    Lines go from ``kpts0`` (RGB, (N, 2) pixels) to ``kpts1`` (thermal) and are coloured by ``errors`` (N,) on a
    green (0 px) to red (``max_error`` px and more) scale, with a colour bar; without errors they are all cyan.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize

    height, width = rgb.shape[:2]
    kpts0 = np.asarray(kpts0, dtype=np.float64).reshape(-1, 2)
    kpts1 = np.asarray(kpts1, dtype=np.float64).reshape(-1, 2)
    fig, ax = plt.subplots(figsize=(max(6.0, 2 * width / 100), max(3.0, height / 100 + 0.6)), dpi=100)
    ax.imshow(side_by_side(rgb, thermal))
    segments = np.stack([kpts0, kpts1 + [width, 0]], axis=1)
    if errors is not None:
        norm = Normalize(0, max_error)
        lines = LineCollection(segments, cmap='RdYlGn_r', norm=norm, linewidths=0.8)
        lines.set_array(np.minimum(np.asarray(errors, dtype=np.float64), max_error))
        ax.add_collection(lines)
        fig.colorbar(lines, ax=ax, fraction=0.025, pad=0.01, label='match error (px)')
    else:
        ax.add_collection(LineCollection(segments, colors='cyan', linewidths=0.8))
    ax.scatter(segments[:, :, 0].ravel(), segments[:, :, 1].ravel(), s=2, c='white')
    ax.set_xlim(-0.5, 2 * width - 0.5)
    ax.set_ylim(height - 0.5, -0.5)
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)
    fig.savefig(out_file, bbox_inches='tight')
    plt.close(fig)
