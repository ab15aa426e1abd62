# Copyright (c) mmspecgene contributors. All rights reserved.
"""Distributed set-up shared by tools/train.py and tools/test.py (CUDA/NCCL or CPU/gloo)."""
import os
import shutil
import subprocess

import torch
from mmengine.logging import print_log

#: environment a launcher must provide (torchrun's variables), read by ``init_process_group('env://')``
_PYTORCH_ENV = ('RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
_DEFAULT_PORT = '29500'


def _require_env(launcher: str, names, how: str) -> None:
    missing = [name for name in names if name not in os.environ]
    if missing:
        raise RuntimeError(f'launcher={launcher!r} but {", ".join(missing)} missing from the environment; {how}')


def _slurm_master_addr() -> str:
    """The first host of the job's node list (``scontrol show hostnames``), as mmengine's slurm set-up does."""
    nodelist = next((os.environ[k] for k in ('SLURM_STEP_NODELIST', 'SLURM_JOB_NODELIST', 'SLURM_NODELIST')
                     if os.environ.get(k)), None)
    if nodelist is None:
        raise RuntimeError('launcher=slurm: no SLURM_NODELIST to take MASTER_ADDR from; set MASTER_ADDR')
    if shutil.which('scontrol'):
        hosts = subprocess.run(['scontrol', 'show', 'hostnames', nodelist], capture_output=True, text=True,
                               check=False).stdout.split()
        if hosts:
            return hosts[0]
    if not any(c in nodelist for c in '[],'):
        return nodelist  # a single node
    raise RuntimeError(f'launcher=slurm: cannot expand SLURM_NODELIST={nodelist!r} without scontrol; '
                       'set MASTER_ADDR')


def export_launcher_env(launcher: str) -> None:
    """Check (pytorch) or fill in (slurm, mpi) the ``env://`` variables of a CPU process group.

    ``pytorch`` needs torchrun's ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT``;
    ``slurm`` derives them from ``SLURM_PROCID``/``SLURM_NTASKS``/``SLURM_LOCALID`` and the first host of the
    node list; ``mpi`` from Open MPI's ``OMPI_COMM_WORLD_*`` and a given ``MASTER_ADDR``. ``MASTER_PORT`` defaults to
    29500 for slurm and mpi. Variables already set are kept.
    """
    if launcher == 'pytorch':
        _require_env(launcher, _PYTORCH_ENV, 'start with tools/dist_train.sh (torchrun)')
        return
    if launcher == 'slurm':
        _require_env(launcher, ('SLURM_PROCID', 'SLURM_NTASKS'), 'start with tools/slurm_train.sh (srun)')
        os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
        os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
        os.environ.setdefault('LOCAL_RANK', os.environ.get('SLURM_LOCALID', '0'))
        os.environ.setdefault('MASTER_PORT', _DEFAULT_PORT)
        if 'MASTER_ADDR' not in os.environ:
            os.environ['MASTER_ADDR'] = _slurm_master_addr()
        return
    if launcher == 'mpi':
        _require_env(launcher, ('OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE', 'MASTER_ADDR'),
                     'start with mpirun (Open MPI) and set MASTER_ADDR')
        os.environ.setdefault('RANK', os.environ['OMPI_COMM_WORLD_RANK'])
        os.environ.setdefault('WORLD_SIZE', os.environ['OMPI_COMM_WORLD_SIZE'])
        os.environ.setdefault('LOCAL_RANK', os.environ.get('OMPI_COMM_WORLD_LOCAL_RANK', '0'))
        os.environ.setdefault('MASTER_PORT', _DEFAULT_PORT)
        return
    raise ValueError(f'unknown launcher {launcher!r}, expected none, pytorch, slurm or mpi')


def prepare_distributed(cfg, launcher: str) -> None:
    """Adapt ``cfg`` for ``launcher`` and, on CPU, initialise a gloo process group up front.

    On CPU (no CUDA) mmengine would pass ``device_ids=[rank]`` to DDP and call
    ``torch.cuda.set_device``; both fail. We switch the backend to gloo, give DDP ``device_ids=None``
    and initialise the process group (:func:`export_launcher_env`) before the Runner so that it skips its own
    ``init_dist``.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return
    if not torch.distributed.is_initialized():
        export_launcher_env(launcher)
    env_cfg = dict(cfg.get('env_cfg') or {})
    env_cfg['dist_cfg'] = dict(env_cfg.get('dist_cfg') or {}, backend='gloo')
    cfg.env_cfg = env_cfg
    wrapper = dict(cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel'))
    wrapper['device_ids'] = None
    wrapper.setdefault('find_unused_parameters', cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg = wrapper
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend='gloo')
    # mmengine's wrap_model reads LOCAL_RANK for DDP's device_ids (None here); a group the caller initialised
    # may not have set it
    os.environ.setdefault('LOCAL_RANK', str(torch.distributed.get_rank()))
    print_log(f'CPU distributed run: gloo, rank {torch.distributed.get_rank()}/'
              f'{torch.distributed.get_world_size()}', logger='current')


def fp32_without_cuda(cfg) -> None:
    """AmpOptimWrapper refuses to run without CUDA: fall back to fp32 and say so."""
    optim_wrapper = cfg.get('optim_wrapper')
    if optim_wrapper and optim_wrapper.get('type') == 'AmpOptimWrapper' and not torch.cuda.is_available():
        print_log('CUDA is not available: AmpOptimWrapper replaced by OptimWrapper (fp32)', logger='current',
                  level=30)
        optim_wrapper['type'] = 'OptimWrapper'
        optim_wrapper.pop('loss_scale', None)
        optim_wrapper.pop('dtype', None)
