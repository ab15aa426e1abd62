# Copyright (c) mmspecgene contributors. All rights reserved.
"""Convert, validate and publish M-SpecGene checkpoints (docs/en/method.md#checkpoint-layouts).

Examples::

    # released pretraining checkpoint -> mmspecgene pretraining layout
    python tools/model_converters/specgene_convert.py M-SpecGene_VIT-B.pth out.pth \
        --dst-format mmspecgene-pretrain
    # any pretraining format -> det / seg backbone init
    python tools/model_converters/specgene_convert.py in.pth det_init.pth --dst-format det-init
    # check a fine-tuned checkpoint against the model of its config, then publish it (sha256 suffix)
    python tools/model_converters/specgene_convert.py seg_iter_320000.pth --validate-only \
        --config configs/seg/upernet/upernet_rgbt-vit-b-specgene_2xb1-320k_mvseg-768x768.py
    python tools/model_converters/specgene_convert.py seg_iter_320000.pth seg_mvseg.pth --publish --config ...

The reference layout is the ``state_dict()`` of the model that ``--config`` builds (for the pretraining formats
converted to the file's format); without ``--config`` the pretraining formats are checked against the ViT-B
pretraining config, and fine-tuned files are not checked (their class count depends on the dataset).
"""
import argparse
import os.path as osp
import sys
from typing import Mapping, Optional

import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

from mmspecgene.models.checkpoint import (
    FINETUNED_FORMATS,
    FORMATS,
    compare_with_reference,
    convert_checkpoint,
    detect_format,
    get_state_dict,
    load_checkpoint_file,
    publish,
    reference_state,
    summarize_keys,
)
from mmspecgene.utils import scope_of_config
from mmspecgene.utils.cfg_options import add_cfg_options_arguments, check_cfg_options
from mmspecgene.utils.checkpoint_loader import add_trust_checkpoint_code_argument

DST_FORMATS = ('released-pretrain', 'mmspecgene-pretrain', 'det-init', 'seg-init')
DEFAULT_PRETRAIN_CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs', 'pretrain', 'specgene',
    'specgene_vit-base-p16_8xb128-amp-coslr-100e_rgbt550k.py')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Convert, validate and publish M-SpecGene checkpoints')
    parser.add_argument('src', help='source checkpoint file')
    parser.add_argument('dst', nargs='?', help='output file (not needed with --validate-only)')
    parser.add_argument('--src-format', default='auto', choices=('auto', ) + FORMATS, help='source layout')
    parser.add_argument(
        '--dst-format', choices=DST_FORMATS, help='output layout (default: the source layout, e.g. to publish)')
    parser.add_argument(
        '--norm-from',
        choices=('rgb', 'thermal'),
        help='mmspecgene -> released: decoder norm written as neck.ln1 when the separate norms differ')
    parser.add_argument(
        '--separate-decoder-norms',
        action='store_true',
        help='released -> mmspecgene: duplicate neck.ln1 into neck.{rgb,thermal}.norm')
    parser.add_argument(
        '--config',
        help='config whose model loads the file: det/seg/SOD config for fine-tuned files, a pretraining config '
        'for the other formats (default for those: the ViT-B pretraining config)')
    add_cfg_options_arguments(parser, help='override settings of --config (key=value)')
    parser.add_argument('--validate-only', action='store_true', help='only report the layout; exit 1 on differences')
    parser.add_argument('--publish', action='store_true', help='strip training state, add a sha256 suffix')
    add_trust_checkpoint_code_argument(parser)
    args = parser.parse_args(argv)
    if not args.validate_only and not args.dst:
        parser.error('dst is required unless --validate-only is given')
    return args


def build_model_state(config: str, cfg_options: Optional[dict] = None, strict_cfg_options: bool = False) -> Mapping:
    """``state_dict()`` of the model of ``config`` (built on the CPU, weights not initialised from files)."""
    cfg = Config.fromfile(config)  # its custom_imports register the mmspecgene task package
    if cfg_options:
        check_cfg_options(cfg, cfg_options, strict=strict_cfg_options)
        cfg.merge_from_dict(cfg_options)
    init_default_scope(scope_of_config(cfg))
    return MODELS.build(cfg.model).state_dict()


class ReferenceModel:
    """The model state of ``--config`` (or of the default pretraining config), built once on first use."""

    def __init__(self, config: Optional[str], cfg_options: Optional[dict], strict_cfg_options: bool = False) -> None:
        self.config, self.cfg_options, self.strict_cfg_options = config, cfg_options, strict_cfg_options
        self._state = {}

    def config_for(self, fmt: str) -> Optional[str]:
        if self.config is not None:
            return self.config
        return None if fmt in FINETUNED_FORMATS else DEFAULT_PRETRAIN_CONFIG

    def state_for(self, fmt: str) -> Mapping:
        config = self.config_for(fmt)
        if config not in self._state:
            self._state[config] = build_model_state(config, self.cfg_options, self.strict_cfg_options)
        return reference_state(self._state[config], fmt)


def key_report(title: str, state: Mapping, fmt: str, reference: ReferenceModel) -> bool:
    """Print tensor counts and the comparison with the model of the config; True if they agree."""
    print(f'{title}: {fmt}, {len(state)} tensors: {summarize_keys(state, max_groups=40)}')
    config = reference.config_for(fmt)
    if config is None:
        print(f'  reference layout: not checked; pass --config (the {fmt[:3]} config that loads this file)')
        return False
    try:
        expected = reference.state_for(fmt)
    except (KeyError, ValueError, RuntimeError) as err:
        print(f'  reference layout: cannot be built from {config} ({err})')
        return False
    if fmt == 'mmspecgene-pretrain' and not any(k.startswith('neck.') for k in state):
        expected = {k: v for k, v in expected.items() if not k.startswith('neck.')}
        print('  reference layout: encoder only (the file has no decoder neck)')
    diff = compare_with_reference(state, expected)
    if not any(diff.values()):
        print(f'  reference layout ({osp.basename(config)}): all keys and shapes agree')
        return True
    for kind in ('missing', 'unexpected', 'mismatched'):
        if diff[kind]:
            print(f'  reference layout ({osp.basename(config)}): {len(diff[kind])} {kind}: {diff[kind]}')
    return False


def main(argv=None):
    args = parse_args(argv)
    ckpt = load_checkpoint_file(args.src)
    src_format = detect_format(ckpt) if args.src_format == 'auto' else args.src_format
    how = 'auto-detected' if args.src_format == 'auto' else 'given'
    reference = ReferenceModel(args.config, args.cfg_options, args.strict_cfg_options)
    ok = key_report(f'source {args.src} ({how})', get_state_dict(ckpt, src_format), src_format, reference)
    if args.validate_only:
        sys.exit(0 if ok else 1)
    if not ok:
        print('warning: the source differs from its reference layout (see above); converting anyway')

    dst_format = args.dst_format or src_format
    out = convert_checkpoint(
        ckpt,
        dst_format,
        src_format=src_format,
        norm_from=args.norm_from,
        shared_decoder_norm=not args.separate_decoder_norms)
    key_report('output', get_state_dict(out, dst_format), dst_format, reference)
    if args.publish:
        final = publish(out, args.dst)
    else:
        torch.save(out, args.dst)
        final = args.dst
    print(f'saved {final}')


if __name__ == '__main__':
    main()
