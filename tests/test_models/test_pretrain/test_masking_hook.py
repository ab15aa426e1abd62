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


def _runner(tmp_path, synthetic_root, work, train_cfg=None, total_ticks=None, checkpoint_hook=None, load_from=None,
            config='specgene_vit-tiny-p16_1xb16-30e_synthetic.py', launcher='none'):
    """A Runner of the tiny synthetic pretraining config (batch 8 of 64 pairs, one epoch unless ``train_cfg``)."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from mmspecgene.utils.dist import prepare_distributed
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'pretrain', 'specgene', config))
    cfg.launcher = launcher
    prepare_distributed(cfg, launcher)
    cfg.work_dir = str(tmp_path / work)
    cfg.train_dataloader.update(batch_size=8, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.data_root = osp.join(synthetic_root, 'pretrain') + '/'
    cfg.train_cfg.max_epochs = 1
    if train_cfg is not None:
        cfg.train_cfg, cfg.param_scheduler = train_cfg, []
    if total_ticks is not None:
        cfg.model.backbone.masker.total_ticks = total_ticks
    cfg.default_hooks.checkpoint = checkpoint_hook
    cfg.load_from = load_from
    return Runner.from_cfg(cfg)


class TickAtStart(Hook):
    priority = 'LOWEST'

    def __init__(self):
        self.ticks = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.ticks.append(int(runner.model.masker.tick))


def test_iteration_based_run_needs_total_ticks(tmp_path, synthetic_root):
    iter_based = dict(type='IterBasedTrainLoop', max_iters=4)
    runner = _runner(tmp_path, synthetic_root, 'no_ticks', train_cfg=iter_based)
    with pytest.raises(ValueError, match=r'IterBasedTrainLoop has no epochs.*masker\.total_ticks.*4 iterations'):
        runner.train()
    runner = _runner(tmp_path, synthetic_root, 'ticks', train_cfg=iter_based, total_ticks=2)
    spy = TickAtStart()
    runner.register_hook(spy)
    runner.train()
    assert spy.ticks == [0, 0, 1, 1] and int(runner.model.masker.tick) == 2  # ticks due after iterations 2 and 4


def test_released_masker_runs_in_an_iteration_based_loop(tmp_path, synthetic_root):
    """The released clock counts calls: no total_ticks needed (nor accepted)."""
    iter_based = dict(type='IterBasedTrainLoop', max_iters=2)
    runner = _runner(tmp_path, synthetic_root, 'released_iters', train_cfg=iter_based,
                     config='specgene-released-masking_vit-tiny-p16_1xb16-30e_synthetic.py')
    runner.train()
    assert int(runner.model.masker.num_calls) == 2


def test_load_from_starts_the_curriculum_afresh(tmp_path, synthetic_root):
    from mmspecgene.testing.logs import captured_log_records
    first = _runner(tmp_path, synthetic_root, 'first', checkpoint_hook=dict(type='CheckpointHook', interval=1))
    first.train()
    assert int(first.model.masker.tick) == 1
    checkpoint = osp.join(str(tmp_path / 'first'), 'epoch_1.pth')
    second = _runner(tmp_path, synthetic_root, 'second', load_from=checkpoint)
    spy = TickAtStart()
    second.register_hook(spy)
    with captured_log_records() as records:
        second.train()
    assert spy.ticks[0] == 0 and int(second.model.masker.tick) == 1
    assert any('holds the masker state of another pretraining run (tick 1)' in r.getMessage() for r in records)


class FirstIterState(Hook):
    priority = 'LOWEST'

    def __init__(self, path):
        self.path = path

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == 0:
            torch.save({k: v.clone() for k, v in runner.model.module.masker.state_dict().items()}, self.path)


def _released_runner_worker(rank, world_size, tmp_path, synthetic_root):
    import pathlib
    tmp_path = pathlib.Path(tmp_path)
    runner = _runner(tmp_path, synthetic_root, 'released', launcher='pytorch',
                     config='specgene-released-masking_vit-tiny-p16_1xb16-30e_synthetic.py')
    runner.register_hook(FirstIterState(str(tmp_path / f'rank{rank}.pth')))
    runner.train()


def test_released_masker_keeps_its_per_rank_start_in_a_two_rank_run(tmp_path, synthetic_root):
    """The runner broadcasts rank 0's buffers after ``init_weights``; the hook gives each rank its own GMM back."""
    from mmspecgene.testing.distributed import run_gloo
    run_gloo(_released_runner_worker, 2, str(tmp_path), synthetic_root)
    ranks = [torch.load(tmp_path / f'rank{rank}.pth', weights_only=True) for rank in range(2)]
    for rank, state in enumerate(ranks):  # each rank's own init: seed curriculum_seed (0) + rank
        own = torch.rand(3, generator=torch.Generator().manual_seed(rank), dtype=torch.float64)
        assert torch.equal(state['gmm_mean'], own), rank
