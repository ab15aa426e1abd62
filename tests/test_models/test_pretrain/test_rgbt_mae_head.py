# Copyright (c) mmspecgene contributors. All rights reserved.
"""RGBTMAEHead: patchify order, norm-pix target and masked loss against direct formulas
(docs/en/method.md#pretraining-model)."""
import numpy as np
import pytest
import torch

from mmspecgene.models.mae_head import RGBTMAEHead


def direct_target(img: np.ndarray, p: int) -> np.ndarray:
    """(C, H, W) -> (L, p*p*C), patch vector index (pi * p + qi) * C + c, unbiased norm-pix, eps 1e-6."""
    C, H, W = img.shape
    h, w = H // p, W // p
    out = np.zeros((h * w, p * p * C))
    for hi in range(h):
        for wi in range(w):
            for pi in range(p):
                for qi in range(p):
                    for c in range(C):
                        out[hi * w + wi, (pi * p + qi) * C + c] = img[c, hi * p + pi, wi * p + qi]
    mean = out.mean(axis=1, keepdims=True)
    var = out.var(axis=1, ddof=1, keepdims=True)
    return (out - mean) / np.sqrt(var + 1e-6)


def direct_loss(pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    per_patch = ((pred - target)**2).mean(axis=-1)
    return float((per_patch * mask).sum() / mask.sum())


def test_loss_matches_direct_formula():
    rng = np.random.default_rng(0)
    B, p, H, W = 2, 4, 8, 12  # L = 2 * 3 = 6, non-square grid
    inputs = rng.normal(size=(B, 6, H, W))
    L, dims = (H // p) * (W // p), p * p * 3
    preds = {m: rng.normal(size=(B, L, dims)) for m in ('rgb', 'thermal')}
    masks = {m: (rng.random((B, L)) < 0.6).astype(np.float64) for m in ('rgb', 'thermal')}
    masks['rgb'][:, 0] = 1  # at least one masked patch
    head = RGBTMAEHead(patch_size=p, loss_weights=dict(thermal=0.5))
    losses = head.loss({m: torch.from_numpy(v).float() for m, v in preds.items()},
                       torch.from_numpy(inputs).float(), {m: torch.from_numpy(v) for m, v in masks.items()})
    assert set(losses) == {'loss_rgb', 'loss_thermal'}
    for modality, channels, weight in (('rgb', slice(0, 3), 1.0), ('thermal', slice(3, 6), 0.5)):
        expected = np.stack([direct_target(inputs[b, channels], p) for b in range(B)])
        ref = weight * direct_loss(preds[modality], expected, masks[modality])
        assert losses[f'loss_{modality}'].item() == pytest.approx(ref, rel=1e-5)


def test_only_masked_patches_count():
    torch.manual_seed(0)
    head = RGBTMAEHead(patch_size=4)
    inputs = torch.randn(2, 6, 8, 8)
    mask = torch.tensor([[1., 0., 0., 1.], [0., 1., 0., 0.]])
    pred = {m: torch.randn(2, 4, 48) for m in ('rgb', 'thermal')}
    base = head.loss(pred, inputs, dict(rgb=mask, thermal=mask))
    changed = {m: v.clone() for m, v in pred.items()}
    changed['rgb'][mask == 0] += 100.0  # visible patches do not count
    same = head.loss(changed, inputs, dict(rgb=mask, thermal=mask))
    torch.testing.assert_close(same['loss_rgb'], base['loss_rgb'])
    changed['rgb'][0, 0] += 1.0  # a masked patch does
    assert not torch.allclose(head.loss(changed, inputs, dict(rgb=mask, thermal=mask))['loss_rgb'],
                              base['loss_rgb'])
    # a perfect prediction of the masked patches gives zero loss
    target = head.construct_target(inputs[:, :3])
    perfect = torch.where(mask[..., None].bool(), target, torch.randn_like(target))
    assert head.loss(dict(rgb=perfect, thermal=pred['thermal']), inputs,
                     dict(rgb=mask, thermal=mask))['loss_rgb'].item() == pytest.approx(0.0, abs=1e-10)


def test_patchify_roundtrip_and_errors():
    head = RGBTMAEHead(patch_size=4)
    imgs = torch.randn(2, 3, 8, 12)
    torch.testing.assert_close(head.unpatchify(head.patchify(imgs), (2, 3)), imgs)
    with pytest.raises(ValueError, match='\\[RGB \\| thermal\\]'):
        head.split_inputs(torch.randn(2, 3, 8, 8))
    with pytest.raises(ValueError, match='not divisible'):
        head.patchify(torch.randn(1, 3, 10, 8))
    with pytest.raises(KeyError, match='unknown keys'):
        RGBTMAEHead(loss_weights=dict(depth=1.0))
