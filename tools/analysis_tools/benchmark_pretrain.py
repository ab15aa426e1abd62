# Copyright (c) mmspecgene contributors. All rights reserved.
"""Cost of RGBT pretraining against stock single-image MAE, side by side in one process.

(a) Training step: ``SpecGeneMAE`` (two modalities, GMM-CMSS masking, dual decoder with cross-attention) vs
    mmpretrain ``MAE`` at the same per-modality settings (architecture, mask ratio, decoder, batch per modality).
    Expected ratio: about 2 (two modalities) plus the masking and cross-attention overhead.
(b) Data pipeline per core: LoadRGBTImagePair + RGBTRandomResizedCrop + RandomFlip + PackInputs vs
    LoadImageFromFile + RandomResizedCrop + RandomFlip + PackInputs on synthetic images written to a temp dir.
    Acceptance: a pair costs at most 2.2x a single image.

Example::

    python tools/analysis_tools/benchmark_pretrain.py                      # tiny ViT, CPU, small sizes
    python tools/analysis_tools/benchmark_pretrain.py --arch base --batch 32 --device cuda --skip-pipeline
"""
import argparse
import os.path as osp
import tempfile
import time
from typing import Callable, Dict, List

import cv2
import numpy as np
import torch

ACCEPT_PIPELINE_RATIO = 2.2
IMAGENET_MEAN = [123.675, 116.28, 103.53]
IMAGENET_STD = [58.395, 57.12, 57.375]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='SpecGeneMAE vs stock MAE: training step and data pipeline')
    parser.add_argument('--arch', default='tiny', choices=['tiny', 'small', 'base'], help='encoder size')
    parser.add_argument('--batch', type=int, default=4, help='batch per modality (pairs for SpecGeneMAE)')
    parser.add_argument('--device', default='cpu', help='torch device of the training-step benchmark')
    parser.add_argument('--img-size', type=int, default=224, help='input size')
    parser.add_argument('--patch-size', type=int, default=16, help='patch size')
    parser.add_argument('--mask-ratio', type=float, default=0.9, help='mask ratio of both models')
    parser.add_argument('--decoder-dim', type=int, default=None, help='decoder width (base: 512, else 128)')
    parser.add_argument('--decoder-depth', type=int, default=None, help='decoder blocks (base: 4, else 2)')
    parser.add_argument('--masker', default='GMMCMSSMasking',
                        choices=['GMMCMSSMasking', 'ReleasedGMMCMSSMasking', 'RandomRGBTMasking'])
    parser.add_argument('--cmss-backend', default='eager', choices=['eager', 'compiled'],
                        help='CMSS backend of the GMM-CMSS maskers')
    parser.add_argument('--amp', action='store_true', help='autocast (CUDA) in the training step')
    parser.add_argument('--iters', type=int, default=5, help='timed training steps')
    parser.add_argument('--warmup', type=int, default=2, help='untimed training steps')
    parser.add_argument('--threads', type=int, default=1, help='torch/cv2 threads on CPU (per-core numbers)')
    parser.add_argument('--num-images', type=int, default=16, help='synthetic pairs for the pipeline benchmark')
    parser.add_argument('--image-hw', type=int, nargs=2, default=(512, 640), help='synthetic image H W')
    parser.add_argument('--pipeline-repeats', type=int, default=4, help='passes over the synthetic images')
    parser.add_argument('--crop-backend', default='cv2', choices=['cv2', 'pillow'], help='crop resize backend')
    parser.add_argument('--skip-train', action='store_true', help='skip (a), the training step')
    parser.add_argument('--skip-pipeline', action='store_true', help='skip (b), the data pipeline')
    return parser.parse_args(argv)


