# Copyright (c) mmspecgene contributors. All rights reserved.
"""Parameters and FLOPs of any RGBT config (pretraining, detection, segmentation, SOD) for one (1, 6, H, W) pair.

mmengine's complexity analysis (``mmengine.analysis``: jit-traced ``FlopAnalyzer``, ``parameter_count``) on a
random normalised [RGB | T] input, with one handle added: ``aten::scaled_dot_product_attention``, which
mmengine does not count (our attention runs through it), counted like the explicit ``q @ k^T`` and
``attn @ v`` matmuls. As in mmengine/fvcore, one fused multiply-add counts as one FLOP; element-wise ops
(softmax, GELU, additions) and custom ops (NMS, RoIAlign) are not counted and are listed at the end.

What is measured, per task (models built with random weights; no checkpoint or data needed):

* det (mmdet): the test-time forward ``model(inputs, data_samples, mode='tensor')`` as mmdet's get_flops:
  backbone, neck, RPN with proposals, RoI heads. FLOPs of the RoI heads depend on the proposal count.
* seg / SOD (mmseg): ``model(inputs, mode='tensor')``: backbone, neck, decode head (no auxiliary head).
* match (mmspecgene): ``model(inputs, mode='tensor')``: backbone, coarse transformer and matching, fine branch
  (always counted); the fine transformer's FLOPs depend on the number of coarse matches the random weights give.
* pretrain (mmpretrain): two rows: the encoder on both full modalities (``extract_feat``, what a downstream
  task reuses), and the training forward at the masker's base mask ratio (patch embedding, encoder on the
  visible tokens of both modalities, dual decoder; the masker's own cost is not counted).

Examples::

    python tools/analysis_tools/get_flops.py \
        configs/det/vitdet/vitdet_mask-rcnn_rgbt-vit-b-specgene_lsj-2xb1-25000i_kaist.py
    python tools/analysis_tools/get_flops.py \
        configs/seg/upernet/upernet_rgbt-vit-l-specgene_2xb1-320k_semanticrt-768x768.py --shape 512 512
    python tools/analysis_tools/get_flops.py configs/pretrain/specgene/specgene_vit-tiny-p16_1xb16-30e_synthetic.py
"""
import argparse
import copy
import math
from collections import OrderedDict
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config

from mmspecgene.utils.cfg_options import add_cfg_options_arguments, merge_cfg_options

TASK_OF_SCOPE = dict(mmpretrain='pretrain', mmdet='det', mmseg='seg', mmspecgene='match')
SDPA_OP = 'aten::scaled_dot_product_attention'
OTHER_PART = '(outside submodule calls)'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Parameters and FLOPs of an RGBT config (6-channel input)')
    parser.add_argument('config', help='config file (pretrain, det, seg or SOD)')
    parser.add_argument(
        '--shape', type=int, nargs='+', default=None,
        help='input H W (or one value for H = W); default: the size the config builds the backbone for')
    add_cfg_options_arguments(parser)
    parser.add_argument('--show-table', action='store_true', help='print mmengine\'s per-module complexity table')
    return parser.parse_args(argv)


# ------------------------------------------------------------------------------------------------- counting
def sdpa_flop_jit(inputs: List, outputs: List) -> int:
    """FLOPs of ``scaled_dot_product_attention(q, k, v, ...)``: (..., Nq, d) x (..., Nk, d) -> (..., Nq, dv).

    ``q @ k^T`` costs prod(...) * Nq * Nk * d and ``attn @ v`` prod(...) * Nq * Nk * dv (one multiply-add = 1).
    """
    from mmengine.analysis.jit_handles import get_shape
    q, k, v = (get_shape(x) for x in inputs[:3])
    batch = math.prod(q[:-2])
    return batch * q[-2] * k[-2] * (q[-1] + v[-1])


def count_complexity(module: nn.Module, inputs: Tuple, show_table: bool = False) -> dict:
    """Trace ``module(*inputs)`` with mmengine's FlopAnalyzer (plus the SDPA handle).

    ``module`` wraps the model as ``module.model`` (the forwards below); its parts (backbone, neck, heads) are
    reported one by one.

    Returns:
        dict: ``flops`` (int), ``params`` (int), ``parts`` (child of the model -> (params, flops), parts with
        neither left out, plus :data:`OTHER_PART` for ops run outside any child's ``__call__``), ``uncounted``
        (op name -> calls not counted), ``table`` (str, with ``show_table``).
    """
    from mmengine.analysis import FlopAnalyzer, parameter_count
    from mmengine.analysis.print_helper import complexity_stats_table
    analyzer = FlopAnalyzer(module, inputs).set_op_handle(**{SDPA_OP: sdpa_flop_jit})
    analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    params = parameter_count(module)
    flops = analyzer.by_module()
    parts = OrderedDict()
    for name, _ in module.model.named_children():
        counts = (params.get(f'model.{name}', 0), flops.get(f'model.{name}', 0))
        if any(counts):
            parts[name] = counts
    total = analyzer.total()
    rest = (params[''] - sum(p for p, _ in parts.values()), total - sum(f for _, f in parts.values()))
    if any(rest):  # ops a part's forward runs outside its submodules' calls (e.g. UPerHead's resizes)
        parts[OTHER_PART] = rest
    result = dict(flops=total, params=params[''], parts=parts, uncounted=dict(analyzer.unsupported_ops()))
    if show_table:
        result['table'] = complexity_stats_table(flops=analyzer, max_depth=3, show_param_shapes=False)
    return result


