# Copyright (c) mmspecgene contributors. All rights reserved.
"""Cost of RGBT pretraining against stock single-image MAE, side by side in one process.

(a) Training step: ``SpecGeneMAE`` (two modalities, GMM-CMSS masking, dual decoder with cross-attention) vs
    mmpretrain ``MAE`` at the same per-modality settings (architecture, mask ratio, decoder, batch per modality).
    Expected ratio: about 2 (two modalities) plus the masking and cross-attention overhead.
(b) Data pipeline per core, three pipelines interleaved sample by sample: the stock mmpretrain MAE pipeline
    exactly as its config ships it (one RGB image: cv2 load, Pillow bicubic RandomResizedCrop, flip, pack), today's
    paired path (LoadRGBTImagePair + RGBTRandomResizedCrop, full decode) and the shipped crop-aware one
    (LoadRGBTRandomResizedCrop, the RGBT550K config's pipeline). Data: camera-like 1280x1024 and 640x512 JPEG
    pairs written to a temp dir (mmspecgene.datasets.camera_frames), or ``--data DIR``. ``--loader`` measures the
    whole DataLoader (workers, persistent workers, pin memory) instead.
    Acceptance at 1280x1024: crop-aware >= 3.5x today's pairs/s and a pair <= 0.35x a stock image; at 640x512
    crop-aware >= today.

Example::

    python tools/analysis_tools/benchmark_pretrain.py                      # tiny ViT, CPU, small sizes
    python tools/analysis_tools/benchmark_pretrain.py --arch base --batch 32 --device cuda --skip-pipeline
    python tools/analysis_tools/benchmark_pretrain.py --skip-train         # data pipelines, per core
    python tools/analysis_tools/benchmark_pretrain.py --skip-train --loader --workers 2 --data data/rgbt550k
"""
import argparse
import copy
import os
import os.path as osp
import resource
import tempfile
import time
from typing import Callable, Dict, List, Optional, Tuple

import cv2
import numpy as np
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SHIPPED_DATA_CFG = 'configs/pretrain/_base_/datasets/rgbt550k.py'
PAIR_LIST = 'pairs_train.txt'
GPU_PAIRS_PER_S = 1902  # SpecGeneMAE ViT-B step on one H200 (docs/en/benchmarks.md)
IMAGENET_MEAN = [123.675, 116.28, 103.53]
IMAGENET_STD = [58.395, 57.12, 57.375]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='SpecGeneMAE vs stock MAE: training step and data pipeline')
    parser.add_argument('--arch', default='tiny', choices=['tiny', 'small', 'base', 'large'], help='encoder size')
    parser.add_argument('--batch', type=int, default=4, help='batch per modality (pairs for SpecGeneMAE)')
    parser.add_argument('--device', default='cpu', help='torch device of the training-step benchmark')
    parser.add_argument('--img-size', type=int, default=224, help='input size')
    parser.add_argument('--patch-size', type=int, default=16, help='patch size')
    parser.add_argument('--mask-ratio', type=float, default=0.9, help='mask ratio of both models')
    parser.add_argument('--decoder-dim', type=int, default=None, help='decoder width (tiny: 128, else 512)')
    parser.add_argument('--decoder-depth', type=int, default=None, help='decoder blocks (tiny: 2, else 4)')
    parser.add_argument('--masker', default='GMMCMSSMasking',
                        choices=['GMMCMSSMasking', 'ReleasedGMMCMSSMasking', 'RandomRGBTMasking'])
    parser.add_argument('--cmss-backend', default='eager', choices=['eager', 'compiled'],
                        help='CMSS backend of the GMM-CMSS maskers')
    parser.add_argument('--amp', action='store_true', help='autocast (CUDA) in the training step')
    parser.add_argument('--iters', type=int, default=5, help='timed training steps')
    parser.add_argument('--warmup', type=int, default=2, help='untimed training steps')
    parser.add_argument('--threads', type=int, default=1, help='torch/cv2 threads on CPU (per-core numbers)')
    parser.add_argument('--data', default=None, help='pair data root (pair list or mirrored visible/ + infrared/) '
                        'instead of generated frames')
    parser.add_argument('--ann-file', default=None, help='pair list under --data (default: '
                        'annotations/pairs_train.txt if present, else mirrored roots)')
    parser.add_argument('--generator', default='camera', choices=['camera', 'flat'], help='generated frames: '
                        'camera-like (natural statistics, JPEG q90-95) or flat synthetic blocks')
    parser.add_argument('--num-images', type=int, default=16, help='generated pairs per size')
    parser.add_argument('--image-hw', type=int, nargs=2, action='append', default=None,
                        help='generated frame H W (repeatable; default 1024 1280 and 512 640)')
    parser.add_argument('--pipeline-repeats', type=int, default=4, help='passes over the pairs')
    parser.add_argument('--loader', action='store_true', help='measure the whole DataLoader instead of one core')
    parser.add_argument('--workers', type=int, default=2, help='--loader: worker processes (persistent)')
    parser.add_argument('--pin-memory', action='store_true', help='--loader: pin memory')
    parser.add_argument('--loader-batch', type=int, default=32, help='--loader: batch size')
    parser.add_argument('--loader-batches', type=int, default=10, help='--loader: timed batches')
    parser.add_argument('--loader-warmup', type=int, default=2, help='--loader: untimed batches (worker start-up)')
    parser.add_argument('--loader-rounds', type=int, default=2, help='--loader: alternating rounds per pipeline')
    parser.add_argument('--skip-train', action='store_true', help='skip (a), the training step')
    parser.add_argument('--skip-pipeline', action='store_true', help='skip (b), the data pipeline')
    args = parser.parse_args(argv)
    args.image_hw = args.image_hw or [(1024, 1280), (512, 640)]
    return args


