# Copyright (c) mmspecgene contributors. All rights reserved.
import os

import torch

from mmspecgene.models.random_masking import RandomRGBTMasking

LEGACY_STATES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'data', 'masking',
                             'legacy_masker_states.pth')


def make_tokens(batch_size=3, num_tokens=196, dim=8, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(batch_size, num_tokens, dim, generator=generator),
            torch.randn(batch_size, num_tokens, dim, generator=generator))


def test_random_masking_keeps_k0_per_modality_and_reseeds_per_iteration():
    masker = RandomRGBTMasking(mask_ratio=0.75)
    assert masker.keep_counts == dict(rgb=49, thermal=49) and dict(masker.named_buffers()) == {}
    tokens = make_tokens()
    masker.set_progress(0, 10)
    outputs = masker(*tokens)
    for modality in ('rgb', 'thermal'):
        assert outputs[f'{modality}_ids_keep'].shape == (3, 49)
        assert torch.equal((outputs[f'{modality}_mask'] == 0).sum(1), torch.full((3, ), 49))
        assert torch.equal(torch.gather(outputs[f'{modality}_ids_shuffle'], 1, outputs[f'{modality}_ids_restore']),
                           torch.arange(196).expand(3, -1))
    assert not torch.equal(outputs['rgb_ids_keep'], outputs['thermal_ids_keep'])  # independent per modality
    masker.set_progress(1, 10)
    assert not torch.equal(masker(*tokens)['rgb_mask'], outputs['rgb_mask'])
    masker.set_progress(0, 10)  # a resumed run redraws the same masks
    assert torch.equal(masker(*tokens)['rgb_mask'], outputs['rgb_mask'])
    masker.update_losses(torch.tensor(1.0), torch.tensor(0.5))  # nothing to adapt
    stats = masker.statistics()
    assert set(stats) == {'mask/keep_rgb', 'mask/keep_thermal', 'mask/ratio_rgb', 'mask/ratio_thermal',
                          'mask/overlap'}
    assert float(stats['mask/ratio_rgb']) == 0.75
    overlap = ((outputs['rgb_mask'] == 0) & (outputs['thermal_mask'] == 0)).sum(1).float().mean()
    torch.testing.assert_close(stats['mask/overlap'], overlap)


def test_random_masking_loads_a_state_written_before_the_split():
    """``GMMCMSSMasking(mode='random')`` saved unused GMM buffers; they are dropped with a log line, not an error."""
    legacy = torch.load(LEGACY_STATES, weights_only=True)['random']
    masker = RandomRGBTMasking(num_tokens=64, mask_ratio=legacy['config']['mask_ratio'],
                               seed=legacy['config']['curriculum_seed'])
    wrapper = torch.nn.Module()
    wrapper.masker = masker
    result = wrapper.load_state_dict({f'masker.{key}': value for key, value in legacy['state'].items()}, strict=True)
    assert not result.unexpected_keys and not result.missing_keys
    # Same seed stream as before the split: the kept sets of the resumed iterations are unchanged.
    for offset, expected in enumerate(legacy['continuation']):
        masker.set_progress(6 + offset, 16)
        outputs = masker(torch.zeros(2, 64, 16), torch.zeros(2, 64, 16))  # random masks ignore the token values
        assert torch.equal(outputs['rgb_ids_keep'], expected['rgb_ids_keep'])
        assert torch.equal(outputs['thermal_ids_keep'], expected['thermal_ids_keep'])
