# Copyright (c) mmspecgene contributors. All rights reserved.
import os.path as osp

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHARED_DATA = osp.join(REPO_ROOT, '..', 'shared', 'data')


def pytest_addoption(parser):
    parser.addoption('--runslow', action='store_true', default=False, help='run the slow end-to-end tests')


def pytest_collection_modifyitems(config, items):
    if config.getoption('--runslow'):
        return
    skip_slow = pytest.mark.skip(reason='slow end-to-end test: run with --runslow (make test-all)')
    for item in items:
        if 'slow' in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture(autouse=True)
def _clear_default_scope():
    """mmengine's DefaultScope is a process-wide singleton: do not let one test's scope leak into another."""
    yield
    try:
        from mmengine.registry import DefaultScope
    except ImportError:
        return
    DefaultScope._instance_dict.clear()


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory):
    """Small synthetic RGBT datasets in every layout, generated once per test session."""
    from mmspecgene.datasets.synthetic import make_all
    root = tmp_path_factory.mktemp('synthetic')
    make_all(str(root), seed=0)
    return str(root)


@pytest.fixture(scope='session')
def camera_root(tmp_path_factory):
    """A few frames per task at real camera sizes (1280x1024, 640x512) with 3-channel grey thermal; the 1280x1024
    pretraining pair has a 640x512 thermal image. Det/SOD: 1 train + 2 test, seg: 1 train + 2 val, pretrain: 3."""
    from mmspecgene.datasets.synthetic import make_all
    root = tmp_path_factory.mktemp('synthetic_camera')
    make_all(str(root), num_pretrain=3, num_train=1, num_test=2, seed=1, camera_frames=2)
    return str(root)
