# Copyright (c) mmspecgene contributors. All rights reserved.
"""Time GMM-CMSS masking: a plain port of the released algorithm vs ``GMMCMSSMasking`` (clean).

The port follows the released code (docs/en/method.md): CMSS with the thermal variance squared and a local max, one
numpy EM step in the probability domain, numpy sampler draws concatenated per centre, and the greedy selection as a
Python loop over images and slots with the 1e5/1e3 sentinels. All methods run on the same tokens in the same
process, interleaved.

Example::

    python tools/analysis_tools/benchmark_masking.py --batch-size 128 --iters 5 [--with-compiled]
"""
import argparse
import time
from typing import Dict, List

import numpy as np
import torch
import torch.nn.functional as F

from mmspecgene.models import GMMCMSSMasking


class ReleasedMaskingPort:
    """Straightforward port of the released per-iteration algorithm, numpy + torch.

    Args:
        num_tokens (int): L.
        mask_ratio (float): base mask ratio; keep = int(L (1 - r)).
        seed (int): numpy RNG seed (the release drew its init and noise from numpy).
    """

    def __init__(self, num_tokens: int = 196, mask_ratio: float = 0.90, seed: int = 0) -> None:
        self.num_tokens = num_tokens
        self.base_keep = int(num_tokens * (1 - mask_ratio))
        self.rng = np.random.RandomState(seed)
        self.means = self.rng.rand(3)
        self.variances = np.ones(3)
        self.weights = np.full(3, 1.0 / 3)
        self.centres: List[float] = [0.0]
        self.keep_bias = 0.0
        self.centre_bias = 0.0
        self.counter = 0
        self.tick = 0

    @staticmethod
    def cmss(rgb_tokens: torch.Tensor, thermal_tokens: torch.Tensor) -> np.ndarray:
        """Released CMSS: thermal variance squared, local max; returns (B, L) numpy."""
        with torch.no_grad():
            rgb = rgb_tokens.float()
            thermal = thermal_tokens.float()
            cosine = F.cosine_similarity(thermal, rgb, dim=-1)
            ratio = torch.sqrt((cosine + 1) / 2)
            thermal_var = thermal.var(dim=-1)
            metric = ratio / (thermal_var * thermal_var)
            metric = metric / metric.max()
        return metric.cpu().numpy().astype(np.float64)

    def em_step(self, cmss: np.ndarray) -> None:
        """One warm-started EM step in the probability domain (no epsilon, no floor)."""
        values = cmss.reshape(-1, 1)
        density = self.weights * np.exp(-(values - self.means)**2 /
                                        (2 * self.variances)) / np.sqrt(2 * np.pi * self.variances)
        resp = density / density.sum(axis=1, keepdims=True)
        mass = resp.sum(axis=0)
        self.means = (resp * values).sum(axis=0) / mass
        self.variances = (resp * (values - self.means)**2).sum(axis=0) / mass
        self.weights = mass / values.shape[0]

    def draw(self, batch_size: int, sign: float) -> np.ndarray:
        """Sampler draws, concatenated per centre without shuffling, reshaped to (B, L)."""
        means = np.concatenate([[0.0], self.means])
        variances = np.concatenate([[0.01], self.variances])
        weights = np.concatenate([[0.0], self.weights])
        order = np.argsort(means)
        means, variances, weights = means[order], variances[order], weights[order]
        num_centres = len(self.centres)
        active = weights[1:1 + num_centres]
        active = active / active.sum()
        total = batch_size * self.num_tokens
        chunks = []
        for index, centre in enumerate(self.centres):
            count = int(total * active[index]) if index < num_centres - 1 else total - sum(map(len, chunks))
            mean = centre + sign * self.centre_bias
            variance = np.interp(mean, means, variances)
            chunks.append(self.rng.normal(mean, np.sqrt(variance), count))
        return np.concatenate(chunks).reshape(batch_size, self.num_tokens)

    def select(self, cmss: np.ndarray, noise_thermal: np.ndarray, noise_rgb: np.ndarray, keep_thermal: int,
               keep_rgb: int) -> Dict[str, np.ndarray]:
        """Greedy selection, thermal first, with 1e5 (own) / 1e3 (other modality) sentinels."""
        batch_size = cmss.shape[0]
        thermal_copy = cmss.copy()
        rgb_copy = cmss.copy()
        kept_thermal = np.zeros((batch_size, keep_thermal), dtype=np.int64)
        kept_rgb = np.zeros((batch_size, keep_rgb), dtype=np.int64)
        for image in range(batch_size):
            for slot in range(keep_thermal):
                index = np.argmin(np.abs(noise_thermal[image, slot] - thermal_copy[image]))
                kept_thermal[image, slot] = index
                thermal_copy[image, index] = 1e5
                rgb_copy[image, index] = 1e3
        for image in range(batch_size):
            for slot in range(keep_rgb):
                index = np.argmin(np.abs(noise_rgb[image, slot] - rgb_copy[image]))
                kept_rgb[image, slot] = index
                rgb_copy[image, index] = 1e5
        outputs = {}
        for name, kept in (('thermal', kept_thermal), ('rgb', kept_rgb)):
            mask = np.ones((batch_size, self.num_tokens))
            np.put_along_axis(mask, kept, 0.0, axis=1)
            rest = np.argsort(1 - mask, axis=1, kind='stable')[:, kept.shape[1]:]
            ids_shuffle = np.concatenate([kept, rest], axis=1)
            outputs[f'{name}_mask'] = mask
            outputs[f'{name}_ids_keep'] = kept
            outputs[f'{name}_ids_restore'] = np.argsort(ids_shuffle, axis=1)
        return outputs

    def __call__(self, rgb_tokens: torch.Tensor, thermal_tokens: torch.Tensor) -> Dict[str, torch.Tensor]:
        outputs = self.mask_from_cmss(self.cmss(rgb_tokens, thermal_tokens))
        device = rgb_tokens.device
        return {key: torch.from_numpy(value).to(device) for key, value in outputs.items()}

    def mask_from_cmss(self, cmss: np.ndarray) -> Dict[str, np.ndarray]:
        """Everything after the CMSS: EM step, draws, budgets, greedy selection, clock."""
        self.em_step(cmss)
        batch_size = cmss.shape[0]
        noise_thermal = self.draw(batch_size, +1.0)
        noise_rgb = self.draw(batch_size, -1.0)
        keep_thermal = self.base_keep - int(self.keep_bias)
        keep_rgb = self.base_keep + int(self.keep_bias)
        outputs = self.select(cmss, noise_thermal, noise_rgb, keep_thermal, keep_rgb)
        self.counter += 1
        if self.counter > 267.69:
            self.counter = 0
            self.tick += 1
        return outputs


