# Copyright (c) mmspecgene contributors. All rights reserved.
from .setup_env import TASK_SCOPES, register_all_modules, scope_of_config

__all__ = ['TASK_SCOPES', 'register_all_modules', 'scope_of_config']
