# Copyright (c) mmspecgene contributors. All rights reserved.
"""Host-neutral inference on RGB-thermal pairs for detection, segmentation and SOD models."""
import copy
import os
from typing import List, Mapping, Optional, Sequence, Union

import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import DATASETS, MODELS, init_default_scope
from mmengine.runner import load_checkpoint

from ..utils import scope_of_config
from ..utils.cfg_options import check_cfg_options
from ..utils.registration import get_in_scope


def leaf_dataset_cfgs(dataset_cfg: dict) -> List[dict]:
    """The configs of the datasets that hold samples: wrappers (``ConcatDataset``'s ``datasets``, the ``dataset`` of
    ``RepeatDataset`` / ``ClassBalancedDataset``) are unwrapped, in order."""
    if 'datasets' in dataset_cfg:
        return [leaf for sub in dataset_cfg['datasets'] for leaf in leaf_dataset_cfgs(sub)]
    if 'dataset' in dataset_cfg:
        return leaf_dataset_cfgs(dataset_cfg['dataset'])
    return [dataset_cfg]


def config_dataset_meta(cfg: Config) -> dict:
    """``classes``/``palette``/... of the config's test dataset: its class's ``METAINFO`` updated by the config's
    ``metainfo``, as the dataset itself would hold them (looked up in the host registry of the config's scope).

    A wrapped test set (e.g. the SOD configs' ``ConcatDataset`` of VT5000, VT1000, VT821) gives the meta of its
    datasets, which must agree on their classes.
    """
    metas = []
    for dataset_cfg in leaf_dataset_cfgs(cfg.test_dataloader.dataset):
        dataset_cls = get_in_scope(DATASETS, dataset_cfg['type'], scope_of_config(cfg))
        metas.append((dataset_cfg['type'], dataset_cls._load_metainfo(copy.deepcopy(dataset_cfg.get('metainfo')))))
    first_type, first = metas[0]
    for name, meta in metas[1:]:
        if tuple(meta.get('classes', ())) != tuple(first.get('classes', ())):
            raise ValueError(f'the test datasets disagree on their classes: {first_type} has '
                             f'{first.get("classes")}, {name} has {meta.get("classes")}')
    return first


def init_rgbt_model(config: Union[str, os.PathLike, Config], checkpoint: Optional[str] = None, device: str = 'cpu',
                    cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """Build a model from a det/seg/SOD config (its host becomes the default scope) and load weights.

    The model gets ``cfg`` and ``dataset_meta`` (classes, palette) attributes: the checkpoint's
    ``meta['dataset_meta']`` when it has one, otherwise (no checkpoint, or a state_dict-only one) those of the config's
    test dataset (:func:`config_dataset_meta`).
    """
    if isinstance(config, (str, os.PathLike)):
        cfg = Config.fromfile(os.fspath(config))
    elif isinstance(config, Config):
        cfg = copy.deepcopy(config)
    elif isinstance(config, Mapping):
        cfg = Config(copy.deepcopy(dict(config)))
    else:
        raise TypeError(f'init_rgbt_model: config must be a file path, an mmengine Config or a dict, got '
                        f'{type(config).__name__}')
    if checkpoint is not None:
        checkpoint = os.fspath(checkpoint)
    if cfg_options:
        check_cfg_options(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
    init_default_scope(scope_of_config(cfg))
    model_cfg = copy.deepcopy(cfg.model)
    if checkpoint is not None and 'backbone' in model_cfg:
        model_cfg.backbone.pop('init_cfg', None)  # the checkpoint holds everything
    model = MODELS.build(model_cfg)
    dataset_meta = None
    if checkpoint is not None:
        ckpt = load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
        meta = ckpt.get('meta') if isinstance(ckpt, dict) else None
        dataset_meta = meta.get('dataset_meta') if isinstance(meta, dict) else None
    else:
        model.init_weights()
    model.dataset_meta = dataset_meta if dataset_meta is not None else config_dataset_meta(cfg)
    model.cfg = cfg
    return model.to(device).eval()


def _test_pipeline(cfg: Config) -> Compose:
    """The test pipeline of the config's (first) test dataset, without its annotation loading."""
    dataset_cfg = leaf_dataset_cfgs(cfg.test_dataloader.dataset)[0]
    steps = [copy.deepcopy(t) for t in dataset_cfg['pipeline'] if t['type'].rsplit('.', 1)[-1] != 'LoadAnnotations']
    return Compose(steps)


def inference_rgbt(model: torch.nn.Module, rgb: Union[str, Sequence[str]], thermal: Union[str, Sequence[str]],
                   batch_size: int = 4) -> Union[object, List[object]]:
    """Run the config's test pipeline and ``model.test_step`` on one pair or on lists of pairs.

    Args:
        model: From :func:`init_rgbt_model`.
        rgb, thermal: A path each (``str`` or ``os.PathLike``), or equally long sequences of paths.
        batch_size: Pairs per forward pass (consecutive pairs of another input shape after the pipeline go in a
            pass of their own).

    Returns:
        A host data sample (``DetDataSample`` / ``SegDataSample``) or a list of them.
    """
    single = _is_path(rgb)
    if single != _is_path(thermal):
        raise TypeError(f'inference_rgbt: give one path each or two sequences of paths, got rgb={rgb!r} and '
                        f'thermal={thermal!r}')
    rgb_paths = [os.fspath(rgb)] if single else [os.fspath(p) for p in rgb]
    ir_paths = [os.fspath(thermal)] if single else [os.fspath(p) for p in thermal]
    if len(rgb_paths) != len(ir_paths):
        raise ValueError(f'got {len(rgb_paths)} RGB and {len(ir_paths)} thermal paths; they must pair up')
    init_default_scope(scope_of_config(model.cfg))
    pipeline = _test_pipeline(model.cfg)
    results = []
    for start in range(0, len(rgb_paths), batch_size):
        data = [
            pipeline(dict(img_path=r, ir_path=t, img_id=start + i))
            for i, (r, t) in enumerate(zip(rgb_paths[start:start + batch_size], ir_paths[start:start + batch_size]))
        ]
        for group in same_shape_runs(data):
            with torch.no_grad():
                results.extend(model.test_step(pseudo_collate(group)))
    return results[0] if single else results


def _is_path(value) -> bool:
    return isinstance(value, (str, os.PathLike))


def same_shape_runs(data: List[dict]) -> List[List[dict]]:
    """Split pipeline outputs into consecutive runs whose ``inputs`` share one shape (order kept): frames of other
    aspect ratios resize to other shapes, which a segmentation preprocessor without padding cannot stack."""
    runs: List[List[dict]] = []
    for item in data:
        if runs and tuple(runs[-1][0]['inputs'].shape) == tuple(item['inputs'].shape):
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs
