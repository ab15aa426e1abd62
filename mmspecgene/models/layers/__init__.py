# Copyright (c) mmspecgene contributors. All rights reserved.
from .attention import MultiheadSelfAttention, beit_relative_position_index
from .norm import SpecGeneLN2d
from .pos_embed import resize_pos_embed_grid, sincos_pos_embed_2d
from .transformer import DropPath, FeedForward, TransformerBlock

__all__ = [
    'MultiheadSelfAttention', 'beit_relative_position_index', 'resize_pos_embed_grid', 'sincos_pos_embed_2d',
    'DropPath', 'FeedForward', 'TransformerBlock', 'SpecGeneLN2d'
]
