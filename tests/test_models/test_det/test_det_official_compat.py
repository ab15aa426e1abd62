# Copyright (c) mmspecgene contributors. All rights reserved.
"""Det ``official-compat`` input (docs/en/method.md#modality-conventions): the released detectors saw [RGB |
T-channel-0 x3].

``LoadRGBTImagePair(thermal_mode='first_channel')`` in the KAIST ViT-B test pipeline, followed by the
config's ``RGBTDetDataPreprocessor`` (to_rgb=(True, True), ImageNet statistics on both halves):

* pseudo-colour (3-channel) thermal: the thermal half becomes channel 0 of the BGR decode (B) replicated x3
  (bit-identical to feeding a grey file holding that channel), while the default keeps the three decoded
  channels in RGB order; the RGB half is untouched;
* grey thermal (KAIST, LLVIP, FLIR files): both modes give bit-identical tensors.
"""
import copy
import os.path as osp

import numpy as np
import pytest
import torch

pytest.importorskip('mmdet', reason='mmdet is not installed')

import cv2  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.dataset import Compose, pseudo_collate  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402

from mmspecgene.utils import register_all_modules  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
KAIST_CFG = osp.join(REPO, 'configs', 'det', 'vitdet', 'vitdet_mask-rcnn_rgbt-vit-b-specgene_lsj-2xb1-25000i_kaist.py')
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


@pytest.fixture(scope='module')
def kaist_inputs(tmp_path_factory):
    """``run(thermal_file, thermal_mode) -> (6, S, S)`` preprocessed tensor through the KAIST config, and the files."""
    root = tmp_path_factory.mktemp('compat')
    rng = np.random.default_rng(0)
    height, width = 64, 80
    pseudo = np.stack([  # B, G, R planes that differ from each other (a pseudo-colour palette)
        np.tile(np.linspace(0, 255, width), (height, 1)),
        np.tile(np.linspace(255, 0, height)[:, None], (1, width)),
        rng.integers(0, 256, (height, width))
    ], axis=2).astype(np.uint8)
    files = dict(
        rgb=rng.integers(0, 256, (height, width, 3), dtype=np.uint8),
        pseudo=pseudo,
        pseudo_channel0=np.ascontiguousarray(pseudo[..., 0]),
        grey=rng.integers(0, 256, (height, width), dtype=np.uint8))
    paths = {}
    for name, image in files.items():
        paths[name] = str(root / f'{name}.png')  # lossless, so the decode is exact
        assert cv2.imwrite(paths[name], image)
    assert cv2.imread(paths['pseudo'], cv2.IMREAD_UNCHANGED).shape == (height, width, 3)
    assert cv2.imread(paths['grey'], cv2.IMREAD_UNCHANGED).shape == (height, width)

    register_all_modules('det', init_default_scope=False)
    from mmdet.registry import MODELS
    cfg = Config.fromfile(KAIST_CFG)
    preprocessor_cfg = cfg.model.data_preprocessor
    assert tuple(preprocessor_cfg.to_rgb) == (True, True)
    assert tuple(preprocessor_cfg.mean) == IMAGENET_MEAN * 2 and tuple(preprocessor_cfg.std) == IMAGENET_STD * 2
    steps = [s for s in cfg.test_dataloader.dataset.pipeline if s['type'] != 'LoadAnnotations']
    loader_index = [s['type'] for s in steps].index('LoadRGBTImagePair')
    with DefaultScope.overwrite_default_scope('mmdet'):
        preprocessor = MODELS.build(copy.deepcopy(preprocessor_cfg))

    def run(thermal_name, thermal_mode):
        pipeline_cfg = copy.deepcopy(steps)
        pipeline_cfg[loader_index]['thermal_mode'] = thermal_mode
        with DefaultScope.overwrite_default_scope('mmdet'):
            packed = Compose(pipeline_cfg)(dict(img_path=paths['rgb'], ir_path=paths[thermal_name], img_id=0))
        with torch.no_grad():
            inputs = preprocessor(pseudo_collate([packed]), False)['inputs']
        assert inputs.shape[:2] == (1, 6)
        return inputs[0], packed['data_samples'].img_shape

    return run


def _denormalise_thermal(inputs):
    """Thermal half back to 0..255 values, channels in RGB order."""
    return inputs[3:6] * torch.tensor(IMAGENET_STD).view(3, 1, 1) + torch.tensor(IMAGENET_MEAN).view(3, 1, 1)


def test_first_channel_on_pseudo_colour_thermal(kaist_inputs):
    default, img_shape = kaist_inputs('pseudo', 'auto')
    compat, _ = kaist_inputs('pseudo', 'first_channel')
    h, w = img_shape
    assert max(h, w) == 960  # the KAIST test resize ran
    torch.testing.assert_close(compat[:3], default[:3], rtol=0, atol=0)  # RGB half untouched
    assert (compat[3:] - default[3:]).abs().max() > 1.0

    # compat thermal == a grey thermal file holding channel 0 (B) of the BGR decode, replicated x3
    channel0, _ = kaist_inputs('pseudo_channel0', 'auto')
    torch.testing.assert_close(compat, channel0, rtol=0, atol=0)
    compat_values = _denormalise_thermal(compat)[:, :h, :w]
    default_values = _denormalise_thermal(default)[:, :h, :w]
    for c in range(3):
        # each compat channel carries B, which the default places last (RGB order after to_rgb)
        torch.testing.assert_close(compat_values[c], default_values[2], rtol=0, atol=1e-3)
    # the default keeps the palette: R and G differ from B
    assert (default_values[0] - default_values[2]).abs().max() > 50
    assert (default_values[1] - default_values[2]).abs().max() > 50


def test_first_channel_is_identity_for_grey_thermal(kaist_inputs):
    default, _ = kaist_inputs('grey', 'auto')
    compat, _ = kaist_inputs('grey', 'first_channel')
    torch.testing.assert_close(compat, default, rtol=0, atol=0)
