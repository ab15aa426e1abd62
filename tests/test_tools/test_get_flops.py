# Copyright (c) mmspecgene contributors. All rights reserved.
"""tools/analysis_tools/get_flops.py: parameters and FLOPs of RGBT configs with a 6-channel input."""
import os.path as osp

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmspecgene.testing.scripts import load_script

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'get_flops.py')
SEG_TINY = osp.join(REPO, 'configs', 'seg', 'upernet', 'upernet_rgbt-vit-tiny_1xb4-400i_synthetic.py')
DET_TINY = osp.join(REPO, 'configs', 'det', 'vitdet', 'vitdet_mask-rcnn_rgbt-vit-tiny_1xb4-400i_synthetic.py')
PRETRAIN_TINY = osp.join(REPO, 'configs', 'pretrain', 'specgene', 'specgene_vit-tiny-p16_1xb16-30e_synthetic.py')
MATCH_TINY = osp.join(REPO, 'configs', 'match', 'loftr', 'loftr_rgbt-vit-tiny_1xb4-3000i_synthetic.py')


@pytest.fixture(scope='module')
def tool():
    return load_script(TOOL, 'get_flops')


def vit_flops(num_layers, dims, tokens_per_modality, num_patches, patch=16, mlp_ratio=4):
    """Analytic FLOPs (1 multiply-add = 1) of a plain ViT over both modalities of one pair: patch embedding,
    qkv / proj / MLP linears, q k^T and attn v, two LayerNorms (5 per element, mmengine's count) per block."""
    n, total = tokens_per_modality, 2 * tokens_per_modality
    patch_embed = 2 * num_patches * dims * 3 * patch * patch
    linears = total * (4 * dims * dims + 2 * mlp_ratio * dims * dims)
    attention = 2 * n * n * 2 * dims
    norms = 2 * 5 * total * dims
    return patch_embed + num_layers * (linears + attention + norms)


class ExplicitAttention(nn.Module):

    def forward(self, q, k, v):
        return (q @ k.transpose(-2, -1)).softmax(-1) @ v


class FusedAttention(nn.Module):

    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v)


def test_sdpa_counted_like_explicit_attention(tool):
    from mmengine.analysis import FlopAnalyzer
    q, k, v = torch.randn(2, 3, 5, 8), torch.randn(2, 3, 7, 8), torch.randn(2, 3, 7, 4)
    explicit = FlopAnalyzer(ExplicitAttention(), (q, k, v)).unsupported_ops_warnings(False).total()
    assert explicit == 2 * 3 * 5 * 7 * (8 + 4)
    fused = FlopAnalyzer(FusedAttention(), (q, k, v)).unsupported_ops_warnings(False)
    assert fused.total() == 0  # mmengine alone does not count it
    assert fused.set_op_handle(**{tool.SDPA_OP: tool.sdpa_flop_jit}).total() == explicit


def test_seg_config_matches_the_analytic_vit(tool, capsys):
    result = tool.main([SEG_TINY, '--shape', '64'])
    out = capsys.readouterr().out
    assert 'task: seg, arch: tiny, input: (1, 6, 64, 64)' in out
    row = result['rows']['test forward']
    backbone_params, backbone_flops = row['parts']['backbone']
    # tiny: 4 blocks of 192; 64 x 64 -> 4 x 4 patches + cls per modality
    assert backbone_flops == vit_flops(4, 192, 17, 16)
    # mmseg calls decode_head.forward directly: its resizes are counted outside the parts
    assert set(row['parts']) == {'backbone', 'neck', 'decode_head', 'auxiliary_head', tool.OTHER_PART}
    assert row['parts']['auxiliary_head'][1] == 0  # not run at test time
    assert row['flops'] == sum(flops for _, flops in row['parts'].values())
    assert 'aten::scaled_dot_product_attention' not in row['uncounted']

    # the parameters of the model the config builds at that size; FLOPs at the config's own size
    import copy

    from mmengine.config import Config
    cfg = Config.fromfile(SEG_TINY)
    at_64 = copy.deepcopy(cfg)
    assert tool.set_input_shape(at_64, 'seg', [64]) == (64, 64)
    model = tool.build_model(at_64, 'seg')
    assert row['params'] == sum(p.numel() for p in model.parameters())
    assert backbone_params == sum(p.numel() for p in model.backbone.parameters())
    default = tool.measure(cfg)
    assert default['shape'] == (128, 128)
    assert default['rows']['test forward']['parts']['backbone'][1] == vit_flops(4, 192, 65, 64)


def test_det_and_pretrain_configs(tool, capsys):
    det = tool.main([DET_TINY])
    out = capsys.readouterr().out
    assert 'task: det, arch: tiny, input: (1, 6, 160, 160)' in out and 'not counted:' in out
    row = det['rows']['test forward']
    assert {'backbone', 'neck', 'rpn_head', 'roi_head'} <= set(row['parts'])
    assert all(flops > 0 for _, flops in row['parts'].values())

    pretrain = tool.main([PRETRAIN_TINY])
    encoder, train = pretrain['rows'].values()
    assert list(pretrain['rows'])[1] == 'train forward (mask ratio 0.75)'
    # the encoder row: the plain ViT with a final norm; 96 x 96 -> 36 patches + cls per modality
    assert encoder['parts']['backbone'][1] == vit_flops(4, 192, 37, 36) + 5 * 2 * 37 * 192
    assert encoder['parts']['neck'][1] == 0  # the decoder does not run here
    # training forward: the encoder sees 25% of the tokens (9 + cls), the decoder reconstructs all 36
    assert train['parts']['backbone'][1] < encoder['parts']['backbone'][1] / 2
    assert train['parts']['neck'][1] > 0


def test_bad_shape(tool):
    with pytest.raises(ValueError, match='multiples of the patch size 16'):
        tool.main([SEG_TINY, '--shape', '100', '96'])


def test_match_config(tool, capsys):
    match = tool.main([MATCH_TINY])  # the test pairs' 160 x 128 (w x h)
    assert 'task: match, arch: tiny, input: (1, 6, 128, 160)' in capsys.readouterr().out
    parts = match['rows']['test forward']['parts']
    # the ViT runs on both modalities of the 8 x 10 grid (no cls token), the fine branch on every pair
    assert parts['backbone'][1] > vit_flops(4, 192, 80, 80) - 1
    assert parts['coarse_transformer'][1] > 0 and parts['fine_branch'][1] > 0
    # no coarse match at all: the fine branch still runs (and is counted), as in every real forward
    none = tool.main([MATCH_TINY, '--cfg-options', 'model.match_thr=1.0'])['rows']['test forward']['parts']
    assert none['fine_branch'][1] == parts['fine_branch'][1]


def test_cfg_options_typos_warn_or_fail(tool):
    with pytest.raises(KeyError, match=r"'model.backbone.arhc' is not in the config.*did you mean 'model.backbone"):
        tool.main([SEG_TINY, '--cfg-options', 'model.backbone.arhc=small', '--strict-cfg-options'])