# ------------------------------------------------------------------------------------------ (a) training step
def model_configs(args) -> Dict[str, dict]:
    """Configs of SpecGeneMAE and the stock MAE with identical per-modality settings."""
    from mmspecgene.models.vit import ARCH_SETTINGS
    arch = ARCH_SETTINGS[args.arch]
    width = arch['embed_dims']
    decoder_dim = args.decoder_dim or (512 if args.arch == 'base' else 128)
    decoder_depth = args.decoder_depth or (4 if args.arch == 'base' else 2)
    decoder_heads = 16 if decoder_dim % 16 == 0 else 4
    num_patches = (args.img_size // args.patch_size)**2
    stock_arch = dict(
        embed_dims=width,
        num_layers=arch['num_layers'],
        num_heads=arch['num_heads'],
        feedforward_channels=int(width * arch['mlp_ratio']))
    decoder = dict(
        num_patches=num_patches,
        patch_size=args.patch_size,
        in_chans=3,
        embed_dim=width,
        decoder_embed_dim=decoder_dim,
        decoder_depth=decoder_depth,
        decoder_num_heads=decoder_heads,
        mlp_ratio=4)
    if args.masker == 'RandomRGBTMasking':
        masker = dict(type=args.masker, mask_ratio=args.mask_ratio)
    else:
        masker = dict(type=args.masker, mask_ratio=args.mask_ratio, max_mask_ratio=min(args.mask_ratio + 0.05, 0.99),
                      cmss_backend=args.cmss_backend)
    specgene = dict(
        type='SpecGeneMAE',
        data_preprocessor=dict(
            type='RGBTSelfSupDataPreprocessor',
            mean=IMAGENET_MEAN * 2,
            std=IMAGENET_STD * 2,
            to_rgb=(True, True)),
        backbone=dict(
            type='RGBTMAEViT',
            arch=args.arch,
            img_size=args.img_size,
            patch_size=args.patch_size,
            masker=masker),
        neck=dict(type='RGBTMAEDecoder', **decoder),
        head=dict(type='RGBTMAEHead', patch_size=args.patch_size, norm_pix=True))
    stock = dict(
        type='MAE',
        data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=IMAGENET_MEAN, std=IMAGENET_STD, to_rgb=True),
        backbone=dict(
            type='MAEViT',
            arch=stock_arch,
            img_size=args.img_size,
            patch_size=args.patch_size,
            mask_ratio=args.mask_ratio),
        neck=dict(type='MAEPretrainDecoder', **decoder),
        head=dict(
            type='MAEPretrainHead',
            norm_pix=True,
            patch_size=args.patch_size,
            loss=dict(type='PixelReconstructionLoss', criterion='L2')))
    return dict(specgene=specgene, stock=stock)


def time_train_steps(model, data: dict, args, on_step: Callable[[int, int], None]) -> float:
    """Mean ms per ``train_step`` (forward, backward, AdamW update) after ``args.warmup`` steps."""
    from mmengine.optim import AmpOptimWrapper, OptimWrapper
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    wrapper = AmpOptimWrapper(optimizer=optimizer) if args.amp else OptimWrapper(optimizer=optimizer)
    device = torch.device(args.device)
    total_steps = args.warmup + args.iters
    elapsed = 0.0
    for step in range(total_steps):
        on_step(step, total_steps)
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        model.train_step(data, wrapper)
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        if step >= args.warmup:
            elapsed += time.perf_counter() - start
    return 1000.0 * elapsed / max(args.iters, 1)


