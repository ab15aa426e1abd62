# Copyright (c) mmspecgene contributors. All rights reserved.
"""mim finds mmspecgene's tools and configs by basename from any working directory."""
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def test_mim_finds_configs_and_tools(tmp_path):
    pytest.importorskip('mim')
    code = ('from mim.utils.utils import get_installed_path, recursively_find\n'
            'import os.path as osp\n'
            "root = get_installed_path('mmspecgene')\n"
            "print(osp.exists(osp.join(root, '.mim', 'tools', 'train.py')))\n"
            "print(len(recursively_find(root, 'vitdet_mask-rcnn_rgbt-vit-tiny_1xb4-400i_synthetic.py', "
            'followlinks=True)))\n')
    out = subprocess.run([sys.executable, '-c', code], cwd=str(tmp_path), capture_output=True, text=True,
                         env=dict(os.environ, PYTHONWARNINGS='ignore'))
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ['True', '1'], out.stdout
