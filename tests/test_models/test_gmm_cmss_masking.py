# Copyright (c) mmspecgene contributors. All rights reserved.
import copy
import math
import os
import warnings

import pytest
import torch

from mmspecgene.models.gmm_cmss_masking import GMMCMSSMasking, ReleasedGMMCMSSMasking
from mmspecgene.models.masking_ops import keep_count
from mmspecgene.testing.distributed import run_gloo

NUM_TOKENS = 196


def make_tokens(batch_size=2, dim=16, seed=0, num_tokens=NUM_TOKENS):
    generator = torch.Generator().manual_seed(seed)
    scale_rgb = torch.rand(batch_size, num_tokens, 1, generator=generator) + 0.2
    scale_thermal = torch.rand(batch_size, num_tokens, 1, generator=generator) + 0.2
    rgb = torch.randn(batch_size, num_tokens, dim, generator=generator) * scale_rgb
    thermal = torch.randn(batch_size, num_tokens, dim, generator=generator) * scale_thermal + 0.5 * rgb
    return rgb, thermal


def check_outputs(outputs, keep, disjoint=True):
    batch_size = outputs['cmss'].shape[0]
    visible = {}
    for modality in ('rgb', 'thermal'):
        mask = outputs[f'{modality}_mask']
        ids_keep = outputs[f'{modality}_ids_keep']
        ids_shuffle = outputs[f'{modality}_ids_shuffle']
        ids_restore = outputs[f'{modality}_ids_restore']
        assert ids_keep.shape == (batch_size, keep[modality])
        assert torch.equal((mask == 0).sum(1), torch.full((batch_size, ), keep[modality]))
        assert torch.equal(ids_shuffle[:, :keep[modality]], ids_keep)
        assert torch.equal(torch.sort(ids_shuffle, dim=1).values,
                           torch.arange(NUM_TOKENS).expand(batch_size, -1))
        assert torch.equal(torch.gather(ids_shuffle, 1, ids_restore), torch.arange(NUM_TOKENS).expand(
            batch_size, -1))
        assert torch.equal(torch.gather(mask, 1, ids_keep), torch.zeros_like(ids_keep, dtype=mask.dtype))
        visible[modality] = mask == 0
    if disjoint:
        assert not bool((visible['rgb'] & visible['thermal']).any())


def set_state(masker, **values):
    """Overwrite state buffers through load_state_dict (also refreshes the Python mirrors)."""
    state = masker.state_dict()
    for key, value in values.items():
        state[key] = torch.as_tensor(value, dtype=state[key].dtype).reshape(state[key].shape)
    masker.load_state_dict(state)


def test_keep_counts_and_defaults():
    assert keep_count(196, 0.90) == 19
    assert keep_count(196, 0.75) == 49
    masker = GMMCMSSMasking()
    assert masker.base_keep == 19 and masker.max_keep_bias == 9
    assert masker.keep_counts == dict(rgb=19, thermal=19)
    assert masker.cmss_variant == 'paper'
    assert ReleasedGMMCMSSMasking().cmss_variant == 'released'
    # Keep-bias cap: clean also keeps one token per modality (k0 - 1 = 4); the released cap is floor(L (r_max - r)).
    tight = dict(mask_ratio=0.97, max_mask_ratio=0.999)
    assert GMMCMSSMasking(**tight).max_keep_bias == 4 and ReleasedGMMCMSSMasking(**tight).max_keep_bias == 5
    assert GMMCMSSMasking(mask_ratio=0.75).base_keep == 49
    state = masker.state_dict()
    for key in ('gmm_mean', 'gmm_var', 'gmm_weight', 'centres', 'num_centres', 'keep_bias', 'centre_bias', 'tick',
                'last_iter', 'loss_ema_rgb', 'loss_ema_thermal', 'ema_initialised'):
        assert key in state
    for key in ('gmm_mean', 'gmm_var', 'gmm_weight', 'centres', 'keep_bias', 'centre_bias', 'loss_ema_rgb'):
        assert state[key].dtype == torch.float64
    # Shared curriculum seed: the same GMM init everywhere; another seed gives another init.
    torch.testing.assert_close(GMMCMSSMasking(curriculum_seed=3).gmm_mean, GMMCMSSMasking(curriculum_seed=3).gmm_mean)
    assert not torch.equal(GMMCMSSMasking(curriculum_seed=3).gmm_mean, masker.gmm_mean)
    with pytest.raises(TypeError, match='mode'):
        GMMCMSSMasking(mode='faithful')  # one class per behaviour: ReleasedGMMCMSSMasking, RandomRGBTMasking
    with pytest.raises(TypeError, match='loss_ema'):
        ReleasedGMMCMSSMasking(loss_ema=0.9)  # the released loss gap is not smoothed
    with pytest.raises(ValueError, match='num_tokens=196'):
        masker(*make_tokens(num_tokens=100))


