# Copyright (c) mmspecgene contributors. All rights reserved.
"""Train any mmspecgene config (pretraining, detection, segmentation, SOD); host chosen by the config."""
import argparse
import os
import os.path as osp

from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmspecgene.utils import scope_of_config
from mmspecgene.utils.cfg_options import add_cfg_options_arguments, merge_cfg_options
from mmspecgene.utils.checkpoint_loader import add_trust_checkpoint_code_argument
from mmspecgene.utils.dist import fp32_without_cuda, prepare_distributed


def parse_args():
    parser = argparse.ArgumentParser(description='Train an mmspecgene model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or from the latest one in the work dir if no path is given')
    parser.add_argument('--amp', action='store_true', help='enable automatic mixed precision (needs CUDA)')
    parser.add_argument('--auto-scale-lr', action='store_true', help='scale the lr with the global batch size')
    add_cfg_options_arguments(
        parser, help='override config settings, e.g. train_cfg.max_iters=100 (key=value, lists as [a,b])')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    add_trust_checkpoint_code_argument(parser)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=None,
                        help='set by the legacy torch.distributed.launch; torchrun sets LOCAL_RANK')
    args = parser.parse_args()
    if args.local_rank is not None:
        os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main():
    args = parse_args()
    cfg = merge_cfg_options(Config.fromfile(args.config), args)
    scope_of_config(cfg)
    cfg.launcher = args.launcher
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        './work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    fp32_without_cuda(cfg)
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise KeyError(f'--auto-scale-lr needs auto_scale_lr.base_batch_size in {args.config}')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    prepare_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()


if __name__ == '__main__':
    main()
