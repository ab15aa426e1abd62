# Copyright (c) mmspecgene contributors. All rights reserved.
"""RGBTMAEDecoder: docs/en/method.md#checkpoint-layouts key layout, cross-attention math, parallel cross-attention,
sin-cos positions."""
import math

import numpy as np
import pytest
import torch

from mmspecgene.models.mae_decoder import CrossAttentionBlock, RGBTMAEDecoder


def released_neck_layout():
    """docs/en/method.md#checkpoint-layouts neck table (ViT-B dims), released names -> shapes."""
    layout = {}
    for suffix in ('', '2'):
        layout[f'mask_token{suffix}'] = (1, 1, 512)
        layout[f'decoder_pos_embed{suffix}'] = (1, 197, 512)
        layout[f'decoder_embed{suffix}.weight'] = (512, 768)
        layout[f'decoder_embed{suffix}.bias'] = (512, )
        blocks = [f'decoder_blocks{suffix}.{j}' for j in range(4)]
        for prefix in blocks + [f'cross_attention{suffix}']:
            for norm in ('ln1', 'ln2'):
                layout[f'{prefix}.{norm}.weight'] = (512, )
                layout[f'{prefix}.{norm}.bias'] = (512, )
            layout[f'{prefix}.attn.proj.weight'] = (512, 512)
            layout[f'{prefix}.attn.proj.bias'] = (512, )
            layout[f'{prefix}.ffn.layers.0.0.weight'] = (2048, 512)
            layout[f'{prefix}.ffn.layers.0.0.bias'] = (2048, )
            layout[f'{prefix}.ffn.layers.1.weight'] = (512, 2048)
            layout[f'{prefix}.ffn.layers.1.bias'] = (512, )
        for prefix in blocks:
            layout[f'{prefix}.attn.qkv.weight'] = (1536, 512)
            layout[f'{prefix}.attn.qkv.bias'] = (1536, )
        for name in ('q', 'k', 'v'):
            layout[f'cross_attention{suffix}.attn.{name}.weight'] = (512, 512)
        layout[f'cross_attention{suffix}.attn.q_bias'] = (512, )
        layout[f'cross_attention{suffix}.attn.v_bias'] = (512, )
        layout[f'decoder_pred{suffix}.weight'] = (768, 512)
        layout[f'decoder_pred{suffix}.bias'] = (768, )
    layout['ln1.weight'] = (512, )
    layout['ln1.bias'] = (512, )
    return layout


def to_mmspecgene_name(name: str) -> str:
    """docs/en/method.md#checkpoint-layouts mapping: unsuffixed = thermal, suffix 2 = RGB; ln1 -> norm."""
    if name.startswith('ln1.'):
        return 'norm.' + name[len('ln1.'):]
    head, _, rest = name.partition('.')
    modality = 'rgb' if head.endswith('2') else 'thermal'
    base = head[:-1] if head.endswith('2') else head
    new = dict(
        mask_token='mask_token',
        decoder_pos_embed='pos_embed',
        decoder_embed='embed',
        decoder_blocks='blocks',
        cross_attention='cross_attn',
        decoder_pred='pred')[base]
    return f'{modality}.{new}' + (f'.{rest}' if rest else '')


def test_vit_b_layout_matches_spec():
    neck = RGBTMAEDecoder()
    actual = {k: tuple(v.shape) for k, v in neck.state_dict().items()}
    expected = {to_mmspecgene_name(k): v for k, v in released_neck_layout().items()}
    assert len(expected) == len(released_neck_layout()) == 140  # docs/en/method.md#checkpoint-layouts: 140 neck tensors
    assert actual == expected
    # fixed positions are not trained, everything else is
    assert not neck.rgb.pos_embed.requires_grad and not neck.thermal.pos_embed.requires_grad
    assert neck.thermal.cross_attn.attn.q_bias.requires_grad
    assert 'thermal.cross_attn.attn.k.bias' not in actual


def test_separate_norms_layout():
    neck = RGBTMAEDecoder(shared_decoder_norm=False)
    keys = set(neck.state_dict())
    assert 'norm.weight' not in keys
    for modality in ('rgb', 'thermal'):
        assert {f'{modality}.norm.weight', f'{modality}.norm.bias'} <= keys
    shared = set(RGBTMAEDecoder().state_dict())
    assert keys - shared == {f'{m}.norm.{p}' for m in ('rgb', 'thermal') for p in ('weight', 'bias')}
    assert shared - keys == {'norm.weight', 'norm.bias'}