# ------------------------------------------------------------------------------------------ (a) training step
def model_configs(args) -> Dict[str, dict]:
    """Configs of SpecGeneMAE and the stock MAE with identical per-modality settings."""
    from mmspecgene.models.vit import ARCH_SETTINGS
    arch = ARCH_SETTINGS[args.arch]
    width = arch['embed_dims']
    # the configs' decoder for every ViT size (512 wide, 4 blocks); a small one for the tiny CPU model
    decoder_dim = args.decoder_dim or (128 if args.arch == 'tiny' else 512)
    decoder_depth = args.decoder_depth or (2 if args.arch == 'tiny' else 4)
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
def write_flat_images(root: str, num: int, hw) -> None:
    """Flat synthetic pairs (coarse colour blocks + uniform noise): the old generator, much cheaper to decode."""
    rng = np.random.default_rng(0)
    h, w = hw
    for sub in ('visible', 'infrared', 'annotations'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    lines = []
    for index in range(num):
        coarse = rng.integers(0, 256, (h // 16, w // 16, 3), dtype=np.uint8)
        rgb = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR)
        rgb = cv2.add(rgb, rng.integers(0, 32, (h, w, 3), dtype=np.uint8))
        name = f'flat_{index:05d}.jpg'
        cv2.imwrite(osp.join(root, 'visible', name), rgb)
        cv2.imwrite(osp.join(root, 'infrared', name), cv2.cvtColor(rgb, cv2.COLOR_BGR2GRAY))
        lines.append(f'{name} {name}\n')
    with open(osp.join(root, 'annotations', PAIR_LIST), 'w') as f:
        f.writelines(lines)


def pair_infos(data_dir: str, ann_file: Optional[str]) -> List[dict]:
    """Data infos of a pair list (``ann_file``, default ``annotations/pairs_train.txt`` if present) or of
    mirrored ``visible/`` + ``infrared/`` roots, through RGBTPairDataset."""
    from mmspecgene.pretrain.datasets import RGBTPairDataset
    if ann_file is None and osp.isfile(osp.join(data_dir, 'annotations', PAIR_LIST)):
        ann_file = osp.join('annotations', PAIR_LIST)
    dataset = RGBTPairDataset(data_root=data_dir, ann_file=ann_file or '', lazy_init=False, serialize_data=False)
    return [dataset.get_data_info(i) for i in range(len(dataset))]


def stock_mae_pipeline(img_size: int) -> list:
    """mmpretrain's MAE pretraining pipeline exactly as its config ships it (only the crop size can change)."""
    import mmpretrain
    from mmengine.config import Config
    cfg_path = osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'configs', '_base_', 'datasets',
                        'imagenet_bs512_mae.py')
    pipeline = copy.deepcopy(Config.fromfile(cfg_path).train_pipeline)
    for step in pipeline:
        if step['type'] == 'RandomResizedCrop':
            step['scale'] = img_size
    return pipeline


def pipelines(args) -> Dict[str, list]:
    """The three pipelines compared: stock single-image MAE, today's paired path and the shipped crop-aware one."""
    from mmengine.config import Config
    shipped = copy.deepcopy(Config.fromfile(osp.join(REPO, SHIPPED_DATA_CFG)).train_pipeline)
    for step in shipped:
        if step['type'] == 'LoadRGBTRandomResizedCrop':
            step['scale'] = args.img_size
    meta_keys = ('img_path', 'ir_path', 'modality_channels', 'channel_order')
    today = [  # the RGBT550K pipeline shipped before crop-aware decoding
        dict(type='LoadRGBTImagePair'),
        dict(type='RGBTRandomResizedCrop', scale=args.img_size, crop_ratio_range=(0.2, 1.0), interpolation='bicubic'),
        dict(type='RandomFlip', prob=0.5),
        dict(type='PackInputs', meta_keys=meta_keys),
    ]
    return dict(stock=stock_mae_pipeline(args.img_size), today=today, crop_aware=shipped)


def time_pipelines(cfgs: Dict[str, list], infos: List[dict], repeats: int):
    """Samples per CPU second, CPU ms per step and minor page faults per sample of each pipeline, interleaved sample
    by sample in this process.

    CPU time of this thread (user + kernel; cv2 runs single-threaded in it), so that other processes on a shared
    machine do not count: samples per CPU second = samples/s per core. Page faults show whether large buffers (a
    full-resolution decode) come as fresh pages, each faulted in by the kernel, or are reused from the heap.
    """
    from mmengine.dataset import Compose
    names = list(cfgs)
    steps = {name: [Compose([cfg]) for cfg in cfgs[name]] for name in names}
    np.random.seed(0)
    for info in infos[:2]:  # warm-up (file cache, lazy imports)
        for name in names:
            Compose(cfgs[name])(dict(info))
    seconds = {name: np.zeros(len(cfgs[name])) for name in names}
    faults = dict.fromkeys(names, 0)
    packed = {}
    # Interleaved (one sample of each pipeline in turn), so that a change of machine load during the run
    # affects all alike.
    for _ in range(repeats):
        for info in infos:
            for name in names:
                results_dict = dict(info)
                first_fault = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
                for index, step in enumerate(steps[name]):
                    start = time.thread_time()
                    results_dict = step(results_dict)
                    seconds[name][index] += time.thread_time() - start
                faults[name] += resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - first_fault
                packed[name] = results_dict
    total = len(infos) * repeats
    rates, breakdown = {}, {}
    for name in names:
        channels = packed[name]['inputs'].shape[0]
        if channels != (3 if name == 'stock' else 6):
            raise RuntimeError(f'{name} pipeline packed {channels} channels')
        rates[name] = total / seconds[name].sum()
        breakdown[name] = ', '.join(f"{cfg['type']} {1000 * sec / total:.2f}"
                                    for cfg, sec in zip(cfgs[name], seconds[name]))
        breakdown[name] += f'; {faults[name] / total:.0f} page faults'
    return rates, breakdown


def dataset_dirs(args, root: str) -> List[Tuple[str, str]]:
    """(label, data dir) per source size: ``--data`` or frames written by the chosen generator."""
    if args.data:
        return [(f'--data {args.data}', args.data)]
    from mmspecgene.datasets.camera_frames import write_camera_pairs
    dirs = []
    for h, w in args.image_hw:
        data_dir = osp.join(root, f'{args.generator}_{h}x{w}')
        if args.generator == 'camera':
            write_camera_pairs(data_dir, args.num_images, (h, w), seed=0)
        else:
            write_flat_images(data_dir, args.num_images, (h, w))
        dirs.append((f'{w}x{h} {args.generator} JPEG', data_dir))
    return dirs


def benchmark_pipeline(args) -> Dict[str, dict]:
    import mmpretrain.datasets  # noqa: F401  (registers PackInputs, RandomResizedCrop, ...)
    from mmengine.registry import init_default_scope

    import mmspecgene.pretrain  # noqa: F401  (RGBT transforms and RGBTPairDataset)
    init_default_scope('mmpretrain')
    cfgs = pipelines(args)
    results = {}
    with tempfile.TemporaryDirectory(prefix='mmspecgene_bench_') as root:
        for label, data_dir in dataset_dirs(args, root):
            infos = pair_infos(data_dir, args.ann_file)
            if args.loader:
                results[label] = benchmark_loader(args, data_dir, cfgs, label)
                continue
            rates, breakdown = time_pipelines(cfgs, infos, args.pipeline_repeats)
            speed_up = rates['crop_aware'] / rates['today']
            cost_ratio = rates['stock'] / rates['crop_aware']
            print(f'(b) data pipeline per core: {label}, {len(infos)} pairs x {args.pipeline_repeats} passes -> '
                  f'{args.img_size}px, one process, {cv2.getNumThreads()} cv2 thread(s), interleaved, thread CPU time')
            print(f'    stock MAE, one RGB image      : {rates["stock"]:9.1f} images/s [ms: {breakdown["stock"]}]')
            print(f'    today\'s pair (full decode)    : {rates["today"]:9.1f} pairs/s  [ms: {breakdown["today"]}]')
            print(f'    crop-aware pair (shipped)     : {rates["crop_aware"]:9.1f} pairs/s  '
                  f'[ms: {breakdown["crop_aware"]}]')
            print(f'    speed-up crop-aware / today   : {speed_up:9.2f}x')
            print(f'    cost pair / stock image       : {cost_ratio:9.2f}x')
            cores = {name: GPU_PAIRS_PER_S / rate for name, rate in rates.items()}
            print(f'    cores per GPU at {GPU_PAIRS_PER_S}/s     : crop-aware {cores["crop_aware"]:.1f}, '
                  f'today {cores["today"]:.1f}, stock (images) {cores["stock"]:.1f}')
            results[label] = dict(rates=rates, speed_up=speed_up, cost_ratio=cost_ratio)
    return results


def benchmark_loader(args, data_dir: str, cfgs: Dict[str, list], label: str) -> Dict[str, float]:
    """Pairs/s of the whole DataLoader (workers, persistent workers, pin memory, collate) per paired pipeline."""
    from mmengine.runner import Runner
    ann_file = args.ann_file
    if ann_file is None and osp.isfile(osp.join(data_dir, 'annotations', PAIR_LIST)):
        ann_file = osp.join('annotations', PAIR_LIST)
    rates = {name: [] for name in ('today', 'crop_aware')}
    for _ in range(args.loader_rounds):  # alternate the two, so that load drift affects both alike
        for name in rates:
            loader = Runner.build_dataloader(
                dict(batch_size=args.loader_batch, num_workers=args.workers, persistent_workers=args.workers > 0,
                     pin_memory=args.pin_memory, sampler=dict(type='InfiniteSampler', shuffle=True, seed=0),
                     collate_fn=dict(type='default_collate'),
                     dataset=dict(type='RGBTPairDataset', data_root=data_dir, ann_file=ann_file or '',
                                  pipeline=cfgs[name])), seed=0)
            batches = iter(loader)
            for _ in range(args.loader_warmup):
                next(batches)
            start = time.perf_counter()
            for _ in range(args.loader_batches):
                next(batches)
            rates[name].append(args.loader_batches * args.loader_batch / (time.perf_counter() - start))
            del batches, loader
    mean = {name: float(np.mean(values)) for name, values in rates.items()}
    print(f'(b) whole DataLoader: {label}, {args.workers} workers (persistent), pin_memory={args.pin_memory}, '
          f'batch {args.loader_batch}, {args.loader_batches} batches after {args.loader_warmup} warm-up, '
          f'{args.loader_rounds} alternating rounds')
    print(f'    today\'s pair (full decode)    : {mean["today"]:9.1f} pairs/s')
    print(f'    crop-aware pair (shipped)     : {mean["crop_aware"]:9.1f} pairs/s')
    print(f'    speed-up crop-aware / today   : {mean["crop_aware"] / mean["today"]:9.2f}x')
    return mean


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
