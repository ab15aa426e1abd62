# Copyright (c) mmspecgene contributors. All rights reserved.
"""Run command-line scripts (``tools/...``, ``demo/...``) from tests: in-process as modules, or as subprocesses."""
import importlib.util
import os
import os.path as osp
import subprocess
import sys
from types import ModuleType
from typing import Dict, Optional, Sequence, Union


def load_script(path: Union[str, os.PathLike], name: Optional[str] = None) -> ModuleType:
    """Execute the script at ``path`` as a fresh module named ``name`` (default: the file's stem)."""
    path = str(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'load_script: no script at {path}')
    spec = importlib.util.spec_from_file_location(name or osp.splitext(osp.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(args: Sequence[str], cwd: str, env: Optional[Dict[str, str]] = None) -> str:
    """Run ``python *args`` in ``cwd`` (also put on ``PYTHONPATH``) and return its stdout + stderr.

    Fails the calling test with the command and the tails of both streams when the exit status is not 0.
    """
    full_env = dict(os.environ, PYTHONPATH=cwd, **(env or {}))
    command = [sys.executable, *map(str, args)]
    proc = subprocess.run(command, cwd=cwd, env=full_env, capture_output=True, text=True)
    assert proc.returncode == 0, f'{" ".join(command)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}'
    return proc.stdout + proc.stderr
