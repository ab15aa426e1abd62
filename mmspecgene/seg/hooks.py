# Copyright (c) mmspecgene contributors. All rights reserved.
"""Validation/test visualisation that draws segmentation on RGB and thermal side by side."""
import os.path as osp

from mmseg.engine.hooks import SegVisualizationHook
from mmseg.registry import HOOKS

from ..visualization import read_rgbt_pair, seg_sample_for_canvas, side_by_side


@HOOKS.register_module()
class RGBTSegVisualizationHook(SegVisualizationHook):
    """Like the host hook (same arguments), but reads ``img_path`` and ``ir_path`` and draws the masks on
    an RGB‖thermal canvas.

    Test drawings are stored at a running index (as mmdet's hook does); validation drawings are named
    ``val_<batch>_<sample>_<file name>``, since frame names repeat across folders (MVSeg's ``<seq>/<frame>``).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._test_index = 0

    def _draw_outputs(self, runner, batch_idx: int, outputs, mode: str) -> None:
        if self.draw is False:
            return
        if not self.every_n_inner_iters(batch_idx, self.interval):
            return
        for index, sample in enumerate(outputs):
            if mode == 'test':
                self._test_index += 1
                name, step = f'test_{osp.basename(sample.img_path)}', self._test_index
            else:
                name, step = f'val_{batch_idx:05d}_{index}_{osp.basename(sample.img_path)}', runner.iter
            rgb, thermal = read_rgbt_pair(sample.img_path, sample.get('ir_path'), self.backend_args)
            self._visualizer.add_datasample(
                name,
                side_by_side(rgb, thermal),
                data_sample=seg_sample_for_canvas(sample),
                show=self.show,
                wait_time=self.wait_time,
                step=step)

    def after_val_iter(self, runner, batch_idx: int, data_batch: dict, outputs) -> None:
        self._draw_outputs(runner, batch_idx, outputs, 'val')

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict, outputs) -> None:
        self._draw_outputs(runner, batch_idx, outputs, 'test')
