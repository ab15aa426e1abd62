# Copyright (c) mmspecgene contributors. All rights reserved.
"""RGBTMaskingHook in a real Runner: progress before each iteration, statistics every logging interval only."""
import glob
import json
import os.path as osp
import sys
import weakref
from collections import Counter

import pytest
import torch

pytest.importorskip('mmpretrain')
from mmengine.hooks import Hook  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
MASKER_FILES = tuple(
    osp.join(REPO, 'mmspecgene', *parts)
    for parts in (('models', 'gmm_cmss_masking.py'), ('models', 'masking_ops.py'), ('models', 'cmss.py'),
                  ('models', 'random_masking.py'), ('pretrain', 'hooks.py')))
HOST_READS = ('item', 'tolist', 'numpy', '__float__', '__int__', '__bool__', '__index__')


class HostReadCounter:
    """Counts masker tensors turned into Python numbers, per training iteration.

    A read counts when it happens in masker or hook code, or when the tensor came out of the masker (its forward
    outputs, statistics or buffers): e.g. a masker scalar in the loss dict read by mmengine's RuntimeInfoHook.
    """

    def __init__(self, masker, monkeypatch):
        self.iteration = None
        self.counts = Counter()
        self.masker_tensors = weakref.WeakSet(masker.buffers())
        for name in ('forward', 'statistics'):
            method = getattr(masker, name)
            monkeypatch.setattr(masker, name, self._recording(method))
        for name in HOST_READS:
            monkeypatch.setattr(torch.Tensor, name, self._counting(getattr(torch.Tensor, name)))

    @staticmethod
    def called_from_masker():
        frame = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_filename in MASKER_FILES:
                return True
            frame = frame.f_back
        return False

    def _recording(self, method):

        def wrapper(*args, **kwargs):
            outputs = method(*args, **kwargs)
            self.masker_tensors.update(outputs.values())
            return outputs

        return wrapper

    def _counting(self, read):
        counter = self

        def wrapper(tensor, *args, **kwargs):
            if counter.iteration is not None and (tensor in counter.masker_tensors or counter.called_from_masker()):
                counter.counts[counter.iteration] += 1
            return read(tensor, *args, **kwargs)

        return wrapper


class IterationStart(Hook):
    priority = 'HIGHEST'

    def __init__(self, counter):
        self.counter = counter

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.counter.iteration = runner.iter


class IterationEnd(Hook):
    priority = 'LOWEST'

    def __init__(self, counter):
        self.counter = counter

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        assert set(outputs) == {'loss', 'loss_rgb', 'loss_thermal'}  # the loss dict holds losses only
        self.counter.iteration = None


def test_statistics_only_every_logger_interval(tmp_path, one_epoch_runner, monkeypatch):
    runner = one_epoch_runner('specgene/specgene_vit-tiny-p16_1xb16-30e_synthetic.py', batch_size=8, logger_interval=4)
    num_iters = len(runner.train_dataloader)
    assert num_iters == 8  # 64 synthetic pairs
    masker = runner.model.masker
    counter = HostReadCounter(masker, monkeypatch)
    runner.register_hook(IterationStart(counter))
    runner.register_hook(IterationEnd(counter))
    runner.train()
    monkeypatch.undo()

    # Logging after iterations 4 and 8: one read of all statistics. The curriculum tick (E = 1 epoch, due after the
    # last iteration) reads a few scalars once. Every other iteration: nothing.
    expected = {3: 1, 7: 2}
    assert {iteration: counter.counts[iteration] for iteration in range(num_iters)} == {
        iteration: expected.get(iteration, 0) for iteration in range(num_iters)}
    assert int(masker.tick) == 1 and masker._cur_iter == num_iters - 1  # the hook passed the runner's progress

    scalars = [json.loads(line) for line in open(glob.glob(osp.join(str(tmp_path), '*', 'vis_data',
                                                                    'scalars.json'))[0])]
    statistics = [line for line in scalars if 'gmm/mean_0' in line]
    assert [line['step'] for line in statistics] == [4, 8]
    assert all(line['mask/overlap'] == 0 and 'cmss/p95' in line and 'curr/loss_gap' in line for line in statistics)
    losses = [line for line in scalars if 'loss' in line]
    assert [line['step'] for line in losses] == [4, 8] and losses[-1]['curr/tick'] == 1
    assert not any(key.startswith(('gmm/', 'cmss/')) for key in losses[-1])
    log = open(glob.glob(osp.join(str(tmp_path), '*', '*.log'))[0]).read()
    line = [text for text in log.splitlines() if 'loss_thermal' in text][-1]
    # the console line: the losses plus three curriculum numbers
    assert 'curr/tick: 1' in line and 'mask/keep_rgb' in line and 'mask/keep_thermal' in line
    assert 'gmm/' not in line and 'cmss/' not in line and 'curr/keep_bias' not in line
