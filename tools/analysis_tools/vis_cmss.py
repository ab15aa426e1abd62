# Copyright (c) mmspecgene contributors. All rights reserved.
"""Visualise CMSS and the GMM-CMSS masks of one RGB-thermal pair (and, with a checkpoint, the reconstructions).

Examples::

    # CMSS of an untrained patch embedding, masks of a fresh curriculum (tick 0)
    python tools/analysis_tools/vis_cmss.py rgb.jpg ir.jpg --out-file cmss.png
    # a pretraining checkpoint (released or mmspecgene layout): its encoder, curriculum state and decoder
    python tools/analysis_tools/vis_cmss.py rgb.jpg ir.jpg --config configs/pretrain/specgene/<cfg>.py \
        --checkpoint work_dirs/epoch_100.pth --out-file cmss.png

The pair is shown as the model sees a pretraining view, without distortion: the short side is resized to the
model's input size and the long side centre-cropped (a 1280x1024 frame loses 1/10 of its width on each side); the
figure says so in its title. The figure: RGB, thermal, CMSS heat map (low = information-dense), each modality's
visible patches and, with ``--checkpoint``, each modality's reconstruction (visible patches pasted back).
"""
import argparse
import os.path as osp
from typing import Dict, Optional

import cv2
import numpy as np
import torch

from mmspecgene.utils.checkpoint_loader import add_trust_checkpoint_code_argument

DEFAULT_MODEL_CFG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs', 'pretrain', '_base_', 'models',
    'specgene-mae_vit-base-p16.py')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Plot the CMSS map and GMM-CMSS masks of an RGB-thermal pair')
    parser.add_argument('rgb', help='RGB image file')
    parser.add_argument('thermal', help='thermal image file (same size as the RGB image)')
    parser.add_argument('--config', default=None, help=f'pretraining config (default: {DEFAULT_MODEL_CFG})')
    parser.add_argument('--checkpoint', default=None, help='pretraining checkpoint (released or mmspecgene)')
    parser.add_argument('--out-file', required=True, help='output PNG')
    parser.add_argument('--device', default='cpu', help='torch device')
    parser.add_argument('--seed', type=int, default=0, help='torch seed of a model without checkpoint')
    add_trust_checkpoint_code_argument(parser)
    return parser.parse_args(argv)


def load_full_pair(rgb_path: str, thermal_path: str) -> np.ndarray:
    """Load with the training loader: (H, W, 6) uint8 [RGB | T], BGR, at the frame's own size."""
    from mmspecgene.datasets.transforms import LoadRGBTImagePair
    return LoadRGBTImagePair().transform(dict(img_path=rgb_path, ir_path=thermal_path))['img']


def pretraining_view(img: np.ndarray, size) -> np.ndarray:
    """The model's (H, W) = ``size`` view of a whole frame without distorting it, as a pretraining crop is resized
    (same scale on both axes): the short side resized to fit, then a centre crop of the long side.
    (h, w, 6) -> (H, W, 6), both halves at once."""
    height, width = img.shape[:2]
    scale = max(size[0] / height, size[1] / width)
    new_h, new_w = max(size[0], int(round(height * scale))), max(size[1], int(round(width * scale)))
    resized = cv2.resize(img, (new_w, new_h), interpolation=cv2.INTER_CUBIC)
    top, left = (new_h - size[0]) // 2, (new_w - size[1]) // 2
    return np.ascontiguousarray(resized[top:top + size[0], left:left + size[1]])


def view_note(frame_hw, size) -> str:
    """How :func:`pretraining_view` showed a frame, for the figure."""
    height, width = frame_hw
    if height * size[1] == width * size[0]:
        return f'{width}x{height} frame resized to {size[1]}x{size[0]}'
    return f'{width}x{height} frame: short side resized, centre crop {size[1]}x{size[0]} (aspect kept)'


def load_pair(rgb_path: str, thermal_path: str, size) -> np.ndarray:
    """:func:`pretraining_view` of a loaded pair: (H, W, 6) uint8 BGR with (H, W) = ``size``."""
    return pretraining_view(load_full_pair(rgb_path, thermal_path), size)


def build_model(config: Optional[str], checkpoint: Optional[str], device: str):
    """Build the SpecGeneMAE of ``config`` and load a pretraining checkpoint with a key report."""
    from mmengine.config import Config
    from mmpretrain.registry import MODELS

    import mmspecgene.pretrain  # noqa: F401  (registers the classes)
    from mmspecgene.models.checkpoint import (
        detect_format,
        get_state_dict,
        load_checkpoint_file,
        load_state_dict_with_report,
        released_to_mmspecgene,
    )
    cfg = Config.fromfile(config or DEFAULT_MODEL_CFG)
    model = MODELS.build(cfg.model)
    model.init_weights()
    if checkpoint:
        ckpt = load_checkpoint_file(checkpoint)
        fmt = detect_format(ckpt)
        if fmt not in ('released-pretrain', 'mmspecgene-pretrain'):
            raise ValueError(f'{checkpoint}: expected a pretraining checkpoint (released or mmspecgene layout), '
                             f'detected {fmt!r}')
        state = get_state_dict(ckpt, fmt)
        if fmt == 'released-pretrain':
            state = released_to_mmspecgene(state, shared_decoder_norm=model.neck.shared_decoder_norm)
        # released checkpoints carry no curriculum buffers; preprocessor buffers are not model weights
        load_state_dict_with_report(
            model,
            state,
            allowed_missing=(r'backbone\.masker\.', r'data_preprocessor\.'),
            allowed_unexpected=(r'data_preprocessor\.', ))
    return model.to(device).eval()


