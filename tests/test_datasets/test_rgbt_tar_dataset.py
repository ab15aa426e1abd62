# Copyright (c) mmspecgene contributors. All rights reserved.
"""RGBTTarPairDataset: the converter CLI packs the synthetic pretraining pairs; reading them from shards gives the
same samples, and the same first training batch, as reading the folders with the same seed."""
import copy
import glob
import json
import os.path as osp
import shutil

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook

from mmspecgene.testing.scripts import run_script
from mmspecgene.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PRE_CFG = 'configs/pretrain/specgene/specgene_vit-tiny-p16_1xb16-30e_synthetic.py'


@pytest.fixture(scope='module')
def shards(synthetic_root, tmp_path_factory):
    out = str(tmp_path_factory.mktemp('pretrain_shards'))
    log = run_script(['tools/dataset_converters/rgbt_pairs_to_tar.py', osp.join(synthetic_root, 'pretrain'),
                      '--out-dir', out, '--pairs-per-shard', '24'], REPO)
    assert '64 pairs in 3 shards' in log, log
    return out


def test_index_only_rebuilds_the_same_index(shards):
    with open(osp.join(shards, 'index.json')) as f:
        packed = json.load(f)
    run_script(['tools/dataset_converters/rgbt_pairs_to_tar.py', '--index-only',
                *sorted(glob.glob(osp.join(shards, '*.tar'))), '--out-dir', shards], REPO)
    with open(osp.join(shards, 'index.json')) as f:
        assert json.load(f) == packed


def test_mirrored_roots_pack_every_image_suffix(tmp_path):
    """Without a pair list every visible image is packed, whatever its suffix and letter case (or the chosen ones)."""
    names = ['a.jpg', 'b.jpeg', 'c.bmp', 'd.JPEG', 'e.png', 'f.tif']
    for name in names:
        for sub in ('visible', 'infrared'):
            path = tmp_path / 'root' / sub / 's' / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(f'{sub} {name}'.encode())
    log = run_script(['tools/dataset_converters/rgbt_pairs_to_tar.py', str(tmp_path / 'root'), '--out-dir',
                      str(tmp_path / 'all')], REPO)
    assert '6 pairs in 1 shards' in log, log
    with open(tmp_path / 'all' / 'index.json') as f:
        assert [entry[0] for entry in json.load(f)['shards'][0]['pairs']] == [f's/{n[0]}' for n in names]
    log = run_script(['tools/dataset_converters/rgbt_pairs_to_tar.py', str(tmp_path / 'root'), '--out-dir',
                      str(tmp_path / 'jpeg'), '--img-suffix', '.jpg', '.jpeg'], REPO)
    assert '3 pairs in 1 shards' in log, log  # a.jpg, b.jpeg, d.JPEG


def _datasets(synthetic_root, shards, pipeline):
    register_all_modules('pretrain')
    from mmpretrain.registry import DATASETS
    folders = DATASETS.build(dict(type='RGBTPairDataset', data_root=osp.join(synthetic_root, 'pretrain'),
                                  ann_file='annotations/pairs_train.txt', pipeline=copy.deepcopy(pipeline)))
    tars = DATASETS.build(dict(type='RGBTTarPairDataset', data_root=shards, ann_file='index.json',
                               pipeline=copy.deepcopy(pipeline)))
    return folders, tars


def test_same_samples_as_folders(synthetic_root, shards):
    pipeline = Config.fromfile(osp.join(REPO, PRE_CFG)).train_dataloader.dataset.pipeline
    folders, tars = _datasets(synthetic_root, shards, pipeline)
    assert len(folders) == len(tars) == 64
    for idx in (0, 17, 63):
        np.random.seed(idx)
        a = folders[idx]
        np.random.seed(idx)
        b = tars[idx]
        assert torch.equal(a['inputs'], b['inputs'])
        rel = osp.relpath(a['data_samples'].img_path, osp.join(synthetic_root, 'pretrain', 'visible'))
        assert osp.splitext(rel)[0] == b['data_samples'].img_path.split('.tar/')[1].split('.rgb.')[0]


def test_broken_shards_are_reported_at_load(synthetic_root, shards, tmp_path):
    broken = str(tmp_path / 'broken')
    shutil.copytree(shards, broken)
    shard = osp.join(broken, 'pairs-00001.tar')
    with open(shard, 'r+b') as f:
        f.truncate(osp.getsize(shard) // 3)
    with pytest.raises(ValueError, match=r"truncated shard .*pairs-00001\.tar.*key '(day|night)/\d+'"):
        _datasets(synthetic_root, broken, [])


class _FirstBatch(Hook):

    def __init__(self):
        self.inputs, self.paths = None, None

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if self.inputs is None:
            self.inputs = data_batch['inputs'].clone()
            self.paths = [s.img_path for s in data_batch['data_samples']]


def _train_first_batch(cfg_path, work_dir, name, dataset=None):
    from mmengine.runner import Runner
    cfg = Config.fromfile(cfg_path)
    cfg.work_dir, cfg.experiment_name = work_dir, name
    cfg.train_cfg.max_epochs = 1
    cfg.default_hooks.logger.interval = 1
    cfg.train_dataloader.dataset = dict(dataset, indices=32)  # one epoch = 2 iterations of 16 pairs
    runner = Runner.from_cfg(cfg)
    hook = _FirstBatch()
    runner.register_hook(hook)
    runner.train()
    return hook, runner.message_hub.get_scalar('train/loss').current()


def test_training_from_shards_sees_the_folders_first_batch(synthetic_root, shards, tmp_path):
    cfg_path = osp.join(REPO, PRE_CFG)
    pipeline = Config.fromfile(cfg_path).train_dataloader.dataset.pipeline
    folders = dict(type='RGBTPairDataset', data_root=osp.join(synthetic_root, 'pretrain') + '/',
                   ann_file='annotations/pairs_train.txt', pipeline=pipeline)
    tars = dict(type='RGBTTarPairDataset', data_root=shards + '/', ann_file='index.json', pipeline=pipeline)
    first_folders, loss_folders = _train_first_batch(cfg_path, str(tmp_path / 'folders'), 'folders', folders)
    first_tars, loss_tars = _train_first_batch(cfg_path, str(tmp_path / 'tars'), 'tars', tars)
    assert first_folders.inputs.shape == (16, 6, 96, 96)
    assert torch.equal(first_folders.inputs, first_tars.inputs)
    keys = [osp.splitext(p.split('/pretrain/visible/')[1])[0] for p in first_folders.paths]
    assert keys == [p.split('.tar/')[1].split('.rgb.')[0] for p in first_tars.paths]
    assert np.isfinite(loss_folders) and np.isfinite(loss_tars)
