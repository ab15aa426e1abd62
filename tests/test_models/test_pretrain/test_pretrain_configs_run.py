# Copyright (c) mmspecgene contributors. All rights reserved.
"""The synthetic configs of the other maskers and of the ablations train (two iterations each) in a Runner."""
import glob
import json
import os.path as osp

import pytest
import torch

pytest.importorskip('mmpretrain')
from mmengine.config import Config  # noqa: E402
from mmpretrain.registry import MODELS  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIGS = osp.join(REPO, 'configs', 'pretrain')
CASES = {
    'specgene/specgene-released-masking_vit-tiny-p16_1xb16-30e_synthetic.py': ('ReleasedGMMCMSSMasking', 'disjoint'),
    'specgene/specgene-random-masking_vit-tiny-p16_1xb16-30e_synthetic.py': ('RandomRGBTMasking', 'overlap'),
    'specgene/specgene-overlap-masking_vit-tiny-p16_1xb16-30e_synthetic.py': ('OverlappingGMMCMSSMasking', 'overlap'),
    'specgene/specgene-plain-decoder_vit-tiny-p16_1xb16-30e_synthetic.py': ('GMMCMSSMasking', 'disjoint'),
    'mae/mae-thermal_vit-tiny-p16_1xb16-30e_synthetic.py': (None, None),
}


# One run by default (the released masker); the ablation configs with --runslow (test_configs builds all of them).
PARAMS = [
    pytest.param(path, id=osp.basename(path).split('_')[0], marks=() if 'released' in path else pytest.mark.slow)
    for path in sorted(CASES)
]


@pytest.mark.parametrize('path', PARAMS)
def test_config_trains(path, tmp_path, one_epoch_runner):
    masker, visible_sets = CASES[path]
    runner = one_epoch_runner(path, batch_size=32, logger_interval=1)  # two iterations
    runner.train()
    model = runner.model
    scalars_file = glob.glob(osp.join(str(tmp_path), '*', 'vis_data', 'scalars.json'))[0]
    scalars = [json.loads(line) for line in open(scalars_file)]
    losses = [line for line in scalars if 'loss' in line]
    assert [line['step'] for line in losses] == [1, 2] and all(torch.isfinite(torch.tensor(line['loss']))
                                                               for line in losses)
    if masker is None:  # single-modality MAE: its encoder initialises the Siamese model (load_from)
        assert type(model).__name__ == 'MAE'
        cfg = Config.fromfile(osp.join(CONFIGS, 'specgene', 'specgene_vit-tiny-p16_1xb16-30e_synthetic.py'))
        specgene = MODELS.build(cfg.model)
        encoder = {key: value.shape for key, value in specgene.state_dict().items()
                   if key.startswith('backbone.') and '.masker.' not in key}
        stage0 = model.state_dict()  # what its checkpoint holds under state_dict
        assert encoder == {key: value.shape for key, value in stage0.items() if key in encoder}
        return
    assert type(model.masker).__name__ == masker
    if 'plain-decoder' in path:
        assert type(model.neck).__name__ == 'RGBTMAEPlainDecoder'
        assert not any('cross_attn' in key for key in model.state_dict())
    overlap = [line['mask/overlap'] for line in scalars if 'mask/overlap' in line]
    assert len(overlap) == 2 and (overlap == [0, 0] if visible_sets == 'disjoint' else min(overlap) > 0)