def time_calls(functions: Dict[str, object], iters: int, warmup: int, device: torch.device) -> Dict[str, float]:
    """Mean milliseconds per call of each function after ``warmup`` untimed rounds.

    The functions run interleaved (one call of each per round), so that a change of machine load during the run
    affects all of them alike.
    """

    def synchronize():
        if device.type == 'cuda':
            torch.cuda.synchronize(device)

    for step in range(warmup):
        for function in functions.values():
            function(step)
    totals = {name: 0.0 for name in functions}
    for step in range(warmup, warmup + iters):
        for name, function in functions.items():
            synchronize()
            start = time.perf_counter()
            function(step)
            synchronize()
            totals[name] += time.perf_counter() - start
    return {name: total * 1000.0 / iters for name, total in totals.items()}


def parse_args():
    parser = argparse.ArgumentParser(description='Benchmark GMM-CMSS masking: released port vs mmspecgene.')
    parser.add_argument('--batch-size', type=int, default=128)
    parser.add_argument('--num-tokens', type=int, default=196)
    parser.add_argument('--dim', type=int, default=768)
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads (default: torch default)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--breakdown', action='store_true', help='also time the CMSS and the rest separately')
    parser.add_argument(
        '--with-compiled',
        action='store_true',
        help="also time the masker with cmss_backend='compiled' (torch.compile of the same CMSS function; the "
        'first call compiles, outside the timed rounds)')
    return parser.parse_args()