def test_cmss_backends_give_the_same_masks():
    rgb, thermal = make_tokens(batch_size=3, dim=24, seed=11)
    tokens = torch.cat([rgb, thermal])  # the Siamese layout
    maskers = {backend: GMMCMSSMasking(total_ticks=4, cmss_backend=backend) for backend in ('eager', 'compiled')}
    assert 'cmss_backend=compiled' in repr(maskers['compiled'])
    for cur_iter in range(3):
        outputs = {}
        for backend, masker in maskers.items():
            masker.set_progress(cur_iter, 8)
            outputs[backend] = masker(tokens[:3], tokens[3:])
            masker.update_losses(torch.tensor(0.6), torch.tensor(0.5))
        torch.testing.assert_close(outputs['compiled']['cmss'], outputs['eager']['cmss'], rtol=1e-5, atol=1e-7)
        for key in ('rgb_ids_keep', 'thermal_ids_keep', 'rgb_ids_restore', 'thermal_ids_restore'):
            assert torch.equal(outputs['compiled'][key], outputs['eager'][key]), key
    torch.testing.assert_close(maskers['compiled'].gmm_mean, maskers['eager'].gmm_mean)
    with pytest.raises(ValueError, match="cmss_backend='jit'"):
        GMMCMSSMasking(cmss_backend='jit')


def test_em_step_matches_sklearn():
    sklearn_mixture = pytest.importorskip('sklearn.mixture')
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning

    generator = torch.Generator().manual_seed(0)
    values = torch.cat([
        0.05 + 0.02 * torch.randn(700, generator=generator),
        0.3 + 0.05 * torch.randn(500, generator=generator),
        0.8 + 0.1 * torch.randn(300, generator=generator)
    ]).clamp(0, 1)
    cmss = values[torch.randperm(values.numel(), generator=generator)].reshape(10, 150).float()
    masker = GMMCMSSMasking()
    init_mean, init_var, init_weight = [0.1, 0.5, 0.9], [0.05, 0.02, 0.03], [0.2, 0.5, 0.3]
    set_state(masker, gmm_mean=init_mean, gmm_var=init_var, gmm_weight=init_weight)

    data = cmss.double().reshape(-1, 1).numpy()
    reference = sklearn_mixture.GaussianMixture(
        n_components=3,
        covariance_type='spherical',
        max_iter=1,
        reg_covar=0.0,
        warm_start=True,
        means_init=np.array(init_mean).reshape(3, 1),
        weights_init=np.array(init_weight),
        precisions_init=1.0 / np.array(init_var))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', ConvergenceWarning)
        for _step in range(6):
            reference.fit(data)
            masker._em_step(cmss)
            torch.testing.assert_close(masker.gmm_mean, torch.from_numpy(reference.means_[:, 0]), rtol=0,
                                       atol=1e-10)
            torch.testing.assert_close(masker.gmm_var, torch.from_numpy(reference.covariances_), rtol=0, atol=1e-10)
            torch.testing.assert_close(masker.gmm_weight, torch.from_numpy(reference.weights_), rtol=0, atol=1e-10)
    assert not torch.allclose(masker.gmm_mean, torch.tensor(init_mean, dtype=torch.float64))


