# Copyright (c) mmspecgene contributors. All rights reserved.
"""--cfg-options key typos: a warning naming the key and the closest existing one, an error with
--strict-cfg-options (tools/train.py, tools/test.py)."""
import argparse
import logging
import os.path as osp
import sys

import pytest
from mmengine.config import Config, DictAction

from mmspecgene.testing.logs import captured_log_records
from mmspecgene.testing.scripts import load_script
from mmspecgene.utils.cfg_options import (
    add_cfg_options_arguments,
    check_cfg_options,
    merge_cfg_options,
    unknown_cfg_option_keys,
)

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


MATCH_CFG = osp.join(REPO, 'configs/match/loftr/loftr_rgbt-vit-tiny_1xb4-3000i_synthetic.py')


@pytest.mark.parametrize('script, args', [
    ('analysis_tools/match_eval.py', [MATCH_CFG]),
    ('analysis_tools/get_flops.py', [SEG_CFG]),
    ('analysis_tools/browse_dataset.py', [SEG_CFG]),
])
def test_analysis_tools_check_cfg_options(tmp_path, script, args):
    """The analysis tools check --cfg-options like train/test (a typo fails under --strict-cfg-options)."""
    tool = load_script(osp.join(REPO, 'tools', script))
    typo = ['--cfg-options', 'test_dataloader.datset.data_root=x', '--strict-cfg-options']
    with pytest.raises(KeyError, match=r"'test_dataloader\.datset\.data_root'.*did you mean 'test_dataloader\.dataset"):
        tool.main(args + typo)


def test_merge_cfg_options_warns_then_merges():
    parser = argparse.ArgumentParser()
    add_cfg_options_arguments(parser)
    cfg = Config.fromfile(SEG_CFG)
    args = parser.parse_args(['--cfg-options', 'train_cfg.max_iters=3', 'train_cfg.max_iter=4'])
    with captured_log_records() as records:
        assert merge_cfg_options(cfg, args) is cfg
    assert cfg.train_cfg.max_iters == 3 and cfg.train_cfg.max_iter == 4
    assert [r.levelno for r in records] == [logging.WARNING] and "'train_cfg.max_iter'" in records[0].getMessage()
    with pytest.raises(KeyError, match='max_iter'):
        merge_cfg_options(Config.fromfile(SEG_CFG), parser.parse_args(
            ['--cfg-options', 'train_cfg.max_iter=4', '--strict-cfg-options']))


def test_model_converter_checks_cfg_options(tmp_path):
    convert = load_script(osp.join(REPO, 'tools', 'model_converters', 'specgene_convert.py'))
    with pytest.raises(KeyError, match=r"'model.backbone.arhc'.*did you mean 'model.backbone.arch'"):
        convert.build_model_state(SEG_CFG, _options('model.backbone.arhc=small'), strict_cfg_options=True)
    args = convert.parse_args(['src.pth', '--validate-only', '--strict-cfg-options', '--cfg-options', 'a=1'])
    assert args.strict_cfg_options and args.cfg_options == {'a': 1}
