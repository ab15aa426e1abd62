# Copyright (c) mmspecgene contributors. All rights reserved.
from .curves import plot_mr_fppi, plot_sod_curves
from .rgbt_canvas import det_sample_for_canvas, read_rgbt_pair, seg_sample_for_canvas, side_by_side, split_stack

__all__ = ['read_rgbt_pair', 'side_by_side', 'split_stack', 'det_sample_for_canvas', 'seg_sample_for_canvas',
    'plot_mr_fppi', 'plot_sod_curves'
]
