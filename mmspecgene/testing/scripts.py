# Copyright (c) mmspecgene contributors. All rights reserved.
"""Import a command-line script (``tools/...``, ``demo/...``) as a module, to test its functions in-process."""
import importlib.util
import os
import os.path as osp
from types import ModuleType
from typing import Optional, Union


def load_script(path: Union[str, os.PathLike], name: Optional[str] = None) -> ModuleType:
    """Execute the script at ``path`` as a fresh module named ``name`` (default: the file's stem)."""
    path = str(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'load_script: no script at {path}')
    spec = importlib.util.spec_from_file_location(name or osp.splitext(osp.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