def main():
    args = parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    generator = torch.Generator().manual_seed(args.seed)
    shape = (args.batch_size, args.num_tokens, args.dim)
    # Token-like inputs: per-token scale varies so that the CMSS spreads over (0, 1].
    scale_rgb = torch.rand(args.batch_size, args.num_tokens, 1, generator=generator) + 0.2
    scale_thermal = torch.rand(args.batch_size, args.num_tokens, 1, generator=generator) + 0.2
    rgb_tokens = torch.randn(shape, generator=generator) * scale_rgb
    thermal_tokens = torch.randn(shape, generator=generator) * scale_thermal + 0.5 * rgb_tokens
    # The Siamese encoder embeds the (2B, 3, H, W) batch at once: both halves of one (2B, L, D) tensor.
    tokens = torch.cat([rgb_tokens, thermal_tokens]).to(device)
    rgb_tokens, thermal_tokens = tokens[:args.batch_size], tokens[args.batch_size:]

    port = ReleasedMaskingPort(num_tokens=args.num_tokens, seed=args.seed)
    backends = ('eager', 'compiled') if args.with_compiled else ('eager', )
    maskers = {
        backend: GMMCMSSMasking(num_tokens=args.num_tokens, total_ticks=100, curriculum_seed=args.seed,
                                cmss_backend=backend).to(device)
        for backend in backends
    }
    max_iters = 10**6  # no curriculum tick inside the timed iterations (one per 10^4 iterations)
    zero = torch.zeros((), device=device)

    def run_port(step):
        return port(rgb_tokens, thermal_tokens)

    def clean_runner(masker):

        def run_clean(step):
            masker.set_progress(step, max_iters)
            outputs = masker(rgb_tokens, thermal_tokens)
            masker.update_losses(zero, zero)
            return outputs

        return run_clean

    functions = dict(port=run_port, **{backend: clean_runner(masker) for backend, masker in maskers.items()})
    names = dict(port='released port', eager='mmspecgene clean, eager CMSS', compiled='mmspecgene clean, compiled CMSS')
    # The first call of each method (the compile, for the compiled CMSS) is outside the timed rounds.
    for key, function in functions.items():
        outputs = function(0)
        overlap = int(((outputs['rgb_mask'] == 0) & (outputs['thermal_mask'] == 0)).sum())
        kept = [int((outputs[f'{m}_mask'] == 0).sum(1).min()) for m in ('rgb', 'thermal')]
        print(f'{names[key]}: kept rgb/thermal per image = {kept[0]}/{kept[1]}, overlap = {overlap}')

    times = time_calls(functions, args.iters, args.warmup, device)
    print(f'device={device} threads={torch.get_num_threads()} B={args.batch_size} L={args.num_tokens} '
          f'D={args.dim} iters={args.iters}')
    for key, value in times.items():
        ratio = '' if key == 'port' else f'   speed-up {times["port"] / value:6.2f}x'
        print(f'{names[key]:32s}: {value:9.2f} ms/iter{ratio}')
    if args.breakdown:
        masker = maskers['eager']
        port_cmss = port.cmss(rgb_tokens, thermal_tokens)
        clean_cmss, raw_stats = masker.compute_cmss(rgb_tokens, thermal_tokens)
        parts = time_calls(
            dict(
                port_cmss=lambda step: port.cmss(rgb_tokens, thermal_tokens),
                clean_cmss=lambda step: masker.compute_cmss(rgb_tokens, thermal_tokens),
                port_rest=lambda step: port.mask_from_cmss(port_cmss),
                clean_rest=lambda step: masker.mask_from_cmss(clean_cmss, raw_stats),
                clean_statistics=lambda step: masker.statistics()), args.iters, args.warmup, device)
        print('breakdown (ms/iter): CMSS port {port_cmss:.2f} / clean eager {clean_cmss:.2f} ({cmss_ratio:.2f}x); '
              'after CMSS (EM, draws, selection, outputs) port {port_rest:.2f} / clean {clean_rest:.2f} '
              '({rest_ratio:.2f}x); clean statistics (logging iterations only) {clean_statistics:.2f}'.format(
                  cmss_ratio=parts['port_cmss'] / parts['clean_cmss'],
                  rest_ratio=parts['port_rest'] / parts['clean_rest'],
                  **parts))


if __name__ == '__main__':
    main()