def test_em_step_is_safe():
    masker = GMMCMSSMasking()
    # Component 2 sits far away with a tiny variance: no responsibility -> it keeps its parameters; no NaN.
    set_state(masker, gmm_mean=[0.2, 0.6, 50.0], gmm_var=[1e-6, 1e-6, 1e-6], gmm_weight=[0.5, 0.5, 0.0])
    cmss = torch.rand(4, NUM_TOKENS, generator=torch.Generator().manual_seed(1))
    cmss[0] = 1.0  # far from every mean: log-domain E-step, no underflow
    for _ in range(3):
        masker._em_step(cmss)
    assert float(masker.gmm_mean[2]) == 50.0 and float(masker.gmm_var[2]) == 1e-6
    assert bool(torch.isfinite(masker.gmm_mean).all() & torch.isfinite(masker.gmm_var).all())
    assert float(masker.gmm_var.min()) >= 1e-6
    assert float(masker.gmm_weight.sum()) == pytest.approx(1.0)
    # A constant map collapses to the variance floor instead of a zero variance.
    masker._em_step(torch.full((2, NUM_TOKENS), 0.5))
    assert float(masker.gmm_var.min()) >= 1e-6


def run_iteration(masker, cur_iter, max_iters, tokens, losses):
    masker.set_progress(cur_iter, max_iters)
    outputs = masker(*tokens)
    keep = masker.keep_counts
    masker.update_losses(torch.tensor(losses[0]), torch.tensor(losses[1]))
    return outputs, keep


def test_curriculum_budgets_and_disjoint_sets_across_schedule():
    total_ticks, max_iters = 12, 48
    masker = GMMCMSSMasking(total_ticks=total_ticks, loss_ema=0.5)
    seen, ticks = set(), []
    for cur_iter in range(max_iters):
        # RGB harder in the first half (thermal loses tokens), thermal harder afterwards.
        losses = (1.0, 0.7) if cur_iter < max_iters // 2 else (0.2, 1.0)
        tokens = make_tokens(seed=cur_iter)
        outputs, keep = run_iteration(masker, cur_iter, max_iters, tokens, losses)
        check_outputs(outputs, keep)
        assert keep['rgb'] + keep['thermal'] == 38
        assert abs(float(masker.keep_bias)) <= 9 and abs(float(masker.centre_bias)) <= 0.1 + 1e-12
        assert masker.keep_counts['thermal'] == 19 - math.trunc(float(masker.keep_bias))
        seen.add(keep['thermal'])
        ticks.append(int(masker.tick))
    assert ticks[-1] == total_ticks and ticks == sorted(ticks)
    assert max(seen) > 19 and min(seen) < 19  # keep_bias moved both ways
    assert min(seen) == 10  # reached the cap: thermal 94.9 % masked
    logs = masker.statistics()
    assert float(logs['mask/overlap']) == 0
    assert float(logs['mask/keep_thermal']) + float(logs['mask/keep_rgb']) == 38
    for key in ('curr/tick', 'curr/num_centres', 'curr/centre_2', 'gmm/mean_0', 'gmm/var_2', 'gmm/weight_1',
                'cmss/raw_max', 'cmss/p95', 'cmss/nonfinite', 'curr/loss_ema_rgb', 'curr/loss_gap', 'mask/ratio_rgb'):
        assert logs[key].dim() == 0 and not logs[key].requires_grad
    means = [float(logs[f'gmm/mean_{index}']) for index in range(3)]
    assert means == sorted(means)


def test_schedule_reaches_targets_and_runs_past_end():
    total_ticks, max_iters = 10, 30
    masker = GMMCMSSMasking(total_ticks=total_ticks)
    half = total_ticks // 2
    checked = set()
    for cur_iter in range(2 * max_iters):
        tokens = make_tokens(seed=cur_iter % 7)
        masker.set_progress(cur_iter, max_iters)
        outputs = masker(*tokens)
        check_outputs(outputs, masker.keep_counts)
        before = int(masker.tick)
        masker.update_losses(torch.tensor(0.5), torch.tensor(0.5))
        tick = int(masker.tick)
        num_centres = int(masker.num_centres)
        centres = masker.centres[:num_centres]
        top = float(masker.gmm_mean.max())
        if tick != before and tick in (half - 1, total_ticks) and bool(((centres > 0) & (centres < 1)).all()):
            # Denominator 1 at the last tick of each phase: the centres hit their targets exactly.
            target = float(masker.gmm_mean.sum()) if tick == half - 1 else num_centres * top
            assert float(centres.sum()) == pytest.approx(target, abs=1e-9)
            checked.add(tick)
        for name, buffer in masker.state_dict().items():
            if buffer.is_floating_point():
                assert bool(torch.isfinite(buffer).all()), name
        assert bool(((masker.centres >= 0) & (masker.centres <= 1)).all())
    assert int(masker.tick) > total_ticks  # past the end: frozen, not singular
    assert checked  # at least one phase end was verified
    frozen = masker.state_dict()
    masker.set_progress(10 * max_iters, max_iters)
    masker(*make_tokens())
    masker.update_losses(torch.tensor(3.0), torch.tensor(0.1))
    torch.testing.assert_close(masker.centres, frozen['centres'])
    torch.testing.assert_close(masker.keep_bias, frozen['keep_bias'])


