# Copyright (c) mmspecgene contributors. All rights reserved.
"""BEiT relative position bias of the shared attention on its build grid and on other grids."""
import pytest
import torch

from mmspecgene.models.layers.attention import (
    MultiheadSelfAttention,
    beit_relative_position_index,
    resize_beit_bias_table,
)


def bias_attention(window=(3, 4), heads=2):
    torch.manual_seed(0)
    attn = MultiheadSelfAttention(8, heads, rel_pos='bias', rel_pos_size=window)
    torch.nn.init.normal_(attn.relative_position_bias_table)
    return attn


def test_resize_keeps_cls_entries_and_constant_tables():
    heads = 2
    table = torch.cat([torch.full((5 * 7, heads), 0.25), torch.tensor([[1., 2.], [3., 4.], [5., 6.]])])
    resized = resize_beit_bias_table(table, (3, 4), (5, 2))
    assert resized.shape == (9 * 3 + 3, heads)
    torch.testing.assert_close(resized[:-3], torch.full((27, heads), 0.25))
    torch.testing.assert_close(resized[-3:], table[-3:])
    assert resize_beit_bias_table(table, (3, 4), (3, 4)) is table
    with pytest.raises(ValueError, match='4x4 grid has 52 rows'):
        resize_beit_bias_table(table, (4, 4), (2, 2))


def test_bias_on_build_grid_is_the_stored_table():
    attn = bias_attention()
    stored = attn._beit_bias(13)
    torch.testing.assert_close(attn._beit_bias(13, (3, 4)), stored)
    expected = attn.relative_position_bias_table[beit_relative_position_index((3, 4))].permute(2, 0, 1)
    torch.testing.assert_close(stored[0], expected)


def test_bias_on_another_grid_uses_the_resized_table_and_new_index():
    attn = bias_attention()
    bias = attn._beit_bias(6 * 8 + 1, (6, 8))
    table = resize_beit_bias_table(attn.relative_position_bias_table, (3, 4), (6, 8))
    expected = table[beit_relative_position_index((6, 8))].permute(2, 0, 1)
    torch.testing.assert_close(bias[0], expected)
    # the cls rows/columns keep the learnt cls entries
    torch.testing.assert_close(bias[0, :, 0, 0], attn.relative_position_bias_table[-1])
    torch.testing.assert_close(bias[0, :, 0, 5], attn.relative_position_bias_table[-3])
    out = attn(torch.randn(2, 49, 8), (6, 8))
    assert out.shape == (2, 49, 8)


def test_token_count_must_match_the_grid():
    attn = bias_attention()
    with pytest.raises(ValueError, match=r'3x4 grid needs 13 tokens'):
        attn._beit_bias(17)
    with pytest.raises(ValueError, match=r'6x8 grid needs 49 tokens'):
        attn(torch.randn(1, 48, 8), (6, 8))
