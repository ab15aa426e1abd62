# Copyright (c) mmspecgene contributors. All rights reserved.
import os.path as osp

import pytest

CONFIGS = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))), 'configs', 'pretrain')


@pytest.fixture
def one_epoch_runner(tmp_path, synthetic_root):
    """``make(config, batch_size, logger_interval)``: a Runner of a synthetic pretraining config (path relative to
    ``configs/pretrain``) for one epoch of the session's synthetic pairs, no checkpoint, logs in ``tmp_path``."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    def make(config, batch_size, logger_interval):
        cfg = Config.fromfile(osp.join(CONFIGS, config))
        cfg.work_dir = str(tmp_path)
        cfg.train_dataloader.update(batch_size=batch_size, num_workers=0, persistent_workers=False)
        cfg.train_dataloader.dataset.data_root = osp.join(synthetic_root, 'pretrain') + '/'
        cfg.train_cfg.max_epochs = 1
        cfg.default_hooks.logger.interval = logger_interval
        cfg.default_hooks.checkpoint = None
        return Runner.from_cfg(cfg)

    return make
