# Copyright (c) mmspecgene contributors. All rights reserved.
import pytest


@pytest.fixture(autouse=True)
def _mmspecgene_scope():
    """Matching modules live in the mmspecgene scope; the root conftest clears the scope after each test."""
    from mmspecgene.utils import register_all_modules
    register_all_modules('match')