def benchmark_train_step(args) -> Dict[str, float]:
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    import mmspecgene.pretrain  # noqa: F401  (registers the RGBT classes)
    init_default_scope('mmpretrain')
    cfgs = model_configs(args)
    device = torch.device(args.device)
    gen = torch.Generator().manual_seed(0)
    pairs = torch.randint(0, 256, (args.batch, 6, args.img_size, args.img_size), generator=gen, dtype=torch.uint8)

    results, peak_gib = {}, {}
    for name, data in (('stock', dict(inputs=pairs[:, :3].contiguous(), data_samples=None)),
                       ('specgene', dict(inputs=pairs, data_samples=None))):
        torch.manual_seed(0)
        model = MODELS.build(cfgs[name])
        model.init_weights()
        model.to(device)
        if device.type == 'cuda':
            torch.cuda.reset_peak_memory_stats(device)
        masker = getattr(model, 'masker', None)  # RGBTMaskingHook's job in a runner

        def set_progress(step, total, masker=masker):
            if masker is not None:
                masker.set_progress(step, total, max_epochs=1)

        results[name] = time_train_steps(model, data, args, set_progress)
        if device.type == 'cuda':
            peak_gib[name] = torch.cuda.max_memory_allocated(device) / 2**30
        if name == 'specgene':
            results['masking'] = time_masking(model.backbone.masker, args, device)
        del model
    ratio = results['specgene'] / results['stock']
    print(f'(a) training step on {args.device}, arch {args.arch}, {args.img_size}px, patch {args.patch_size}, '
          f'mask ratio {args.mask_ratio}, batch {args.batch} per modality, threads {torch.get_num_threads()}')
    print(f'    mmpretrain MAE (one modality) : {results["stock"]:9.1f} ms/step')
    print(f'    SpecGeneMAE (RGB + thermal)   : {results["specgene"]:9.1f} ms/step')
    print(f'    ratio SpecGeneMAE / MAE       : {ratio:9.2f}x  (two modalities: ~2x expected)')
    print(f'    SpecGeneMAE throughput        : {1000 * args.batch / results["specgene"]:9.1f} pairs/s')
    print(f'    GMM-CMSS masking (same shapes): {results["masking"]:9.2f} ms = '
          f'{100 * results["masking"] / results["specgene"]:.1f}% of the step')
    for name, gib in peak_gib.items():
        print(f'    peak memory {name:<18}: {gib:9.2f} GiB')
    return dict(stock_ms=results['stock'], specgene_ms=results['specgene'], ratio=ratio,
                masking_ms=results['masking'], peak_gib=peak_gib)


