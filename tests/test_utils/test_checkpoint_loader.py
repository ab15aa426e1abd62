# Copyright (c) mmspecgene contributors. All rights reserved.
"""The allow-list checkpoint loader: crafted pickles are refused without side effects, the opt-in loads them,
and mmengine's resume, ``load_from`` and ``init_cfg=Pretrained`` still load runner checkpoints through it."""
import argparse
import builtins
import os
import pickle

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import CheckpointLoader, Runner, load_checkpoint
from torch.utils.data import Dataset

from mmspecgene.testing import checkpoint_layouts as cl
from mmspecgene.utils import checkpoint_loader
from mmspecgene.utils.checkpoint_loader import (
    TRUST_ENV,
    UnsafeCheckpointError,
    add_trust_checkpoint_code_argument,
    load_checkpoint_file,
    load_from_local_allowlisted,
    register_local_checkpoint_loader,
)


class WritesFile:
    """Unpickling calls ``builtins.exec``, which writes ``marker`` (stands for any code a pickle can run)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return builtins.exec, (f'open({self.marker!r}, "w").write("ran")', )


class RunsShell:
    """Unpickling calls ``os.system`` (``posix.system``)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


class ReachesPrivateAttribute:
    """Unpickling calls ``getattr(HistoryBuffer, '__init__')``: getattr on an allowed class, but no public method."""

    def __reduce__(self):
        return getattr, (HistoryBuffer, '__init__')


class Toy(BaseModel):

    def __init__(self, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.fc = nn.Linear(2, 1)
        self.bn = nn.BatchNorm1d(1)

    def forward(self, x, mode='loss'):
        out = self.bn(self.fc(x))  # x: (B, 2)
        return dict(loss=out.pow(2).mean()) if mode == 'loss' else [out]


class Points(Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, index):
        return dict(x=torch.randn(2, generator=torch.Generator().manual_seed(index)))


def make_runner(work_dir, max_epochs, **kwargs):
    return Runner(
        model=Toy(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=Points(), batch_size=4, sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.01)),
        param_scheduler=dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=3),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        randomness=dict(seed=0),
        **kwargs)


@pytest.fixture(scope='module')
def runner_checkpoint(tmp_path_factory):
    """A checkpoint written by a real mmengine runner (message hub HistoryBuffers, numpy RNG state, scheduler)."""
    register_local_checkpoint_loader()
    work_dir = tmp_path_factory.mktemp('first_run')
    make_runner(work_dir, max_epochs=1).train()
    return str(work_dir / 'epoch_1.pth')


@pytest.fixture
def loads(monkeypatch):
    """Records the files the registered mmengine scheme loads."""
    register_local_checkpoint_loader()
    seen = []
    original = checkpoint_loader.load_checkpoint_file

    def recording(filename, *args, **kwargs):
        seen.append(str(filename))
        return original(filename, *args, **kwargs)

    monkeypatch.setattr(checkpoint_loader, 'load_checkpoint_file', recording)
    return seen


@pytest.mark.parametrize('payload,global_name', [
    (WritesFile, 'builtins.exec'),
    (RunsShell, 'posix.system'),
    (ReachesPrivateAttribute, "builtins.getattr(HistoryBuffer, '__init__')"),
])
def test_code_running_pickle_is_refused_naming_file_and_global(tmp_path, monkeypatch, payload, global_name):
    monkeypatch.delenv(TRUST_ENV, raising=False)
    marker = tmp_path / 'marker'
    path = tmp_path / 'crafted.pth'
    obj = payload() if payload is ReachesPrivateAttribute else payload(marker)
    torch.save(dict(state_dict=dict(w=torch.zeros(2)), meta=dict(x=obj)), path)
    with pytest.raises(UnsafeCheckpointError) as info:
        load_checkpoint_file(path)
    assert str(path) in str(info.value) and global_name in str(info.value)
    assert '--trust-checkpoint-code' in str(info.value)
    # the same through mmengine (load_from / init_cfg=Pretrained / resume all end in this call)
    register_local_checkpoint_loader()
    with pytest.raises(UnsafeCheckpointError, match=global_name.replace('(', r'\(').replace(')', r'\)')):
        load_checkpoint(Toy(), str(path), map_location='cpu')
    assert not marker.exists()
    assert isinstance(info.value, pickle.UnpicklingError)


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
def test_refusals_name_the_global_in_both_file_formats(tmp_path, monkeypatch, legacy):
    """The refusal names the global (not torch's advice text), also in the pre-1.6 file format."""
    monkeypatch.delenv(TRUST_ENV, raising=False)
    cases = {
        'shell': (dict(meta=RunsShell(tmp_path / 'marker')), 'system', 'not on the allow-list'),
        'object': (dict(meta=np.array([1, 'a'], dtype=object)), 'numpy.dtypes.ObjectDType', 'dtype object'),
        'void': (dict(meta=np.zeros(2, dtype=[('a', 'i4'), ('b', 'f4')])), 'numpy.dtypes.VoidDType',
                 'structured (void) dtype'),
    }
    for name, (obj, global_name, reason) in cases.items():
        path = tmp_path / f'{name}.pth'
        torch.save(dict(state_dict=dict(w=torch.zeros(2)), **obj), path, _use_new_zipfile_serialization=not legacy)
        with pytest.raises(UnsafeCheckpointError) as info:
            load_checkpoint_file(path)
        message = str(info.value)
        assert f'{path}: its pickle needs ' in message and global_name in message and reason in message, message
        assert not any(text in message for text in ('Unsupported global', 'Can only build', 'Weights only')), message
    assert not (tmp_path / 'marker').exists()


