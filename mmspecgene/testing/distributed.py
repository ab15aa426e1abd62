# Copyright (c) mmspecgene contributors. All rights reserved.
"""Run a test function in several CPU processes joined by a gloo process group."""
import importlib
import os.path as osp
import socket
import sys
from typing import Callable

import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _gloo_entry(rank: int, world_size: int, port: int, module_name: str, function_name: str, args: tuple) -> None:
    torch.set_num_threads(1)
    torch_dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=world_size)
    try:
        getattr(importlib.import_module(module_name), function_name)(rank, world_size, *args)
    finally:
        torch_dist.destroy_process_group()


def run_gloo(worker: Callable, world_size: int, *args) -> None:
    """Call ``worker(rank, world_size, *args)`` in ``world_size`` spawned processes with a gloo group initialised.

    ``worker`` must be a module-level function; spawned children import its module by name, so the folder of that
    module goes on ``sys.path`` first (they inherit it), whatever pytest's import mode. A failure in any rank
    raises here.
    """
    module = sys.modules[worker.__module__]
    folder = osp.dirname(osp.abspath(module.__file__))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    mp.spawn(_gloo_entry, args=(world_size, _free_port(), worker.__module__, worker.__name__, args), nprocs=world_size,
             join=True)
