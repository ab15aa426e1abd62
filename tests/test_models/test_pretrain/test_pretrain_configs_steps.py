# Copyright (c) mmspecgene contributors. All rights reserved.
"""Every pretraining config runs a train step and a test (feature) step on synthetic pairs (B = 2).

For each config under configs/pretrain/: the input size is shrunk to ``SMALL_SIZE`` (backbone ``img_size``, the
masker's and the decoder's token count, the crop of the train pipeline: settings of the size, not of the
architecture), the model is built under the mmpretrain scope, the config's own train pipeline loads two synthetic
pairs, and ``model.train_step`` runs the config preprocessor, GMM-CMSS masking, both reconstruction losses,
backward and a step of the config's layer-decay optimizer. The test step is the feature path
(``mode='tensor'``: the encoder on both full modalities); in eval mode the B = 2 features equal the B = 1
features. ViT-L configs (24 blocks) run with --runslow only (tests/test_configs.py builds them by default).
"""
import copy
import glob
import os.path as osp

import pytest
import torch

pytest.importorskip('mmpretrain', reason='mmpretrain is not installed')

from mmengine.config import Config  # noqa: E402
from mmengine.dataset import Compose, default_collate  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from mmengine.runner import set_random_seed  # noqa: E402

from mmspecgene.testing.config_utils import is_large_config  # noqa: E402
from mmspecgene.utils import register_all_modules  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
PRETRAIN_CONFIGS = sorted(  # the RGBT (SpecGeneMAE) configs; configs/pretrain/mae/ holds stock single-modality MAEs
    f for f in glob.glob(osp.join(REPO, 'configs', 'pretrain', 'specgene', '*.py')))
SMALL_SIZE = 64  # 4 x 4 tokens of 16 x 16 pixels


def shrink_pretrain_config(cfg, size):
    """Run the model and the train crop at ``size`` (in place); returns the token count."""
    backbone = cfg.model.backbone
    patch = backbone.get('patch_size', 16)
    num_tokens = (size // patch)**2
    backbone.img_size = size
    backbone.masker.num_tokens = num_tokens
    cfg.model.neck.num_patches = num_tokens
    crops = [s for s in cfg.train_dataloader.dataset.pipeline
             if s['type'] in ('RGBTRandomResizedCrop', 'LoadRGBTRandomResizedCrop')]
    assert len(crops) == 1, cfg.train_dataloader.dataset.pipeline
    crops[0].scale = size
    return num_tokens


def synthetic_pairs(root, num=2):
    rgb = sorted(glob.glob(osp.join(root, 'pretrain', 'visible', '**', '*.jpg'), recursive=True))[:num]
    assert len(rgb) == num, root
    return [dict(img_path=p, ir_path=p.replace(osp.join('pretrain', 'visible'), osp.join('pretrain', 'infrared')))
            for p in rgb]


def test_pretrain_family_configs_found():
    names = [osp.basename(f) for f in PRETRAIN_CONFIGS]
    for arch in ('small', 'base', 'large'):
        assert any(n.startswith(f'specgene_vit-{arch}-p16_') for n in names), (arch, names)


@pytest.mark.parametrize('path', [
    pytest.param(f, id=osp.basename(f), marks=[pytest.mark.slow] if is_large_config(f) else [])
    for f in PRETRAIN_CONFIGS
])
def test_pretrain_config_train_and_test_step(path, synthetic_root):
    register_all_modules('pretrain', init_default_scope=False)
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(path)
    num_tokens = shrink_pretrain_config(cfg, SMALL_SIZE)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        set_random_seed(0)
        model = MODELS.build(copy.deepcopy(cfg.model))
        model.init_weights()
        pipeline = Compose(copy.deepcopy(cfg.train_dataloader.dataset.pipeline))
        batch = default_collate([pipeline(pair) for pair in synthetic_pairs(synthetic_root)])
        assert batch['inputs'].shape == (2, 6, SMALL_SIZE, SMALL_SIZE)

        # ---- train step: preprocessor + masking + losses + backward + layer-decay optimizer step (B = 2)
        optim_cfg = copy.deepcopy(cfg.optim_wrapper)
        if optim_cfg.type == 'AmpOptimWrapper':  # AMP needs CUDA
            optim_cfg.type = 'OptimWrapper'
            optim_cfg.pop('loss_scale', None)
        optim_wrapper = build_optim_wrapper(model, optim_cfg)
        model.backbone.masker.set_progress(0, 10, 2)  # what RGBTMaskingHook does before each iteration
        last = model.backbone.num_layers - 1
        watched = ['backbone.patch_embed.projection.weight', f'backbone.layers.{last}.attn.qkv.weight',
                   'neck.rgb.embed.weight', 'neck.thermal.pred.weight']
        params = dict(model.named_parameters())
        before = {k: params[k].detach().clone() for k in watched}
        model.train()
        log_vars = model.train_step(batch, optim_wrapper)
        for key in ('loss', 'loss_rgb', 'loss_thermal'):
            assert torch.isfinite(torch.as_tensor(log_vars[key])), (key, log_vars[key])
        for key in watched:
            assert not torch.equal(params[key], before[key]), f'{key} was not updated by the train step'

        # ---- test step: unmasked features of both modalities, per sample equal to B = 1
        model.eval()
        with torch.no_grad():
            inputs = model.data_preprocessor(batch, False)['inputs']
            feats = model(inputs, mode='tensor')
            single = model(inputs[1:], mode='tensor')
        dims = model.backbone.embed_dims
        for modality in ('rgb', 'thermal'):
            assert feats[modality].shape == (2, 1 + num_tokens, dims)
            assert torch.isfinite(feats[modality]).all()
            torch.testing.assert_close(single[modality][0], feats[modality][1], rtol=1e-4, atol=1e-4)
        assert not torch.allclose(feats['rgb'], feats['thermal'])
