# Copyright (c) mmspecgene contributors. All rights reserved.
"""--cfg-options key typos: a warning naming the key and the closest existing one, an error with
--strict-cfg-options (tools/train.py, tools/test.py)."""
import logging
import os.path as osp
import sys

import pytest
from mmengine.config import Config, DictAction

from mmspecgene.testing.logs import captured_log_records
from mmspecgene.testing.scripts import load_script
from mmspecgene.utils.cfg_options import check_cfg_options, unknown_cfg_option_keys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DET_CFG = osp.join(REPO, 'configs/det/vitdet/vitdet_mask-rcnn_rgbt-vit-tiny_1xb4-400i_synthetic.py')
SEG_CFG = osp.join(REPO, 'configs/seg/upernet/upernet_rgbt-vit-tiny_1xb4-400i_synthetic.py')


def _options(*pairs):
    """Parse ``key=value`` strings as the CLIs do."""
    namespace = type('Namespace', (), {})()
    DictAction(option_strings=['--cfg-options'], dest='opts')(None, namespace, list(pairs))
    return namespace.opts


@pytest.fixture(scope='module')
def det_cfg():
    return Config.fromfile(DET_CFG)


def test_existing_keys_pass_list_indices_included(det_cfg):
    options = _options('optim_wrapper.optimizer.lr=1e-6', 'train_cfg.max_iters=3',
                       'test_dataloader.dataset.pipeline.1.scale=[320,320]', 'model.backbone.arch=tiny')
    assert unknown_cfg_option_keys(det_cfg, options) == []
    assert check_cfg_options(det_cfg, options, strict=True) == []


def test_typos_are_named_with_the_closest_key(det_cfg):
    options = _options('optim_wraper.optimizer.lr=1e-6', 'train_cfg.max_iter=3',
                       'test_dataloader.dataset.pipeline.9.scale=[1,1]', 'completely_new_key=1')
    assert unknown_cfg_option_keys(det_cfg, options) == [
        ('optim_wraper.optimizer.lr', 'optim_wrapper.optimizer.lr'),
        ('train_cfg.max_iter', 'train_cfg.max_iters'),
        ('test_dataloader.dataset.pipeline.9.scale', 'test_dataloader.dataset.pipeline.1.scale'),
        ('completely_new_key', None),
    ]


def test_warning_keeps_mmengine_semantics(det_cfg):
    cfg = Config.fromfile(DET_CFG)
    with captured_log_records() as records:  # the 'current' logger the tools log to
        messages = check_cfg_options(cfg, _options('optim_wraper.optimizer.lr=1e-6'))
    assert len(messages) == 1 and "'optim_wraper.optimizer.lr'" in messages[0]
    assert "did you mean 'optim_wrapper.optimizer.lr'" in messages[0]
    assert [r.levelno for r in records] == [logging.WARNING]
    assert 'optim_wraper' in records[0].getMessage()
    cfg.merge_from_dict(_options('optim_wraper.optimizer.lr=1e-6'))  # still merged as a new key
    assert cfg.optim_wraper.optimizer.lr == 1e-6


def test_strict_raises_listing_every_unknown_key(det_cfg):
    with pytest.raises(KeyError, match=r"(?s)optim_wraper.*optim_wrapper\.optimizer\.lr.*train_cfg\.max_iter"):
        check_cfg_options(det_cfg, _options('optim_wraper.optimizer.lr=1e-6', 'train_cfg.max_iter=3'), strict=True)


@pytest.mark.parametrize('script, extra', [('train.py', []), ('test.py', ['missing_checkpoint.pth'])])
def test_cli_strict_cfg_options(monkeypatch, tmp_path, script, extra):
    """Both CLIs stop before building anything when a key is unknown and --strict-cfg-options is given."""
    argv = [script, SEG_CFG, *extra, '--work-dir', str(tmp_path), '--strict-cfg-options', '--cfg-options',
            'optim_wraper.optimizer.lr=1e-6']
    monkeypatch.setattr(sys, 'argv', argv)
    with pytest.raises(KeyError, match=r"optim_wraper.*did you mean 'optim_wrapper\.optimizer\.lr'"):
        load_script(osp.join(REPO, 'tools', script)).main()
