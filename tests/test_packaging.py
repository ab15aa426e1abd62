# Copyright (c) mmspecgene contributors. All rights reserved.
"""mim finds mmspecgene's tools and configs by basename from any working directory."""
import os
import os.path as osp
import re
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


def test_only_tests_import_mmspecgene_testing():
    """``mmspecgene.testing`` holds test fixtures: the package proper, tools and demos never import it."""
    repo = osp.dirname(osp.dirname(osp.abspath(__file__)))
    pattern = re.compile(r'^\s*(from\s+(mmspecgene\.testing|mmspecgene\s+import\s+testing|\.+testing)\b|'
                         r'import\s+mmspecgene\.testing)', re.M)
    offenders = []
    for top in ('mmspecgene', 'tools', 'demo'):
        for root, _, files in os.walk(osp.join(repo, top)):
            if osp.join(repo, 'mmspecgene', 'testing') in root:
                continue
            for name in files:
                if name.endswith('.py'):
                    with open(osp.join(root, name), encoding='utf-8') as f:
                        if pattern.search(f.read()):
                            offenders.append(osp.relpath(osp.join(root, name), repo))
    assert offenders == []
