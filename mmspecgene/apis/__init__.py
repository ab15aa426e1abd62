# Copyright (c) mmspecgene contributors. All rights reserved.
from .inference import inference_rgbt, init_rgbt_model

__all__ = ['init_rgbt_model', 'inference_rgbt']