def test_resume_reproduces_masks_bit_identically():
    config = dict(total_ticks=8, loss_ema=0.6, curriculum_seed=5)
    max_iters = 16
    # RGB harder first (keep_bias rises to the cap), thermal harder from iteration 8 (it falls again).
    losses = [(1.0, 0.6) if step < 8 else (0.3, 1.0) for step in range(max_iters)]
    masker = GMMCMSSMasking(**config)
    for cur_iter in range(6):
        run_iteration(masker, cur_iter, max_iters, make_tokens(seed=cur_iter), losses[cur_iter])
    saved = copy.deepcopy(masker.state_dict())
    assert float(saved['keep_bias']) != 0 and int(saved['tick']) > 0
    recorded = []
    for cur_iter in range(6, 12):
        outputs, keep = run_iteration(masker, cur_iter, max_iters, make_tokens(seed=cur_iter), losses[cur_iter])
        recorded.append((outputs, keep))
    assert len({keep['thermal'] for _, keep in recorded}) > 1  # budgets change inside the resumed segment

    resumed = GMMCMSSMasking(**config)
    assert resumed.keep_counts != masker.keep_counts or not torch.equal(resumed.gmm_mean, saved['gmm_mean'])
    resumed.load_state_dict(saved)
    for offset, cur_iter in enumerate(range(6, 12)):
        outputs, keep = run_iteration(resumed, cur_iter, max_iters, make_tokens(seed=cur_iter), losses[cur_iter])
        expected, expected_keep = recorded[offset]
        assert keep == expected_keep
        for key, value in expected.items():
            assert torch.equal(outputs[key], value), (cur_iter, key)
    for key, value in masker.state_dict().items():
        assert torch.equal(resumed.state_dict()[key], value), key


def test_mixture_assignment():
    batch_size = 40
    noise = {}
    for assignment in ('per_image', 'per_token'):
        masker = GMMCMSSMasking(mixture_assignment=assignment)
        set_state(masker, gmm_mean=[0.1, 0.5, 0.9], gmm_var=[1e-6, 1e-6, 1e-6], gmm_weight=[0.5, 0.5, 0.0],
                  centres=[0.1, 0.9, 0.0], num_centres=2)
        generator = torch.Generator().manual_seed(0)
        noise[assignment] = masker._draw_noise(batch_size, 19, 1.0, generator)
    for assignment, draws in noise.items():
        low = (draws - 0.1).abs() < 0.05
        high = (draws - 0.9).abs() < 0.05
        assert bool((low | high).all())
        mixed_rows = int((low.any(1) & high.any(1)).sum())
        if assignment == 'per_image':
            # Unshuffled draws: the first half of the images use centre 0, the rest centre 1.
            assert mixed_rows == 0 and int(low.all(1).sum()) == batch_size // 2
        else:
            assert mixed_rows > batch_size // 2


def test_centre_bias_sign_and_first_selector():
    masker = GMMCMSSMasking()
    set_state(masker, gmm_mean=[0.2, 0.5, 0.8], gmm_var=[1e-6] * 3, centres=[0.5, 0.0, 0.0], centre_bias=0.1,
              keep_bias=3.0)
    assert masker.keep_counts == dict(thermal=16, rgb=22)
    generator = torch.Generator().manual_seed(0)
    first = masker._draw_noise(4, 16, +1.0, generator)
    second = masker._draw_noise(4, 22, -1.0, generator)
    assert float(first.mean()) == pytest.approx(0.6, abs=0.01)  # thermal: centre + bias
    assert float(second.mean()) == pytest.approx(0.4, abs=0.01)  # RGB: centre - bias
    swapped = GMMCMSSMasking(first_selector='rgb')
    set_state(swapped, keep_bias=3.0)
    assert swapped.keep_counts == dict(rgb=16, thermal=22)
    outputs = swapped(*make_tokens())
    check_outputs(outputs, swapped.keep_counts)


