# Copyright (c) mmspecgene contributors. All rights reserved.
"""``RGBTMaskingHook``: drives the pretraining masker from the runner and logs its statistics."""
import logging
from typing import Dict, Optional, Sequence

import torch
from mmengine.hooks import Hook, LoggerHook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop
from mmpretrain.registry import HOOKS

DEFAULT_CONSOLE_KEYS = ('curr/tick', 'mask/keep_rgb', 'mask/keep_thermal')


@HOOKS.register_module()
class RGBTMaskingHook(Hook):
    """Set the masker's progress before every training iteration; log its statistics every logging interval.

    Before each iteration: ``masker.set_progress(runner.iter, runner.max_iters, max_epochs)``, where ``max_epochs``
    (the curriculum's number of ticks unless the masker sets ``total_ticks``) is the run's epochs for an epoch-based
    loop; an iteration-based run must set ``model.backbone.masker.total_ticks`` for maskers whose curriculum spans
    the run (``needs_total_ticks``; not the released masker, whose clock counts calls). A ``load_from`` checkpoint that
    holds a masker state (a previous pretraining run) leaves the curriculum at its start, with a WARNING; only
    ``resume`` continues it. A fresh run keeps each rank's own start values of the buffers the masker declares
    rank-local (``rank_local_buffer_names``), which the runner's weight-init broadcast would replace by rank 0's.
    After the
    iterations on which the ``LoggerHook`` logs (its interval and end-of-epoch rule), ``masker.statistics()`` is read
    from the device once and written to the message hub (keys ``mask/``, ``curr/``, ``gmm/``, ``cmss/``) and to the
    vis backends (local ``scalars.json``, TensorBoard, ...); ``console_keys`` also go to the console line. Nothing
    else touches the masker's tensors from the host.

    Args:
        console_keys (Sequence[str]): at most three statistics shown on the console line with the losses.
        interval (int, optional): logging interval when the runner has no ``LoggerHook``. Default 50.
    """

    priority = 'NORMAL'  # after the iteration: before LoggerHook (BELOW_NORMAL), which prints the console line

    def __init__(self, console_keys: Sequence[str] = DEFAULT_CONSOLE_KEYS, interval: Optional[int] = None) -> None:
        if len(console_keys) > 3:
            raise ValueError(f'RGBTMaskingHook: console_keys={list(console_keys)}; at most three statistics go to '
                             'the console line (all of them reach the vis backends).')
        self.console_keys = tuple(console_keys)
        self.interval = interval
        self._logger_hook: Optional[LoggerHook] = None
        self._max_epochs: Optional[int] = None
        self._start_state: Dict[str, torch.Tensor] = {}
        self._loaded_masker_state = False

    @staticmethod
    def masker_of(runner):
        """The masker of the runner's model (``model.masker``, through a DDP wrapper)."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        masker = getattr(model, 'masker', None)
        if masker is None:
            raise TypeError(f'RGBTMaskingHook needs a model with a masker (SpecGeneMAE); got {type(model).__name__}.')
        return masker

    def before_run(self, runner) -> None:
        masker = self.masker_of(runner)
        self._logger_hook = next((hook for hook in runner.hooks if isinstance(hook, LoggerHook)), None)
        # the curriculum's start state, before any checkpoint is loaded
        self._start_state = {name: value.detach().clone() for name, value in masker.state_dict().items()}

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('state_dict', checkpoint)
        self._loaded_masker_state = any('masker.' in key for key in state)

    def before_train(self, runner) -> None:
        masker = self.masker_of(runner)
        epoch_based = isinstance(runner.train_loop, EpochBasedTrainLoop)
        self._max_epochs = runner.max_epochs if epoch_based else None
        if not epoch_based and getattr(masker, 'needs_total_ticks', False) and masker.total_ticks is None:
            raise ValueError(f'RGBTMaskingHook: {type(runner.train_loop).__name__} has no epochs to spread the '
                             f'curriculum over; set model.backbone.masker.total_ticks (its number of ticks over the '
                             f'{runner.max_iters} iterations).')
        if runner.iter != 0 or not self._start_state:
            return
        if self._loaded_masker_state:
            tick = int(masker.state_dict().get('tick', torch.zeros(())))
            masker.load_state_dict(self._start_state)
            print_log('RGBTMaskingHook: the load_from checkpoint holds the masker state of another pretraining run '
                      f'(tick {tick}); the curriculum starts afresh (resume=True continues a run instead).',
                      logger='current', level=logging.WARNING)
            return
        # The runner broadcasts rank 0's buffers after init_weights; rank-local state starts from this rank's own.
        rank_local = getattr(masker, 'rank_local_buffer_names', lambda: [])()
        if rank_local:
            state = masker.state_dict()
            state.update({name: self._start_state[name] for name in rank_local})
            masker.load_state_dict(state)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self.masker_of(runner).set_progress(runner.iter, runner.max_iters, max_epochs=self._max_epochs)

    def _is_logging_iter(self, runner, batch_idx: int) -> bool:
        """Whether the LoggerHook writes a log line after this iteration (its own rule)."""
        logger = self._logger_hook
        if logger is None:
            return self.every_n_train_iters(runner, self.interval or 50)
        if self.every_n_inner_iters(batch_idx, logger.interval):
            return True
        return self.end_of_epoch(runner.train_dataloader, batch_idx) and (
            not logger.ignore_last or len(runner.train_dataloader) <= logger.interval)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not self._is_logging_iter(runner, batch_idx):
            return
        statistics = self.masker_of(runner).statistics()
        if not statistics:
            return
        names = list(statistics)
        values = torch.stack([statistics[name].float() for name in names]).tolist()  # the one host read
        scalars = dict(zip(names, values))
        runner.message_hub.update_scalars(scalars)
        for key in self.console_keys:
            if key in scalars:
                runner.message_hub.update_scalar(f'train/{key}', scalars[key])
        runner.visualizer.add_scalars(scalars, step=runner.iter + 1)
