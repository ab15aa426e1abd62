# Copyright (c) mmspecgene contributors. All rights reserved.
"""Evaluate a checkpoint with any mmspecgene config; host chosen by the config."""
import argparse
import json
import os
import os.path as osp

from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmspecgene.datasets.transforms.modality_dropout import FILL_TRANSFORMS, MODALITIES, add_missing_modality
from mmspecgene.utils import scope_of_config
from mmspecgene.utils.cfg_options import add_cfg_options_arguments, merge_cfg_options
from mmspecgene.utils.checkpoint_loader import add_trust_checkpoint_code_argument
from mmspecgene.utils.dist import prepare_distributed


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and evaluate) an mmspecgene model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and metrics')
    parser.add_argument('--out', help='dump raw predictions to this pickle file')
    parser.add_argument('--metrics-json', help='also write the returned metrics to this json file')
    parser.add_argument('--show-dir', help='save RGB‖thermal visualisations under work_dir/timestamp/SHOW_DIR')
    parser.add_argument('--show', action='store_true', help='show visualisations in a window')
    parser.add_argument('--wait-time', type=float, default=2, help='seconds between shown images')
    add_cfg_options_arguments(parser)
    parser.add_argument('--missing-modality', choices=MODALITIES,
                        help='evaluate with this modality absent (dropped from every test pair)')
    parser.add_argument('--missing-fill', choices=sorted(FILL_TRANSFORMS), default='mean',
                        help='what replaces the missing modality (default: mean = zeros after normalisation)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    add_trust_checkpoint_code_argument(parser)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=None,
                        help='set by the legacy torch.distributed.launch; torchrun sets LOCAL_RANK')
    args = parser.parse_args()
    if args.local_rank is not None:
        os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def enable_visualization(cfg, args) -> None:
    """Switch on the config's visualisation hook, whichever host it belongs to."""
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise KeyError('--show/--show-dir need default_hooks.visualization in the config')
    hook_type = hook['type']
    if 'Det' in hook_type or 'Seg' in hook_type:
        hook['draw'] = True
        hook['interval'] = 1  # every test image
        if args.show:
            hook['show'], hook['wait_time'] = True, args.wait_time
        if args.show_dir:
            if 'Det' in hook_type:
                hook['test_out_dir'] = args.show_dir  # the hook puts it under work_dir/timestamp/
            else:
                cfg.visualizer['save_dir'] = osp.join(cfg.work_dir, args.show_dir)
    else:
        hook['enable'] = True


def _to_json(value):
    """Metric values (python or numpy numbers) as floats; anything else as text."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def main():
    args = parse_args()
    cfg = merge_cfg_options(Config.fromfile(args.config), args)
    scope_of_config(cfg)
    if args.missing_modality:
        add_missing_modality(cfg, args.missing_modality, args.missing_fill)
    cfg.launcher = args.launcher
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        './work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = None  # loaded strictly below: a fine-tuned checkpoint must match the model exactly
    if args.show or args.show_dir:
        enable_visualization(cfg, args)
    if args.out:
        dump = dict(type='DumpResults', out_file_path=args.out)  # mmengine root metric, found from any scope
        evaluator = cfg.test_evaluator if isinstance(cfg.test_evaluator, list) else [cfg.test_evaluator]
        cfg.test_evaluator = evaluator + [dump]
    prepare_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.load_checkpoint(args.checkpoint, map_location='cpu', strict=True)
    metrics = runner.test()
    if args.metrics_json and runner.rank == 0:
        with open(args.metrics_json, 'w') as f:
            json.dump({k: _to_json(v) for k, v in metrics.items()}, f, indent=2)


if __name__ == '__main__':
    main()
