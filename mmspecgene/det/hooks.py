# Copyright (c) mmspecgene contributors. All rights reserved.
"""Validation/test visualisation that draws detections on RGB and thermal side by side."""
import os.path as osp

from mmdet.engine.hooks import DetVisualizationHook
from mmdet.registry import HOOKS
from mmengine.utils import mkdir_or_exist

from ..visualization import det_sample_for_canvas, read_rgbt_pair, side_by_side


@HOOKS.register_module()
class RGBTDetVisualizationHook(DetVisualizationHook):
    """Like the host hook (same arguments), but reads ``img_path`` and ``ir_path`` and draws the boxes
    on an RGB‖thermal canvas (the host hook re-reads only the RGB file).

    Test drawings are named ``<running index>_<file name>``: frame names repeat across the folders of KAIST
    (``setXX/V00Y/I#####.jpg``) and MVSeg (``<seq>/<frame>``), and a name alone would overwrite earlier drawings.
    """

    def _draw(self, name: str, data_sample, step: int, out_file=None) -> None:
        rgb, thermal = read_rgbt_pair(data_sample.img_path, data_sample.get('ir_path'), self.backend_args)
        self._visualizer.add_datasample(
            name,
            side_by_side(rgb, thermal),
            data_sample=det_sample_for_canvas(data_sample, rgb.shape[1]),
            show=self.show,
            wait_time=self.wait_time,
            pred_score_thr=self.score_thr,
            out_file=out_file,
            step=step)

    def after_val_iter(self, runner, batch_idx: int, data_batch: dict, outputs) -> None:
        if self.draw is False:
            return
        total_curr_iter = runner.iter + batch_idx
        if total_curr_iter % self.interval == 0:
            sample = outputs[0]
            name = osp.basename(sample.img_path) if self.show else 'val_img'
            self._draw(name, sample, total_curr_iter)

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict, outputs) -> None:
        if self.draw is False:
            return
        if self.test_out_dir is not None and not osp.isabs(self.test_out_dir):
            self.test_out_dir = osp.join(runner.work_dir, runner.timestamp, self.test_out_dir)
            mkdir_or_exist(self.test_out_dir)
        for sample in outputs:
            self._test_index += 1
            name = f'{self._test_index:05d}_{osp.basename(sample.img_path)}'
            out_file = None if self.test_out_dir is None else osp.join(self.test_out_dir, name)
            self._draw(name if self.show else 'test_img', sample, self._test_index, out_file)