def reference_cross_block(block: CrossAttentionBlock, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Direct evaluation of docs/en/method.md#pretraining-model from the block's parameters (float64)."""
    sd = {k: v.double() for k, v in block.state_dict().items()}
    x, y = x.double(), y.double()

    def layer_norm(t, name):
        mean = t.mean(-1, keepdim=True)
        var = ((t - mean)**2).mean(-1, keepdim=True)
        return (t - mean) / torch.sqrt(var + 1e-6) * sd[f'{name}.weight'] + sd[f'{name}.bias']

    heads = block.attn.num_heads
    qn, kvn = layer_norm(x, 'ln1'), layer_norm(y, 'ln1')
    q = qn @ sd['attn.q.weight'].T + sd['attn.q_bias']
    k = kvn @ sd['attn.k.weight'].T
    v = kvn @ sd['attn.v.weight'].T + sd['attn.v_bias']
    B, N, C = q.shape
    d = C // heads
    out = torch.zeros_like(q)
    for h in range(heads):
        sl = slice(h * d, (h + 1) * d)
        logits = q[..., sl] @ k[..., sl].transpose(1, 2) / math.sqrt(d)
        out[..., sl] = torch.softmax(logits, dim=-1) @ v[..., sl]
    x = x + out @ sd['attn.proj.weight'].T + sd['attn.proj.bias']
    hidden = layer_norm(x, 'ln2') @ sd['ffn.layers.0.0.weight'].T + sd['ffn.layers.0.0.bias']
    hidden = torch.nn.functional.gelu(hidden)
    return x + hidden @ sd['ffn.layers.1.weight'].T + sd['ffn.layers.1.bias']


def test_cross_attention_matches_reference():
    torch.manual_seed(0)
    block = CrossAttentionBlock(32, num_heads=4)
    with torch.no_grad():
        for p in block.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
    x, y = torch.randn(2, 5, 32), torch.randn(2, 7, 32)
    out = block(x, y)
    assert out.shape == (2, 5, 32)
    torch.testing.assert_close(out.double(), reference_cross_block(block, x, y), atol=1e-5, rtol=1e-5)
    # the key/value stream matters, and the key bias is fixed at zero (not a parameter)
    assert not torch.allclose(out, block(x, torch.randn(2, 7, 32)))
    assert 'attn.k.bias' not in block.state_dict()


def tiny_decoder(**kwargs):
    cfg = dict(num_patches=16, patch_size=4, embed_dim=24, decoder_embed_dim=32, decoder_depth=2,
               decoder_num_heads=4)
    cfg.update(kwargs)
    decoder = RGBTMAEDecoder(**cfg)
    decoder.init_weights()
    return decoder


def random_restore(batch, length, keep, generator):
    ids_shuffle = torch.argsort(torch.rand(batch, length, generator=generator), dim=1)
    return torch.argsort(ids_shuffle, dim=1), ids_shuffle[:, :keep]


def test_parallel_cross_attention_reads_pre_cross_tokens():
    torch.manual_seed(1)
    decoder = tiny_decoder()
    gen = torch.Generator().manual_seed(0)
    restore_rgb, _ = random_restore(2, 16, 5, gen)
    restore_thermal, _ = random_restore(2, 16, 3, gen)
    latents = dict(rgb=torch.randn(2, 6, 24), thermal=torch.randn(2, 4, 24))
    ids_restore = dict(rgb=restore_rgb, thermal=restore_thermal)
    seen = {}

    def record(name):
        def hook(module, args, output):
            seen[name] = (args[0].detach().clone(), args[1].detach().clone(), output.detach().clone())
        return hook

    decoder.rgb.cross_attn.register_forward_hook(record('rgb'))
    decoder.thermal.cross_attn.register_forward_hook(record('thermal'))
    preds = decoder(latents, ids_restore)
    assert preds['rgb'].shape == preds['thermal'].shape == (2, 16, 4 * 4 * 3)
    pre_rgb = decoder.rgb.restore_tokens(latents['rgb'], restore_rgb)
    pre_thermal = decoder.thermal.restore_tokens(latents['thermal'], restore_thermal)
    # query = own pre-cross tokens, key/value = the other's pre-cross tokens (never the other's output)
    torch.testing.assert_close(seen['rgb'][0], pre_rgb)
    torch.testing.assert_close(seen['rgb'][1], pre_thermal)
    torch.testing.assert_close(seen['thermal'][0], pre_thermal)
    torch.testing.assert_close(seen['thermal'][1], pre_rgb)
    assert not torch.allclose(seen['thermal'][1], seen['rgb'][2])
    # the full forward equals the parallel composition
    with torch.no_grad():
        crossed_rgb = decoder.rgb.cross_attn(pre_rgb, pre_thermal)
        expected_rgb = decoder.rgb.pred(decoder.norm(decoder.rgb.run_blocks(crossed_rgb)))[:, 1:]
    torch.testing.assert_close(preds['rgb'].detach(), expected_rgb)


def test_restore_tokens_places_visible_tokens():
    decoder = tiny_decoder()
    gen = torch.Generator().manual_seed(3)
    ids_restore, ids_keep = random_restore(2, 16, 4, gen)
    latent = torch.randn(2, 5, 24)
    tokens = decoder.rgb.restore_tokens(latent, ids_restore) - decoder.rgb.pos_embed
    embedded = decoder.rgb.embed(latent)
    torch.testing.assert_close(tokens[:, 0], embedded[:, 0])
    for b in range(2):
        torch.testing.assert_close(tokens[b, 1 + ids_keep[b]], embedded[b, 1:])
        masked = torch.ones(16, dtype=torch.bool)
        masked[ids_keep[b]] = False
        torch.testing.assert_close(tokens[b, 1:][masked], decoder.rgb.mask_token[0].expand(12, -1))


def sincos_reference(h, w, dims):
    """docs/en/method.md#pretraining-model: [sin(u w_d), cos(u w_d), sin(v w_d), cos(v w_d)], u = row, v = column, cls
    row 0."""
    nf = dims // 4
    table = np.zeros((1 + h * w, dims))
    for token in range(h * w):
        u, v = token // w, token % w
        for d in range(nf):
            omega = 1e4**(-d / nf)
            table[1 + token, d] = math.sin(u * omega)
            table[1 + token, nf + d] = math.cos(u * omega)
            table[1 + token, 2 * nf + d] = math.sin(v * omega)
            table[1 + token, 3 * nf + d] = math.cos(v * omega)
    return torch.from_numpy(table).float()[None]


@pytest.mark.parametrize('grid,dims', [((14, 14), 512), ((3, 5), 32)])
def test_decoder_pos_embed_formula(grid, dims):
    decoder = RGBTMAEDecoder(num_patches=grid, patch_size=4, embed_dim=24, decoder_embed_dim=dims,
                             decoder_depth=1, decoder_num_heads=4)
    decoder.init_weights()
    expected = sincos_reference(*grid, dims)
    for modality in ('rgb', 'thermal'):
        torch.testing.assert_close(getattr(decoder, modality).pos_embed.data, expected, atol=1e-6, rtol=0)


def test_bad_inputs_raise():
    decoder = tiny_decoder()
    with pytest.raises(KeyError, match='thermal'):
        decoder(dict(rgb=torch.randn(1, 3, 24)), dict(rgb=torch.arange(16)[None]))
    with pytest.raises(ValueError, match='ids_restore has 9 tokens'):
        decoder.rgb.restore_tokens(torch.randn(1, 3, 24), torch.arange(9)[None])
    with pytest.raises(ValueError, match='not a square'):
        RGBTMAEDecoder(num_patches=15)


def test_plain_decoder_has_no_cross_attention_and_decodes_each_modality_alone():
    from mmspecgene.models.mae_decoder import RGBTMAEPlainDecoder
    kwargs = dict(num_patches=16, patch_size=4, embed_dim=32, decoder_embed_dim=16, decoder_depth=1,
                  decoder_num_heads=2)
    torch.manual_seed(0)
    plain = RGBTMAEPlainDecoder(**kwargs)
    plain.init_weights()
    crossed = RGBTMAEDecoder(**kwargs)
    assert not any('cross_attn' in key for key in plain.state_dict())
    assert set(plain.state_dict()) == {key for key in crossed.state_dict() if '.cross_attn.' not in key}
    generator = torch.Generator().manual_seed(1)
    latents = {m: torch.randn(2, 1 + 5, 32, generator=generator) for m in ('rgb', 'thermal')}
    ids_restore = {m: torch.stack([torch.randperm(16, generator=generator) for _ in range(2)])
                   for m in ('rgb', 'thermal')}
    preds = plain(latents, ids_restore)
    assert preds['rgb'].shape == preds['thermal'].shape == (2, 16, 4 * 4 * 3)
    # the RGB prediction does not depend on the thermal latents (and vice versa for the cross decoder it does)
    other = dict(latents, thermal=torch.randn(2, 1 + 5, 32, generator=generator))
    torch.testing.assert_close(plain(other, ids_restore)['rgb'], preds['rgb'])
    crossed.init_weights()
    assert not torch.allclose(crossed(other, ids_restore)['rgb'], crossed(latents, ids_restore)['rgb'])