def test_released_masker_runs_and_raises_at_singular_tick():
    masker = ReleasedGMMCMSSMasking(tick_every=0.5)  # one tick per call
    assert masker.cmss_variant == 'released'
    for step in range(6):
        keep = masker.keep_counts  # the tick inside forward changes the budgets of the next call
        outputs = masker(*make_tokens(seed=step))
        check_outputs(outputs, keep)
        masker.update_losses(torch.tensor(0.8), torch.tensor(0.75))
    assert int(masker.tick) == 6
    # Overshoot rule: +10 * 0.05 per tick while below the cap, no clamp.
    assert float(masker.keep_bias) == pytest.approx(2.5)

    set_state(masker, tick=100, last_iter=0)
    with pytest.raises(RuntimeError, match='singular curriculum tick 101'):
        masker(*make_tokens())

    frozen = ReleasedGMMCMSSMasking(tick_every=0.5, on_singular='freeze')
    set_state(frozen, tick=100, centres=[0.2, 0.3, 0.4], num_centres=3)
    frozen(*make_tokens())
    assert int(frozen.tick) == 101
    assert frozen.centres.tolist() == [0.2, 0.3, 0.4]


def test_released_budget_violation_raises():
    masker = ReleasedGMMCMSSMasking(tick_every=0.5)
    set_state(masker, keep_bias=-15.0)  # valid: thermal keeps 34, RGB 4
    # Loss gap -2 at the next tick: keep_bias -35 (no lower bound in the release) gives RGB a negative budget.
    masker.update_losses(torch.tensor(0.0), torch.tensor(2.0))
    with pytest.raises(RuntimeError, match='budgets'):
        masker(*make_tokens())


@pytest.mark.parametrize('cmss_backend', ['eager', 'compiled'])
def test_no_host_sync_calls_in_the_iteration_path(cmss_backend, monkeypatch):
    masker = GMMCMSSMasking(total_ticks=2, cmss_backend=cmss_backend)
    tokens = make_tokens()
    masker.set_progress(0, 100)
    masker(*tokens)  # first call outside the guard

    def forbidden(*args, **kwargs):
        raise AssertionError('host-device synchronisation in the per-iteration path')

    for name in ('item', 'tolist', 'numpy', '__bool__', '__int__', '__float__', '__index__', 'nonzero'):
        monkeypatch.setattr(torch.Tensor, name, forbidden)
    monkeypatch.setattr(torch, 'nonzero', forbidden)
    monkeypatch.setattr(torch, 'unique', forbidden)
    for cur_iter in range(1, 4):  # no tick due in these iterations (tick at iteration 49)
        masker.set_progress(cur_iter, 100)
        masker(*tokens)
        masker.update_losses(torch.tensor(0.5), torch.tensor(0.4))
        masker.statistics()
    monkeypatch.undo()
    assert int(masker.tick) == 0


def _distributed_worker(rank, world_size, out_dir):
    from mmengine import dist
    assert dist.get_rank() == rank and dist.get_world_size() == world_size
    masker = GMMCMSSMasking(total_ticks=6, loss_ema=0.5, check_sync_every=1)
    max_iters = 12
    for cur_iter in range(max_iters):
        tokens = make_tokens(seed=100 * rank + cur_iter)  # different data per rank
        masker.set_progress(cur_iter, max_iters)
        outputs = masker(*tokens)
        check_outputs(outputs, masker.keep_counts)
        # Different local losses per rank: the all-reduced mean drives one shared curriculum.
        masker.update_losses(torch.tensor(1.0 + rank), torch.tensor(0.5))
    masker.assert_rank_consistent()
    torch.save(masker.state_dict(), os.path.join(out_dir, f'rank{rank}.pth'))


def test_two_process_gloo_state_is_identical(tmp_path):
    run_gloo(_distributed_worker, 2, str(tmp_path))
    states = [torch.load(tmp_path / f'rank{rank}.pth') for rank in range(2)]
    for key, value in states[0].items():
        assert torch.equal(value, states[1][key]), key
    assert int(states[0]['tick']) == 6
    # Mean loss gap ((1 + 2) / 2 - 0.5 = 1) pushed the keep bias to the cap on both ranks.
    assert float(states[0]['keep_bias']) == 9.0
    # The shared GMM moved away from its init (it was fitted on both ranks' data).
    assert not torch.equal(states[0]['gmm_mean'], GMMCMSSMasking().gmm_mean)


