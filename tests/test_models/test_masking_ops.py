# Copyright (c) mmspecgene contributors. All rights reserved.
import numpy as np
import pytest
import torch

from mmspecgene.models.masking_ops import (
    assert_masks_valid,
    build_mask_outputs,
    greedy_select,
    interp,
    keep_count,
    masking_outputs,
    mix_seed,
    noise_generator,
    visible_overlap,
)


def reference_greedy(cmss, noise_first, noise_second):
    """Plain per-image, per-slot loop with the released 1e5 / 1e3 sentinels."""
    first_copy, second_copy = cmss.clone().float(), cmss.clone().float()
    kept_first, kept_second = [], []
    for image in range(cmss.shape[0]):
        row_first = []
        for slot in range(noise_first.shape[1]):
            index = int(torch.argmin((noise_first[image, slot] - first_copy[image]).abs()))
            row_first.append(index)
            first_copy[image, index] = 1e5
            second_copy[image, index] = 1e3
        kept_first.append(row_first)
        row_second = []
        for slot in range(noise_second.shape[1]):
            index = int(torch.argmin((noise_second[image, slot] - second_copy[image]).abs()))
            row_second.append(index)
            second_copy[image, index] = 1e5
        kept_second.append(row_second)
    return torch.tensor(kept_first), torch.tensor(kept_second)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_greedy_selection_matches_reference_with_ties(seed):
    generator = torch.Generator().manual_seed(seed)
    # Quantised CMSS and noise: many exactly tied distances (lowest index must win).
    cmss = torch.randint(0, 6, (5, 24), generator=generator).float() / 5
    noise_first = torch.randint(0, 11, (5, 7), generator=generator).float() / 10
    noise_second = torch.randn(5, 9, generator=generator) * 0.5 + 0.5
    noise_second[:, :3] = noise_first[:, :3]
    ids_first, ids_second = greedy_select(cmss, noise_first, noise_second)
    expected_first, expected_second = reference_greedy(cmss, noise_first, noise_second)
    assert torch.equal(ids_first, expected_first)
    assert torch.equal(ids_second, expected_second)
    # All tied: picks are 0, 1, 2, ... in order.
    ids_first, ids_second = greedy_select(torch.zeros(2, 10), torch.zeros(2, 3), torch.zeros(2, 4))
    assert ids_first.tolist() == [[0, 1, 2]] * 2 and ids_second.tolist() == [[3, 4, 5, 6]] * 2


def test_build_mask_outputs_and_interp():
    ids_keep = torch.tensor([[4, 0, 2], [1, 3, 5]])
    mask, ids_shuffle, ids_restore = build_mask_outputs(ids_keep, 6)
    assert mask.tolist() == [[0, 1, 0, 1, 0, 1], [1, 0, 1, 0, 1, 0]]
    assert ids_shuffle.tolist() == [[4, 0, 2, 1, 3, 5], [1, 3, 5, 0, 2, 4]]
    assert torch.equal(ids_restore, torch.argsort(ids_shuffle, dim=1))
    # Random kept sets against the sort-based definition: kept in selection order, then the removed ascending.
    ids_keep = torch.stack([torch.randperm(50, generator=torch.Generator().manual_seed(i))[:7] for i in range(5)])
    mask, ids_shuffle, ids_restore = build_mask_outputs(ids_keep, 50)
    expected_rest = torch.argsort(mask, dim=1, stable=True)[:, 7:]
    assert torch.equal(ids_shuffle, torch.cat([ids_keep, expected_rest], dim=1))
    assert torch.equal(ids_restore, torch.argsort(ids_shuffle, dim=1))
    xp = torch.tensor([0.0, 0.2, 0.5, 0.9], dtype=torch.float64)
    fp = torch.tensor([0.01, 0.04, 0.002, 0.3], dtype=torch.float64)
    x = torch.tensor([-1.0, 0.0, 0.1, 0.2, 0.35, 0.9, 2.0], dtype=torch.float64)
    torch.testing.assert_close(interp(x, xp, fp), torch.from_numpy(np.interp(x.numpy(), xp.numpy(), fp.numpy())))


def test_keep_count_seeds_and_masking_outputs():
    assert keep_count(196, 0.90) == 19 and keep_count(196, 0.75) == 49 and keep_count(196, 0.9999) == 0
    assert mix_seed(0, 0, 5) == mix_seed(0, 0, 5) and len({mix_seed(0, rank, 5) for rank in range(4)}) == 4
    draws = [torch.rand(3, generator=noise_generator(7, iteration, torch.device('cpu'))) for iteration in (1, 1, 2)]
    assert torch.equal(draws[0], draws[1]) and not torch.equal(draws[0], draws[2])
    ids = dict(rgb=torch.tensor([[0, 3]]), thermal=torch.tensor([[3, 1]]))
    outputs = masking_outputs(ids, 5)
    assert outputs['rgb_mask'].tolist() == [[0, 1, 1, 0, 1]]
    assert outputs['thermal_ids_shuffle'].tolist() == [[3, 1, 0, 2, 4]]
    assert visible_overlap(outputs).tolist() == [1.0]
    assert_masks_valid(outputs, disjoint=False, owner='test')
    with pytest.raises(RuntimeError, match='overlap'):
        assert_masks_valid(outputs, disjoint=True, owner='test')
    duplicate = masking_outputs(dict(rgb=torch.tensor([[2, 2]]), thermal=torch.tensor([[0, 1]])), 5)
    with pytest.raises(RuntimeError, match='kept counts'):
        assert_masks_valid(duplicate, disjoint=True, owner='test')