def time_masking(masker, args, device) -> float:
    """Mean ms of one masker call on (B, L, D) tokens shaped like the training step's."""
    from mmspecgene.models.vit import ARCH_SETTINGS
    num_tokens = (args.img_size // args.patch_size)**2
    width = ARCH_SETTINGS[args.arch]['embed_dims']
    gen = torch.Generator(device='cpu').manual_seed(1)
    rgb = torch.randn(args.batch, num_tokens, width, generator=gen).to(device)
    thermal = torch.randn(args.batch, num_tokens, width, generator=gen).to(device)
    elapsed = 0.0
    with torch.no_grad():
        for step in range(args.warmup + args.iters):
            if device.type == 'cuda':
                torch.cuda.synchronize(device)
            start = time.perf_counter()
            masker(rgb, thermal)
            if device.type == 'cuda':
                torch.cuda.synchronize(device)
            if step >= args.warmup:
                elapsed += time.perf_counter() - start
    return 1000.0 * elapsed / max(args.iters, 1)


# ------------------------------------------------------------------------------------------ (b) data pipeline
def write_synthetic_images(root: str, num: int, hw) -> List[dict]:
    """Textured RGB JPEGs and grey thermal JPEGs of size ``hw``; returns the data infos."""
    rng = np.random.default_rng(0)
    h, w = hw
    infos = []
    for index in range(num):
        coarse = rng.integers(0, 256, (h // 16, w // 16, 3), dtype=np.uint8)
        rgb = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR)
        rgb = cv2.add(rgb, rng.integers(0, 32, (h, w, 3), dtype=np.uint8))
        thermal = cv2.cvtColor(rgb, cv2.COLOR_BGR2GRAY)
        rgb_path, ir_path = osp.join(root, f'rgb_{index:04d}.jpg'), osp.join(root, f'ir_{index:04d}.jpg')
        cv2.imwrite(rgb_path, rgb)
        cv2.imwrite(ir_path, thermal)
        infos.append(dict(img_path=rgb_path, ir_path=ir_path))
    return infos


def pipelines(args) -> Dict[str, list]:
    crop = dict(scale=args.img_size, crop_ratio_range=(0.2, 1.0), interpolation='bicubic', backend=args.crop_backend)
    single = [
        dict(type='LoadImageFromFile'),
        dict(type='RandomResizedCrop', **crop),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackInputs'),
    ]
    paired = [
        dict(type='LoadRGBTImagePair'),
        dict(type='RGBTRandomResizedCrop', **crop),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackInputs', meta_keys=('img_path', 'ir_path', 'modality_channels', 'channel_order')),
    ]
    return dict(single=single, paired=paired)


def benchmark_pipeline(args) -> Dict[str, float]:
    from mmengine.dataset import Compose
    from mmengine.registry import init_default_scope

    import mmpretrain.datasets  # noqa: F401  (registers PackInputs, RandomResizedCrop, ...)
    import mmspecgene.datasets.transforms  # noqa: F401
    init_default_scope('mmpretrain')
    cfgs = pipelines(args)
    names = ('single', 'paired')
    results, breakdown = {}, {}
    with tempfile.TemporaryDirectory(prefix='mmspecgene_bench_') as root:
        infos = write_synthetic_images(root, args.num_images, args.image_hw)
        steps = {name: [Compose([cfg]) for cfg in cfgs[name]] for name in names}  # timed one by one
        np.random.seed(0)
        for info in infos[:2]:  # warm-up (file cache, lazy imports)
            for name in names:
                Compose(cfgs[name])(dict(info))
        seconds = {name: np.zeros(len(cfgs[name])) for name in names}
        packed = {}
        # Interleaved (one sample of each pipeline in turn), so that a change of machine load during the run
        # affects both alike.
        for _ in range(args.pipeline_repeats):
            for info in infos:
                for name in names:
                    results_dict = dict(info)
                    for index, step in enumerate(steps[name]):
                        start = time.perf_counter()
                        results_dict = step(results_dict)
                        seconds[name][index] += time.perf_counter() - start
                    packed[name] = results_dict
        total = args.num_images * args.pipeline_repeats
        for name in names:
            channels = packed[name]['inputs'].shape[0]
            if channels != (6 if name == 'paired' else 3):
                raise RuntimeError(f'{name} pipeline packed {channels} channels')
            results[name] = total / seconds[name].sum()
            breakdown[name] = ', '.join(f"{cfg['type']} {1000 * sec / total:.2f}"
                                        for cfg, sec in zip(cfgs[name], seconds[name]))
    ratio = results['single'] / results['paired']
    verdict = 'PASS' if ratio <= ACCEPT_PIPELINE_RATIO else 'FAIL'
    print(f'(b) data pipeline, one process, {cv2.getNumThreads()} cv2 thread(s), {args.image_hw[0]}x'
          f'{args.image_hw[1]} JPEGs -> {args.img_size}px, crop backend {args.crop_backend}')
    print(f'    single image (stock MAE)      : {results["single"]:9.1f} samples/s  [ms: {breakdown["single"]}]')
    print(f'    RGBT pair (mmspecgene)        : {results["paired"]:9.1f} pairs/s    [ms: {breakdown["paired"]}]')
    print(f'    cost ratio pair / single      : {ratio:9.2f}x  (acceptance <= {ACCEPT_PIPELINE_RATIO}x: {verdict})')
    return dict(single_per_s=results['single'], paired_per_s=results['paired'], ratio=ratio)


def main(argv=None):
    args = parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
        cv2.setNumThreads(args.threads)
    results = {}
    if not args.skip_train:
        results['train'] = benchmark_train_step(args)
    if not args.skip_pipeline:
        results['pipeline'] = benchmark_pipeline(args)
    return results


if __name__ == '__main__':
    main()
