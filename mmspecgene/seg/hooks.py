# Copyright (c) mmspecgene contributors. All rights reserved.
"""Validation/test visualisation that draws segmentation on RGB and thermal side by side."""
import os.path as osp

from mmseg.engine.hooks import SegVisualizationHook
from mmseg.registry import HOOKS

from ..visualization import read_rgbt_pair, seg_sample_for_canvas, side_by_side


@HOOKS.register_module()
class RGBTSegVisualizationHook(SegVisualizationHook):
    """Like the host hook (same arguments), but reads ``img_path`` and ``ir_path`` and draws the masks on
    an RGB‖thermal canvas."""

    def _draw_outputs(self, runner, batch_idx: int, outputs, mode: str) -> None:
        if self.draw is False:
            return
        if not self.every_n_inner_iters(batch_idx, self.interval):
            return
        for sample in outputs:
            rgb, thermal = read_rgbt_pair(sample.img_path, sample.get('ir_path'), self.backend_args)
            self._visualizer.add_datasample(
                f'{mode}_{osp.basename(sample.img_path)}',
                side_by_side(rgb, thermal),
                data_sample=seg_sample_for_canvas(sample),
                show=self.show,
                wait_time=self.wait_time,
                step=runner.iter)

    def after_val_iter(self, runner, batch_idx: int, data_batch: dict, outputs) -> None:
        self._draw_outputs(runner, batch_idx, outputs, 'val')

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict, outputs) -> None:
        self._draw_outputs(runner, batch_idx, outputs, 'test')