def denormalise(imgs: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> np.ndarray:
    """(3, H, W) normalised RGB-order tensor -> (H, W, 3) uint8 RGB for display."""
    img = imgs * std.view(3, 1, 1) + mean.view(3, 1, 1)
    return img.clamp(0, 255).permute(1, 2, 0).cpu().numpy().astype(np.uint8)


@torch.no_grad()
def run(model, pair: np.ndarray, with_recon: bool) -> Dict[str, np.ndarray]:
    """Masks, CMSS and (optionally) reconstructions of one (H, W, 6) pair; all outputs are numpy arrays.

    The masker runs at its current curriculum state (the checkpoint's, or tick 0 for a fresh model).
    """
    from mmspecgene.models.mae_decoder import MODALITIES
    from mmspecgene.pretrain.algorithms import gather_tokens
    device = next(model.parameters()).device
    inputs = torch.from_numpy(np.ascontiguousarray(pair.transpose(2, 0, 1)))[None].to(device)
    inputs = model.data_preprocessor(dict(inputs=inputs, data_samples=None), False)['inputs']
    backbone, head = model.backbone, model.head
    tokens = backbone.embed_tokens(inputs)
    masking = backbone.mask_tokens(tokens)
    grid = backbone.grid_size
    norm = model.data_preprocessor.rgbt
    mean, std = norm.mean.flatten().to(device), norm.std.flatten().to(device)
    halves = head.split_inputs(inputs)
    out = dict(cmss=masking['cmss'][0].reshape(grid).cpu().numpy())
    p = backbone.patch_size
    for index, modality in enumerate(MODALITIES):
        sl = slice(3 * index, 3 * index + 3)
        out[modality] = denormalise(halves[modality][0], mean[sl], std[sl])
        patch_mask = masking[f'{modality}_mask'][0].reshape(grid).cpu().numpy()
        out[f'{modality}_mask'] = np.kron(patch_mask, np.ones((p, p)))
    if with_recon:
        visible = {m: gather_tokens(tokens[m], masking[f'{m}_ids_keep']) for m in MODALITIES}
        latents = backbone.encode(visible)
        preds = model.neck(latents, {m: masking[f'{m}_ids_restore'] for m in MODALITIES})
        for index, modality in enumerate(MODALITIES):
            pred = preds[modality].float()
            if head.norm_pix:  # back from patch-normalised space with the input patch statistics
                target = head.patchify(halves[modality].float())
                var, mu = torch.var_mean(target, dim=-1, keepdim=True, correction=1)
                pred = pred * (var + head.norm_pix_eps).sqrt() + mu
            recon = head.unpatchify(pred, grid)[0]
            keep = 1 - torch.from_numpy(out[f'{modality}_mask']).to(device, recon.dtype)
            pasted = recon * (1 - keep) + halves[modality][0] * keep
            sl = slice(3 * index, 3 * index + 3)
            out[f'{modality}_recon'] = denormalise(pasted, mean[sl], std[sl])
    return out


def plot(out: Dict[str, np.ndarray], out_file: str, title: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from mmengine.utils import mkdir_or_exist
    panels = [('RGB', out['rgb'], None), ('thermal', out['thermal'], None), ('CMSS (low = dense)', out['cmss'],
                                                                             'viridis')]
    for modality in ('rgb', 'thermal'):
        shown = out[modality].copy()
        shown[out[f'{modality}_mask'] > 0] = 128
        kept = int((out[f'{modality}_mask'] == 0).sum() / max(1, out[f'{modality}_mask'].size) * 100 + 0.5)
        panels.append((f'{modality} visible (~{kept}%)', shown, None))
    for modality in ('rgb', 'thermal'):
        if f'{modality}_recon' in out:
            panels.append((f'{modality} reconstruction', out[f'{modality}_recon'], None))
    cols = 4 if len(panels) > 5 else len(panels)
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.4 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis('off')
    for ax, (name, img, cmap) in zip(axes.flat, panels):
        shown = ax.imshow(img, cmap=cmap, interpolation='nearest')
        ax.set_title(name, fontsize=9)
        if cmap is not None:
            fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.04)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    if osp.dirname(out_file):
        mkdir_or_exist(osp.dirname(out_file))
    fig.savefig(out_file, dpi=100)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    model = build_model(args.config, args.checkpoint, args.device)
    frame = load_full_pair(args.rgb, args.thermal)
    size = model.backbone.img_size
    out = run(model, pretraining_view(frame, size), with_recon=args.checkpoint is not None)
    masker = model.backbone.masker
    title = (f'{osp.basename(args.rgb)} | {osp.basename(args.thermal)}   tick {int(masker.tick)}, keep '
             f'rgb {masker.keep_counts["rgb"]} / thermal {masker.keep_counts["thermal"]}'
             + ('' if args.checkpoint else '   (untrained encoder: no checkpoint)')
             + f'\n{view_note(frame.shape[:2], size)}')
    plot(out, args.out_file, title)
    print(f'wrote {args.out_file}')


if __name__ == '__main__':
    main()