LEGACY_STATES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'data', 'masking',
                             'legacy_masker_states.pth')


@pytest.mark.parametrize('name, masker_class', [('clean', GMMCMSSMasking), ('faithful', ReleasedGMMCMSSMasking)])
def test_resume_from_a_state_written_before_the_split(name, masker_class):
    """States written by ``GMMCMSSMasking(mode='clean'|'faithful')`` before the maskers were split (commit 499fc09).

    ``tests/data/masking/legacy_masker_states.pth`` holds, per mode, the masker config, the state dict after 6 of
    16 iterations (2 images of 64 16-d tokens from ``make_tokens``, losses (1.0, 0.6) then (0.3, 1.0) from iteration
    8), the kept ids of iterations 6-15 and the final state. The new class loads the same keys and continues the run
    with the same budgets, masks and curriculum.
    """
    legacy = torch.load(LEGACY_STATES, weights_only=True)[name]
    masker = masker_class(**legacy['config'])
    assert set(masker.state_dict()) == set(legacy['state'])  # the state dict layout is unchanged
    masker.load_state_dict(legacy['state'])
    for offset, expected in enumerate(legacy['continuation']):
        cur_iter = 6 + offset
        losses = (1.0, 0.6) if cur_iter < 8 else (0.3, 1.0)
        masker.set_progress(cur_iter, 16)
        keep = masker.keep_counts
        assert keep == dict(rgb=int(expected['keep_rgb']), thermal=int(expected['keep_thermal'])), cur_iter
        outputs = masker(*make_tokens(batch_size=2, dim=16, seed=cur_iter, num_tokens=64))
        for key in ('rgb_ids_keep', 'thermal_ids_keep'):
            assert torch.equal(outputs[key], expected[key]), (cur_iter, key)
        masker.update_losses(torch.tensor(losses[0]), torch.tensor(losses[1]))
    for key, value in legacy['final_state'].items():
        torch.testing.assert_close(masker.state_dict()[key], value, rtol=1e-6, atol=1e-9, msg=key)


def test_overlapping_masker_selects_each_modality_on_the_whole_map():
    from mmspecgene.models.gmm_cmss_masking import OverlappingGMMCMSSMasking
    overlapping = OverlappingGMMCMSSMasking(total_ticks=4)
    disjoint = GMMCMSSMasking(total_ticks=4)
    tokens = make_tokens(batch_size=8, seed=3)
    for masker in (overlapping, disjoint):
        masker.set_progress(0, 8)
    outputs = overlapping(*tokens)
    check_outputs(outputs, overlapping.keep_counts, disjoint=False)
    overlap = ((outputs['rgb_mask'] == 0) & (outputs['thermal_mask'] == 0)).sum()
    assert int(overlap) > 0  # both modalities follow the same sampler on the same map
    # same draws and GMM: the first selector's picks are the disjoint masker's; the second one ignores them
    expected = disjoint(*tokens)
    assert torch.equal(outputs['thermal_ids_keep'], expected['thermal_ids_keep'])
    assert not torch.equal(outputs['rgb_ids_keep'], expected['rgb_ids_keep'])
    assert float(overlapping.statistics()['mask/overlap']) == float(overlap) / 8


def test_statistics_report_the_budgets_the_last_call_used():
    """A tick after the call changes the budgets; the logged mask/* still describe that call."""
    torch.manual_seed(0)
    masker = GMMCMSSMasking(num_tokens=36, mask_ratio=0.75, max_mask_ratio=0.9, total_ticks=4)
    changed = False
    for step in range(8):
        masker.set_progress(step, 8)
        out = masker(torch.randn(4, 36, 32), torch.randn(4, 36, 32))
        before = dict(masker.keep_counts)
        masker.update_losses(torch.tensor(2.0), torch.tensor(1.0))  # RGB harder: the keep bias grows at ticks
        changed |= masker.keep_counts != before
        stats = masker.statistics()
        for modality in ('rgb', 'thermal'):
            kept = int((out[f'{modality}_mask'] == 0).sum(1)[0])
            assert stats[f'mask/keep_{modality}'].item() == kept, (step, modality)
    assert changed  # the test saw ticks that moved the budgets
