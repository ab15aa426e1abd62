# Copyright (c) mmspecgene contributors. All rights reserved.
"""Launcher environments of CPU distributed runs (tools/train.py, tools/test.py)."""
import os
import socket
import subprocess
import sys

import pytest

from mmspecgene.utils import dist
from mmspecgene.utils.dist import export_launcher_env

LAUNCH_VARS = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT', 'SLURM_PROCID', 'SLURM_NTASKS',
               'SLURM_LOCALID', 'SLURM_NODELIST', 'SLURM_JOB_NODELIST', 'SLURM_STEP_NODELIST',
               'OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE', 'OMPI_COMM_WORLD_LOCAL_RANK')
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def clean_env(monkeypatch):
    """No launcher variables; whatever the test (or the code under test) sets is undone afterwards."""
    saved = dict(os.environ)
    for name in LAUNCH_VARS:
        monkeypatch.delenv(name, raising=False)
    yield monkeypatch
    os.environ.clear()
    os.environ.update(saved)


def test_pytorch_launcher_names_the_missing_torchrun_variables(clean_env):
    clean_env.setenv('LOCAL_RANK', '0')  # set by the legacy --local-rank argument, not enough alone
    with pytest.raises(RuntimeError, match='RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT missing.*torchrun'):
        export_launcher_env('pytorch')
    for name, value in dict(RANK='1', WORLD_SIZE='2', MASTER_ADDR='10.0.0.1', MASTER_PORT='1234').items():
        clean_env.setenv(name, value)
    export_launcher_env('pytorch')
    assert os.environ['MASTER_PORT'] == '1234'


def test_slurm_launcher_fills_the_process_group_variables(clean_env):
    clean_env.setattr(dist.shutil, 'which', lambda name: None)  # no scontrol on this machine
    with pytest.raises(RuntimeError, match='SLURM_PROCID, SLURM_NTASKS missing'):
        export_launcher_env('slurm')
    clean_env.setenv('SLURM_PROCID', '3')
    clean_env.setenv('SLURM_NTASKS', '4')
    clean_env.setenv('SLURM_LOCALID', '1')
    clean_env.setenv('SLURM_NODELIST', 'gpu[01-02]')
    with pytest.raises(RuntimeError, match=r"SLURM_NODELIST='gpu\[01-02\]' without scontrol; set MASTER_ADDR"):
        export_launcher_env('slurm')
    clean_env.setenv('SLURM_NODELIST', 'gpu01')
    export_launcher_env('slurm')
    assert [os.environ[k] for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT')] == \
        ['3', '4', '1', 'gpu01', '29500']


def test_mpi_launcher_needs_a_master_address(clean_env):
    clean_env.setenv('OMPI_COMM_WORLD_RANK', '0')
    clean_env.setenv('OMPI_COMM_WORLD_SIZE', '2')
    with pytest.raises(RuntimeError, match='MASTER_ADDR missing'):
        export_launcher_env('mpi')
    clean_env.setenv('MASTER_ADDR', 'head')
    export_launcher_env('mpi')
    assert (os.environ['RANK'], os.environ['WORLD_SIZE'], os.environ['MASTER_PORT']) == ('0', '2', '29500')


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _run(code, env):
    return subprocess.run([sys.executable, '-c', code], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=300)


def test_single_task_slurm_run_initialises_gloo():
    """``srun -n1 python tools/train.py --launcher slurm`` on a CPU node: the process group starts."""
    env = {k: v for k, v in os.environ.items() if k not in LAUNCH_VARS}
    env.update(SLURM_PROCID='0', SLURM_NTASKS='1', SLURM_NODELIST='127.0.0.1', MASTER_PORT=str(_free_port()),
               CUDA_VISIBLE_DEVICES='')
    code = ('import torch; from mmengine.config import Config; '
            'from mmspecgene.utils.dist import prepare_distributed; '
            'cfg = Config({}); prepare_distributed(cfg, "slurm"); '
            'print(torch.distributed.get_rank(), torch.distributed.get_world_size(), '
            'cfg["env_cfg"]["dist_cfg"]["backend"])')
    done = _run(code, env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-3:] == ['0', '1', 'gloo']


def test_train_tool_without_torchrun_says_how_to_start():
    env = {k: v for k, v in os.environ.items() if k not in LAUNCH_VARS}
    env['CUDA_VISIBLE_DEVICES'] = ''
    done = subprocess.run([sys.executable, 'tools/train.py',
                           'configs/pretrain/specgene/specgene_vit-tiny-p16_1xb16-30e_synthetic.py', '--launcher',
                           'pytorch'],
                          env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert 'RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT missing' in done.stderr
