# Copyright (c) mmspecgene contributors. All rights reserved.
"""Distributed set-up shared by tools/train.py and tools/test.py (CUDA/NCCL or CPU/gloo)."""
import os

import torch
from mmengine.logging import print_log


def prepare_distributed(cfg, launcher: str) -> None:
    """Adapt ``cfg`` for ``launcher`` and, on CPU, initialise a gloo process group up front.

    On CPU (no CUDA) mmengine would pass ``device_ids=[rank]`` to DDP and call
    ``torch.cuda.set_device``; both fail. We switch the backend to gloo, give DDP ``device_ids=None``
    and initialise the process group before the Runner so that it skips its own ``init_dist``.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return
    if 'LOCAL_RANK' not in os.environ and 'RANK' not in os.environ:
        raise RuntimeError(f'launcher={launcher!r} but no RANK/LOCAL_RANK in the environment; start with '
                           f'tools/dist_train.sh (torchrun) or slurm')
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = dict(cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel'))
    wrapper['device_ids'] = None
    wrapper.setdefault('find_unused_parameters', cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg = wrapper
    if not torch.distributed.is_initialized():
        if launcher == 'slurm':
            os.environ.setdefault('RANK', os.environ.get('SLURM_PROCID', '0'))
            os.environ.setdefault('WORLD_SIZE', os.environ.get('SLURM_NTASKS', '1'))
            os.environ.setdefault('LOCAL_RANK', os.environ.get('SLURM_LOCALID', '0'))
        torch.distributed.init_process_group(backend='gloo')
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
