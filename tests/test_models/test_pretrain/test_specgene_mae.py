# Copyright (c) mmspecgene contributors. All rights reserved.
"""SpecGeneMAE / RGBTMAEViT in mmpretrain: layout, masked and feature paths, training, log vars."""
import math

import numpy as np
import pytest
import torch

pytest.importorskip('mmpretrain')
from mmengine.logging import MessageHub  # noqa: E402
from mmengine.optim import OptimWrapper  # noqa: E402
from mmpretrain.registry import MODELS  # noqa: E402

import mmspecgene.pretrain  # noqa: E402,F401  (registers everything into mmpretrain)
from mmspecgene.pretrain.algorithms import RGBTMAEViT, SpecGeneMAE  # noqa: E402

STATISTICS_KEYS = (['mask/keep_rgb', 'mask/keep_thermal', 'mask/ratio_rgb', 'mask/ratio_thermal', 'mask/overlap',
                   'curr/tick', 'curr/keep_bias', 'curr/centre_bias', 'curr/num_centres', 'curr/loss_ema_rgb',
                   'curr/loss_ema_thermal', 'curr/loss_gap'] +
                  [f'curr/centre_{k}' for k in range(3)] +
                  [f'gmm/{name}_{k}' for name in ('mean', 'var', 'weight') for k in range(3)] +
                  [f'cmss/{name}' for name in ('raw_max', 'mean', 'std', 'p05', 'p50', 'p95', 'nonfinite')])


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    """Tiny models run fastest on one thread (the test machine is shared)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_cfg(masker='GMMCMSSMasking', img_size=64, patch_size=8):
    num_patches = (img_size // patch_size)**2
    return dict(
        type='SpecGeneMAE',
        data_preprocessor=dict(
            type='RGBTSelfSupDataPreprocessor',
            mean=[123.675, 116.28, 103.53] * 2,
            std=[58.395, 57.12, 57.375] * 2,
            to_rgb=(True, True)),
        backbone=dict(
            type='RGBTMAEViT',
            arch='tiny',
            img_size=img_size,
            patch_size=patch_size,
            masker=dict(type=masker, mask_ratio=0.75) if masker == 'RandomRGBTMasking' else dict(
                type=masker, mask_ratio=0.75, max_mask_ratio=0.8)),
        neck=dict(
            type='RGBTMAEDecoder',
            num_patches=num_patches,
            patch_size=patch_size,
            embed_dim=192,
            decoder_embed_dim=64,
            decoder_depth=2,
            decoder_num_heads=4),
        head=dict(type='RGBTMAEHead', patch_size=patch_size))


def build_tiny(**kwargs):
    torch.manual_seed(0)
    model = MODELS.build(tiny_cfg(**kwargs))
    model.init_weights()
    return model


def smooth_batch(batch=2, size=64, seed=0):
    """Normalised-looking (B, 6, H, W) images with low-frequency structure."""
    gen = torch.Generator().manual_seed(seed)
    coarse = torch.randn(batch, 6, 4, 4, generator=gen)
    return torch.nn.functional.interpolate(coarse, size=(size, size), mode='bilinear', align_corners=False)


def set_progress(model, cur_iter, max_iters, max_epochs=2):
    """What RGBTMaskingHook does before each iteration in a runner."""
    model.masker.set_progress(cur_iter, max_iters, max_epochs=max_epochs)


def test_registered_in_mmpretrain():
    for name in ('SpecGeneMAE', 'RGBTMAEViT', 'RGBTMAEDecoder', 'RGBTMAEHead', 'GMMCMSSMasking',
                 'ReleasedGMMCMSSMasking', 'RandomRGBTMasking'):
        assert MODELS.get(name) is not None, name
    assert MODELS.get('SpecGeneMAE') is SpecGeneMAE


def test_vit_b_backbone_layout():
    backbone = RGBTMAEViT(arch='base', masker=dict(type='GMMCMSSMasking'))
    state = backbone.state_dict()
    params = {k: tuple(v.shape) for k, v in state.items() if not k.startswith('masker.')}
    expected = {
        'cls_token': (1, 1, 768),
        'pos_embed': (1, 197, 768),
        'patch_embed.projection.weight': (768, 3, 16, 16),
        'patch_embed.projection.bias': (768, ),
        'ln1.weight': (768, ),
        'ln1.bias': (768, ),
    }
    for i in range(12):
        for norm in ('ln1', 'ln2'):
            expected[f'layers.{i}.{norm}.weight'] = expected[f'layers.{i}.{norm}.bias'] = (768, )
        expected.update({
            f'layers.{i}.attn.qkv.weight': (2304, 768),
            f'layers.{i}.attn.qkv.bias': (2304, ),
            f'layers.{i}.attn.proj.weight': (768, 768),
            f'layers.{i}.attn.proj.bias': (768, ),
            f'layers.{i}.ffn.layers.0.0.weight': (3072, 768),
            f'layers.{i}.ffn.layers.0.0.bias': (3072, ),
            f'layers.{i}.ffn.layers.1.weight': (768, 3072),
            f'layers.{i}.ffn.layers.1.bias': (768, ),
        })
    assert params == expected and len(params) == 150
    assert not backbone.pos_embed.requires_grad
    # fixed sin-cos positions (docs/en/method.md#pretraining-model): [sin(u w), cos(u w), sin(v w), cos(v w)], u = row,
    # v = column
    backbone.init_weights()
    grid = np.arange(196)
    omega = 1e4**(-np.arange(192) / 192)
    u, v = (grid // 14)[:, None] * omega, (grid % 14)[:, None] * omega
    table = np.concatenate([np.zeros((1, 768)), np.concatenate([np.sin(u), np.cos(u), np.sin(v), np.cos(v)], 1)])
    torch.testing.assert_close(backbone.pos_embed.data[0], torch.from_numpy(table).float(), atol=1e-6, rtol=0)
    # the masker adds only its curriculum buffers (no parameters)
    assert not any(name.startswith('masker.') for name, _ in backbone.named_parameters())
    assert {k[len('masker.'):] for k in state if k.startswith('masker.')} == set(
        backbone.masker.state_buffer_names())


def test_masked_forward_shapes_and_gather():
    model = build_tiny()
    set_progress(model, 0, 10)
    x = smooth_batch()
    latents, masks, ids_restore = model.backbone(x)
    keep = model.masker.keep_counts
    for modality in ('rgb', 'thermal'):
        assert latents[modality].shape == (2, 1 + keep[modality], 192)
        assert masks[modality].shape == ids_restore[modality].shape == (2, 64)
        assert (masks[modality] == 0).sum(dim=1).tolist() == [keep[modality]] * 2
    # visible sets are disjoint between modalities (docs/en/method.md#the-released-algorithm item 5)
    assert ((1 - masks['rgb']) * (1 - masks['thermal'])).sum() == 0
    # the encoder ran on exactly the kept tokens (one 2B batch == per-modality runs)
    set_progress(model, 1, 10)
    latents, masking = model.backbone.forward_masked(x)
    tokens = model.backbone.embed_tokens(x)
    visible = {m: torch.gather(tokens[m], 1, masking[f'{m}_ids_keep'][..., None].expand(-1, -1, 192))
               for m in ('rgb', 'thermal')}
    for modality in ('rgb', 'thermal'):
        single, _ = model.backbone.run_layers(model.backbone.prepend_cls(visible[modality]))
        torch.testing.assert_close(latents[modality], model.backbone.norm(single), atol=1e-5, rtol=1e-5)


def test_extract_feat_per_sample_and_modality_order():
    model = build_tiny()
    model.eval()
    x = smooth_batch(seed=1)
    with torch.no_grad():
        feats = model.extract_feat(x)
        single = model.extract_feat(x[:1])
        swapped = model(torch.cat([x[:, 3:], x[:, :3]], dim=1), mode='tensor')
    for modality in ('rgb', 'thermal'):
        assert feats[modality].shape == (2, 1 + 64, 192)
        torch.testing.assert_close(feats[modality][:1], single[modality], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(feats['rgb'], swapped['thermal'], atol=1e-5, rtol=1e-5)
    assert not torch.allclose(feats['rgb'], feats['thermal'])


def test_training_steps_decrease_loss_and_statistics():
    model = build_tiny()
    model.train()
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3))
    uint8 = (smooth_batch(seed=2) * 40 + 128).clamp(0, 255).to(torch.uint8)
    data = dict(inputs=uint8, data_samples=None)
    steps = 14
    history = []
    for step in range(steps):
        set_progress(model, step, steps, max_epochs=2)
        log_vars = model.train_step(data, optim)
        history.append(float(log_vars['loss'].detach()))
    assert sum(history[-3:]) < sum(history[:3])
    assert set(log_vars) == {'loss', 'loss_rgb', 'loss_thermal'}  # losses only
    assert model.masker.tick.item() == 2  # E = max_epochs = 2 ticks over the run
    # every statistic is there; inactive centres are NaN, everything else finite
    statistics = model.masker.statistics()
    assert set(statistics) == set(STATISTICS_KEYS)
    num_centres = int(statistics['curr/num_centres'])
    for key, value in statistics.items():
        inactive = key.startswith('curr/centre_') and key != 'curr/centre_bias' and int(key[-1]) >= num_centres
        value = float(value.detach())
        assert math.isnan(value) if inactive else math.isfinite(value), key
    assert float(statistics['mask/overlap']) == 0


def test_loss_dict_holds_the_two_losses_only():
    model = build_tiny()
    set_progress(model, 0, 5)
    x = smooth_batch(seed=3)
    losses = model.loss(x, None)
    assert set(losses) == {'loss_rgb', 'loss_thermal'}
    assert losses['loss_rgb'].requires_grad and losses['loss_thermal'].requires_grad
    assert 'parse_losses' not in vars(SpecGeneMAE)  # mmengine's own sum of the loss terms
    total, log_vars = model.parse_losses(losses)
    torch.testing.assert_close(total, losses['loss_rgb'] + losses['loss_thermal'])
    assert list(log_vars) == ['loss', 'loss_rgb', 'loss_thermal']
    # the masker got the detached losses of this iteration (EMA initialised with them)
    torch.testing.assert_close(model.masker.loss_ema_rgb.float(), losses['loss_rgb'].detach())


def test_masked_loss_needs_progress_outside_runner():
    model = build_tiny()
    MessageHub.get_instance(f'test_specgene_mae_empty_{id(model)}')  # a fresh (current) hub, no runtime info
    with pytest.raises(RuntimeError, match='set_progress'):
        model.loss(smooth_batch(), None)


def _ddp_masker_worker(rank, world_size, out_dir):
    """Three steps of DDP training per masker, then a feature forward; every rank saves its masker state."""
    from mmengine.model import MMDistributedDataParallel
    states = {}
    for name, masker in (('released', 'ReleasedGMMCMSSMasking'), ('released_broadcast', 'ReleasedGMMCMSSMasking'),
                         ('clean', 'GMMCMSSMasking')):
        model = build_tiny(masker=masker)
        if name == 'released_broadcast':  # what DDP does to the per-GPU state without SpecGeneMAE's ignore list
            del model._ddp_params_and_buffers_to_ignore
        wrapped = MMDistributedDataParallel(model, device_ids=None)  # broadcast_buffers=True, DDP's default
        optim = OptimWrapper(torch.optim.SGD(wrapped.parameters(), lr=1e-3))
        for step in range(3):
            model.masker.set_progress(step, 3, max_epochs=1)
            uint8 = (smooth_batch(seed=10 * rank + step) * 40 + 128).clamp(0, 255).to(torch.uint8)
            wrapped.train_step(dict(inputs=uint8, data_samples=None), optim)
        wrapped(smooth_batch(), mode='tensor')  # a forward without masking: DDP broadcasts what it broadcasts
        states[name] = {key: value.clone() for key, value in model.masker.state_dict().items()}
    torch.save(states, f'{out_dir}/rank{rank}.pth')


def test_released_masker_keeps_per_rank_state_under_ddp(tmp_path):
    """2 gloo ranks: the released masker's per-GPU GMM survives DDP's buffer broadcast, with no user flag."""
    from mmspecgene.testing.distributed import run_gloo
    model = build_tiny(masker='ReleasedGMMCMSSMasking')
    assert set(model._ddp_params_and_buffers_to_ignore) == {
        f'backbone.masker.{name}' for name in model.masker.state_buffer_names()}
    assert not hasattr(build_tiny(), '_ddp_params_and_buffers_to_ignore')  # clean: one state, broadcast is harmless
    run_gloo(_ddp_masker_worker, 2, str(tmp_path))
    ranks = [torch.load(tmp_path / f'rank{rank}.pth', weights_only=True) for rank in range(2)]
    assert not torch.equal(ranks[0]['released']['gmm_mean'], ranks[1]['released']['gmm_mean'])
    assert int(ranks[0]['released']['num_calls']) == int(ranks[1]['released']['num_calls']) == 3
    # Control: with the broadcast, rank 1 would run on rank 0's GMM (the test can fail).
    assert torch.equal(ranks[0]['released_broadcast']['gmm_mean'], ranks[1]['released_broadcast']['gmm_mean'])
    for key, value in ranks[0]['clean'].items():  # the clean masker is rank-consistent by construction
        assert torch.equal(value, ranks[1]['clean'][key]), key


@pytest.mark.parametrize('masker', [None, dict(type='GMMCMSSMasking')])
def test_pretrained_init_cfg_loads_the_encoder_with_or_without_masker(tmp_path, masker):
    """A ``Pretrained`` init (continued pretraining) loads the encoder and keeps the masker's start state."""
    source = RGBTMAEViT(arch='tiny', img_size=64, patch_size=8)
    source.init_weights()
    path = str(tmp_path / 'encoder.pth')
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in source.state_dict().items()}}, path)
    target = RGBTMAEViT(arch='tiny', img_size=64, patch_size=8, masker=masker,
                        init_cfg=dict(type='Pretrained', checkpoint=path))
    start = {k: v.clone() for k, v in target.state_dict().items() if k.startswith('masker.')}
    assert bool(start) == (masker is not None)
    target.init_weights()
    for key, value in source.state_dict().items():
        torch.testing.assert_close(target.state_dict()[key], value, msg=key)
    for key, value in start.items():
        torch.testing.assert_close(target.state_dict()[key], value, msg=key)


def test_pretrained_init_cfg_still_rejects_missing_encoder_keys(tmp_path):
    """Only the masker may be missing: a checkpoint without an encoder block fails loudly."""
    source = RGBTMAEViT(arch='tiny', img_size=64, patch_size=8)
    state = {f'backbone.{k}': v for k, v in source.state_dict().items() if not k.startswith('layers.1.')}
    path = str(tmp_path / 'encoder.pth')
    torch.save({'state_dict': state}, path)
    target = RGBTMAEViT(arch='tiny', img_size=64, patch_size=8, masker=dict(type='GMMCMSSMasking'),
                        init_cfg=dict(type='Pretrained', checkpoint=path))
    with pytest.raises(Exception, match=r'layers\.1\.'):
        target.init_weights()