def test_opt_in_loads_the_crafted_file(tmp_path, monkeypatch):
    marker = tmp_path / 'marker'
    path = tmp_path / 'crafted.pth'
    torch.save(dict(state_dict=dict(w=torch.zeros(2)), meta=dict(x=WritesFile(marker))), path)
    assert set(load_checkpoint_file(path, trust_code=True)) == {'state_dict', 'meta'}
    assert marker.read_text() == 'ran'  # the opt-in really unpickles everything
    marker.unlink()

    monkeypatch.setenv(TRUST_ENV, '0')  # restored when the test ends
    parser = argparse.ArgumentParser()
    add_trust_checkpoint_code_argument(parser)
    assert parser.parse_args([]).trust_checkpoint_code is False and os.environ[TRUST_ENV] == '0'
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint_file(path)
    assert parser.parse_args(['--trust-checkpoint-code']).trust_checkpoint_code is True
    assert os.environ[TRUST_ENV] == '1'
    register_local_checkpoint_loader()
    load_checkpoint(Toy(), str(path), map_location='cpu')  # mmengine's load_from path, trusted by the env var
    assert marker.exists()


def test_runner_checkpoint_loads_with_its_history_buffers(runner_checkpoint):
    ckpt = load_checkpoint_file(runner_checkpoint)
    assert {'meta', 'state_dict', 'optimizer', 'message_hub', 'param_schedulers'} <= set(ckpt)
    loss = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(loss, HistoryBuffer) and len(loss.data[0]) == 2 and np.isfinite(loss.mean())


def test_mmengine_resume_goes_through_the_allow_list(runner_checkpoint, tmp_path, loads):
    runner = make_runner(tmp_path, max_epochs=2, load_from=runner_checkpoint, resume=True)
    runner.train()
    assert loads == [runner_checkpoint]
    assert runner.epoch == 2 and runner.iter == 4
    # the resumed message hub continues the first run's loss history
    assert len(runner.message_hub.get_scalar('train/loss').data[0]) == 4


def test_load_from_and_pretrained_init(runner_checkpoint, tmp_path, loads):
    saved = load_checkpoint_file(runner_checkpoint)['state_dict']
    runner = make_runner(tmp_path, max_epochs=1, load_from=runner_checkpoint)
    runner.load_or_resume()
    assert all(torch.equal(v, saved[k]) for k, v in runner.model.state_dict().items())
    model = Toy(init_cfg=dict(type='Pretrained', checkpoint=runner_checkpoint))
    model.init_weights()
    assert all(torch.equal(v, saved[k]) for k, v in model.state_dict().items())
    assert loads == [runner_checkpoint, runner_checkpoint]


def test_scheme_is_mmengines_local_loader():
    register_local_checkpoint_loader()
    assert CheckpointLoader._get_checkpoint_loader('work_dirs/x/epoch_1.pth') is load_from_local_allowlisted
    assert CheckpointLoader._get_checkpoint_loader('https://host/x.pth') is not load_from_local_allowlisted


def test_released_layouts_and_numpy1_names(tmp_path):
    """Released-layout files load; so do arrays pickled under numpy 1 (``numpy.core.multiarray``)."""
    released = cl.released_pretrain_checkpoint(arch='tiny', img_size=96, decoder=dict(embed_dims=64, depth=1))
    released['meta']['seed'] = np.int64(7)
    released['meta']['rng'] = np.arange(3, dtype=np.uint32)
    path = tmp_path / 'released.pth'
    torch.save(released, path, _use_new_zipfile_serialization=False)  # plain pickle stream: names editable
    data = path.read_bytes()
    assert data.count(b'cnumpy._core.multiarray\n') >= 2
    path.write_bytes(data.replace(b'cnumpy._core.multiarray\n', b'cnumpy.core.multiarray\n'))
    loaded = load_checkpoint_file(path)
    assert loaded['meta']['seed'] == 7 and loaded['meta']['rng'].tolist() == [0, 1, 2]
    assert all(torch.equal(loaded['state_dict'][k], v) for k, v in released['state_dict'].items())
    for name, ckpt in [('det', cl.det_transform_checkpoint(arch='tiny')),
                       ('seg', cl.seg_transform_checkpoint(arch='tiny')),
                       ('seg_ft', cl.seg_finetuned_checkpoint(2, arch='tiny', img_size=64, channels=16, aux_channels=16,
                                                                 with_optimizer=True))]:
        torch.save(ckpt, tmp_path / f'{name}.pth')
        assert load_checkpoint_file(tmp_path / f'{name}.pth').keys() == ckpt.keys()