# ------------------------------------------------------------------------------------------- task forwards
class TensorForward(nn.Module):
    """``model(inputs, data_samples, mode='tensor')`` as a one-input module for the tracer (outputs flattened)."""

    def __init__(self, model: nn.Module, data_samples: Optional[list] = None):
        super().__init__()
        self.model = model
        self.data_samples = data_samples

    def forward(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        return tuple(flatten_tensors(self.model(inputs, self.data_samples, mode='tensor')))


class EncoderForward(nn.Module):
    """The pretraining encoder on both full modalities: (B, 6, H, W) -> rgb/thermal (B, 1 + L, C)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        feats = self.model.extract_feat(inputs)
        return feats['rgb'], feats['thermal']


class MaskedTrainForward(nn.Module):
    """Pretraining forward at a fixed keep count: patch embedding, encoder on the visible tokens, dual decoder.

    The visible ids are a fixed random draw (``num_keep`` per modality); the masker itself is not run, so its
    cost is not counted.
    """

    def __init__(self, model: nn.Module, num_keep: int, seed: int = 0):
        super().__init__()
        self.model = model
        num_tokens = model.backbone.num_patches
        gen = torch.Generator().manual_seed(seed)
        self.ids_shuffle = {m: torch.randperm(num_tokens, generator=gen) for m in ('rgb', 'thermal')}
        self.num_keep = num_keep

    def forward(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        backbone = self.model.backbone
        tokens = backbone.embed_tokens(inputs)
        batch = inputs.shape[0]
        visible, ids_restore = {}, {}
        for modality, ids_shuffle in self.ids_shuffle.items():
            ids_shuffle = ids_shuffle.to(inputs.device).expand(batch, -1)
            ids_keep = ids_shuffle[:, :self.num_keep]
            index = ids_keep.unsqueeze(-1).expand(-1, -1, tokens[modality].shape[-1])
            visible[modality] = torch.gather(tokens[modality], 1, index)
            ids_restore[modality] = torch.argsort(ids_shuffle, dim=1)
        preds = self.model.neck(backbone.encode(visible), ids_restore)
        return preds['rgb'], preds['thermal']


def flatten_tensors(value) -> List[torch.Tensor]:
    """Every tensor in a nested tuple / list / dict, in order."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in flatten_tensors(item)]
    return []


def det_data_samples(shape: Tuple[int, int], batch: int = 1) -> list:
    """mmdet test-time samples of an unscaled, unpadded (H, W) input."""
    from mmdet.structures import DetDataSample
    meta = dict(img_shape=shape, ori_shape=shape, pad_shape=shape, batch_input_shape=shape, scale_factor=(1., 1.))
    return [DetDataSample(metainfo=meta) for _ in range(batch)]


# ----------------------------------------------------------------------------------------------- config
def _pair(value) -> Tuple[int, int]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def config_task(cfg: Config) -> str:
    from mmspecgene.utils import scope_of_config
    return TASK_OF_SCOPE[scope_of_config(cfg)]


def match_input_size(cfg: Config) -> Tuple[int, int]:
    """(H, W) of a matching config's test pairs: ``LoadRGBTMatchPair``'s ``img_size`` (w, h)."""
    for step in cfg.test_dataloader.dataset.pipeline:
        if step['type'] == 'LoadRGBTMatchPair' and step.get('img_size') is not None:
            width, height = step['img_size']
            return height, width
    raise ValueError(f'{cfg.filename}: no LoadRGBTMatchPair(img_size=...) in the test pipeline; pass --shape H W')


def set_input_shape(cfg: Config, task: str, shape: Optional[Sequence[int]]) -> Tuple[int, int]:
    """The (H, W) to measure at (default: the backbone's build size, for matching the test pairs' size);
    rebuilds size-dependent parts for it."""
    backbone = cfg.model.backbone
    built = match_input_size(cfg) if task == 'match' else _pair(backbone.get('img_size', 224))
    if shape is None:
        return built
    if len(shape) not in (1, 2):
        raise ValueError(f'--shape takes H W or one value, got {list(shape)}')
    shape = _pair(shape[0]) if len(shape) == 1 else tuple(shape)
    patch = backbone.get('patch_size', 16)
    if shape[0] % patch or shape[1] % patch:
        raise ValueError(f'--shape {shape[0]} {shape[1]}: H and W must be multiples of the patch size {patch}')
    if task == 'match':  # the matching ViT resizes its positions to any grid
        return shape
    backbone.img_size = shape
    if task == 'pretrain':  # the token count drives the masker and the decoder's position table
        num_tokens = (shape[0] // patch) * (shape[1] // patch)
        if backbone.get('masker') is not None:
            backbone.masker.num_tokens = num_tokens
        cfg.model.neck.num_patches = (shape[0] // patch, shape[1] // patch)
    elif task == 'seg':
        cfg.model.data_preprocessor.size = shape
    return shape


def build_model(cfg: Config, task: str) -> nn.Module:
    """The config's model with random weights (no ``init_cfg`` checkpoint), CPU, eval mode, SyncBN -> BN."""
    import importlib

    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import DefaultScope

    from mmspecgene.utils import TASK_SCOPES, register_all_modules
    register_all_modules(task, init_default_scope=False)
    scope = TASK_SCOPES[task]
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.pop('init_cfg', None)
    with DefaultScope.overwrite_default_scope(scope):
        model = importlib.import_module(f'{scope}.registry').MODELS.build(model_cfg)
    return revert_sync_batchnorm(model).eval()


def measure(cfg: Config, shape: Optional[Sequence[int]] = None, show_table: bool = False) -> dict:
    """Parameters and FLOPs of the config's model for one pair.

    Returns:
        dict: ``task``, ``shape`` (H, W), ``arch`` and ``rows``: forward name -> :func:`count_complexity` result.
    """
    cfg = copy.deepcopy(cfg)
    task = config_task(cfg)
    shape = set_input_shape(cfg, task, shape)
    torch.manual_seed(0)  # random weights and input: reproducible proposal / detection counts for the RoI heads
    model = build_model(cfg, task)
    inputs = (torch.randn(1, 6, *shape), )
    rows = OrderedDict()
    with torch.no_grad():
        if task == 'det':
            rows['test forward'] = count_complexity(TensorForward(model, det_data_samples(shape)), inputs, show_table)
        elif task in ('seg', 'match'):
            rows['test forward'] = count_complexity(TensorForward(model), inputs, show_table)
        else:
            rows['encoder (both modalities)'] = count_complexity(EncoderForward(model), inputs, show_table)
            masker = model.backbone.masker
            mask_ratio = getattr(masker, 'mask_ratio', None)
            if mask_ratio is not None:
                num_keep = int(round(model.backbone.num_patches * (1 - mask_ratio)))
                rows[f'train forward (mask ratio {mask_ratio:g})'] = count_complexity(
                    MaskedTrainForward(model, num_keep), inputs, show_table)
    return dict(task=task, shape=shape, arch=cfg.model.backbone.get('arch'), rows=rows)


def _fmt(value: float) -> str:
    for unit, scale in (('T', 1e12), ('G', 1e9), ('M', 1e6), ('K', 1e3)):
        if value >= scale:
            return f'{value / scale:.2f}{unit}'
    return str(int(value))


def format_report(path: str, result: dict) -> str:
    h, w = result['shape']
    lines = [f'{path}', f'task: {result["task"]}, arch: {result["arch"]}, input: (1, 6, {h}, {w}) [RGB | thermal]']
    for name, row in result['rows'].items():
        lines.append(f'\n{name}: params {_fmt(row["params"])} ({row["params"]:,}), FLOPs {_fmt(row["flops"])}')
        lines.append(f'  {"part":<28}{"params":>12}{"FLOPs":>12}')
        for part, (params, flops) in row['parts'].items():
            lines.append(f'  {part:<28}{_fmt(params):>12}{_fmt(flops):>12}')
        if row['uncounted']:
            ops = ', '.join(f'{op} x{n}' for op, n in sorted(row['uncounted'].items()))
            lines.append(f'  not counted: {ops}')
        if 'table' in row:
            lines.append(row['table'])
    lines.append('\nFLOPs count one multiply-add as one (mmengine/fvcore); element-wise and custom ops are not '
                 'counted.')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    cfg = merge_cfg_options(Config.fromfile(args.config), args)
    result = measure(cfg, args.shape, args.show_table)
    print(format_report(args.config, result))
    return result


if __name__ == '__main__':
    main()
