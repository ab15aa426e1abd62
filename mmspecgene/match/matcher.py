# Copyright (c) mmspecgene contributors. All rights reserved.
"""Coarse-to-fine RGB-thermal matcher on the RGBT ViT, with kornia's LoFTR blocks."""
from typing import Dict, List, Optional, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from kornia.feature.loftr.loftr_module import FinePreprocess, LocalFeatureTransformer
from kornia.feature.loftr.utils.coarse_matching import CoarseMatching
from kornia.feature.loftr.utils.fine_matching import FineMatching
from kornia.feature.loftr.utils.position_encoding import PositionEncodingSine
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement

from ..models.vit import split_modalities
from ..registry import MODELS
from .supervision import coarse_supervision, fine_l2_std_loss, fine_targets, focal_loss


class FineFeatureBranch(nn.Module):
    """Light CNN on each modality image at stride ``stride``, fused with the ViT features sampled at its cells.

    ``log2(stride)`` stages of a 2×2 stride-2 convolution and a 3×3 convolution (the last stage
    ``out_channels`` wide, each earlier one half as wide) see the image in detail before the stride-``stride``
    map, where two 3×3 convolutions fuse it with the projected ViT map. The image is shifted by
    ``(patch - stride) / 2`` pixels first, so that fine cell ``k`` is centred on pixel
    ``stride * k + (patch - 1) / 2``: fine cell ``(patch / stride) * i`` sits exactly on the centre of ViT patch
    ``i``, where kornia's ``FinePreprocess`` centres the window of a coarse match (2×2 stride-2 stages and padded
    3×3 convolutions keep that alignment).

    Args:
        coarse_channels (int): ViT channels C. out_channels (int): Fine channels.
        patch_size (int): ViT patch size. stride (int): Fine stride (a power of two dividing the patch size).
    """

    def __init__(self, coarse_channels: int, out_channels: int, patch_size: int = 16, stride: int = 4):
        super().__init__()
        if stride < 2 or stride & (stride - 1) or patch_size % stride or (patch_size - stride) % 2:
            raise ValueError(f'fine stride {stride} must be a power of two >= 2 dividing patch size {patch_size} '
                             f'with an even difference')
        self.patch_size, self.stride = patch_size, stride
        self.shift = (patch_size - stride) // 2
        num_stages = stride.bit_length() - 1
        layers, in_channels = [], 3
        for index in range(num_stages):
            channels = max(out_channels >> (num_stages - 1 - index), 16)
            layers += [
                nn.Conv2d(in_channels, channels, 2, stride=2, bias=False), nn.BatchNorm2d(channels),
                nn.ReLU(inplace=True),
                nn.Conv2d(channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels),
                nn.ReLU(inplace=True)
            ]
            in_channels = channels
        self.stem = nn.Sequential(*layers)
        self.coarse_proj = nn.Conv2d(coarse_channels, in_channels, 1)
        self.fuse = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False), nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False), nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 1))

    def forward(self, images: torch.Tensor, coarse: torch.Tensor) -> torch.Tensor:
        """images (N, 3, H, W), coarse (N, C, H/p, W/p) -> (N, out, H/s, W/s)."""
        s = self.shift
        fine = self.stem(F.pad(images, (-s, s, -s, s)))  # crop s left/top, zeros right/bottom
        hf, wf = fine.shape[-2:]
        hc, wc = coarse.shape[-2:]
        ratio = self.patch_size // self.stride
        # fine cell k lies at coarse index k / ratio; align_corners=True maps index 0 / (size-1) to -1 / 1
        ys = torch.arange(hf, device=fine.device, dtype=fine.dtype) / ratio
        xs = torch.arange(wf, device=fine.device, dtype=fine.dtype) / ratio
        ys = 2 * ys / max(hc - 1, 1) - 1
        xs = 2 * xs / max(wc - 1, 1) - 1
        grid = torch.stack(torch.meshgrid(ys, xs, indexing='ij')[::-1], dim=-1)
        grid = grid[None].expand(fine.shape[0], -1, -1, -1)
        up = F.grid_sample(self.coarse_proj(coarse), grid, mode='bilinear', padding_mode='border',
                           align_corners=True)
        return self.fuse(fine + up)


@MODELS.register_module()
class RGBTMatcher(BaseModel):
    """Detector-free RGB-thermal matcher (LoFTR-style coarse-to-fine) on the shared RGBT ViT.

    1. The ViT (``backbone``, run once on [all RGB; all T]) gives 1/16 maps of both modalities.
    2. Coarse: a linear projection, sine positions and kornia's ``LocalFeatureTransformer`` (self/cross), then
       kornia's dual-softmax ``CoarseMatching`` with mutual nearest neighbours above ``match_thr``.
    3. Fine: :class:`FineFeatureBranch` (stride 4), kornia's ``FinePreprocess`` crops ``fine_window``²
       windows around each coarse match, a fine ``LocalFeatureTransformer`` and ``FineMatching`` regress the
       thermal position (expectation and std of a heatmap) of the RGB window centre.

    Losses (LoFTR): focal loss on the coarse confidences against mutual-nearest ground-truth cells of the
    homography, and the fine L2 weighted by the inverse predicted std.

    Data samples need ``gt_homography`` (RGB -> thermal pixels) for the loss; predictions are ``pred_kpts0``
    (RGB), ``pred_kpts1`` (thermal), (N, 2) pixels (centres at integer coordinates), and ``pred_scores`` (N,).

    Args:
        backbone (dict): The RGBT ViT (``RGBTViTMatch``).
        data_preprocessor (dict): ``RGBTMatchDataPreprocessor``.
        coarse_channels (int), coarse_heads (int), coarse_layers (int): Coarse transformer width, heads and number
            of (self, cross) pairs.
        fine_channels (int), fine_heads (int): Fine transformer width and heads (one (self, cross) pair).
        fine_stride (int): Stride of the fine maps. fine_window (int): Fine window size (odd).
        match_thr (float): Dual-softmax confidence threshold. dsmax_temperature (float): Softmax temperature.
        border_rm (int): Coarse cells at the border excluded from matching.
        train_coarse_percent (float): Coarse matches per sample fed to the fine level in training, as a fraction
            of the cells (the rest are ground-truth pads, at least ``train_pad_num_gt_min``).
        loss_coarse_weight, loss_fine_weight (float): Loss weights. focal_alpha, focal_gamma (float): Focal loss.
    """

    def __init__(self,
                 backbone: dict,
                 data_preprocessor: Optional[dict] = None,
                 coarse_channels: int = 256,
                 coarse_heads: int = 8,
                 coarse_layers: int = 4,
                 fine_channels: int = 128,
                 fine_heads: int = 8,
                 fine_stride: int = 4,
                 fine_window: int = 5,
                 match_thr: float = 0.2,
                 dsmax_temperature: float = 0.1,
                 border_rm: int = 0,
                 train_coarse_percent: float = 0.2,
                 train_pad_num_gt_min: int = 32,
                 loss_coarse_weight: float = 1.0,
                 loss_fine_weight: float = 1.0,
                 focal_alpha: float = 0.25,
                 focal_gamma: float = 2.0,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if fine_window % 2 == 0:
            raise ValueError(f'fine_window must be odd, got {fine_window}')
        self.backbone = MODELS.build(backbone)
        self.patch_size = self.backbone.patch_size
        self.fine_stride = fine_stride
        self.fine_window = fine_window
        self.train_coarse_percent = train_coarse_percent
        self.train_pad_num_gt_min = train_pad_num_gt_min
        self.loss_coarse_weight, self.loss_fine_weight = loss_coarse_weight, loss_fine_weight
        self.focal_alpha, self.focal_gamma = focal_alpha, focal_gamma
        embed = self.backbone.embed_dims
        self.coarse_proj = nn.Linear(embed, coarse_channels)
        self.coarse_pos = PositionEncodingSine(coarse_channels)
        self.coarse_transformer = LocalFeatureTransformer(
            dict(d_model=coarse_channels, nhead=coarse_heads, layer_names=['self', 'cross'] * coarse_layers,
                 attention='linear'))
        self.coarse_matching = CoarseMatching(
            dict(thr=match_thr, border_rm=border_rm, train_coarse_percent=train_coarse_percent,
                 train_pad_num_gt_min=train_pad_num_gt_min, match_type='dual_softmax',
                 dsmax_temperature=dsmax_temperature))
        self.fine_branch = FineFeatureBranch(embed, fine_channels, self.patch_size, fine_stride)
        self.fine_preprocess = FinePreprocess(
            dict(fine_concat_coarse_feat=True, fine_window_size=fine_window, coarse=dict(d_model=coarse_channels),
                 fine=dict(d_model=fine_channels)))
        self.fine_transformer = LocalFeatureTransformer(
            dict(d_model=fine_channels, nhead=fine_heads, layer_names=['self', 'cross'], attention='linear'))
        self.fine_matching = FineMatching()

    # ------------------------------------------------------------------------------------------------ features
    def extract_feat(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """(B, 6, H, W) -> coarse tokens c0, c1 (B, L, Dc), fine maps f0, f1 (B, Df, H/s, W/s), grid (h, w)."""
        rgb, thermal = self.backbone(inputs)
        vit = torch.cat([rgb, thermal], dim=0)  # (2B, C, h, w)
        hw = tuple(vit.shape[-2:])
        fine = self.fine_branch(split_modalities(inputs), vit)
        coarse = self.coarse_proj(vit.flatten(2).transpose(1, 2))  # (2B, L, Dc)
        coarse = coarse.transpose(1, 2).reshape(vit.shape[0], -1, *hw)
        coarse = self.coarse_pos(coarse).flatten(2).transpose(1, 2)
        c0, c1 = self.coarse_transformer(*coarse.chunk(2, dim=0))
        f0, f1 = fine.chunk(2, dim=0)
        return c0, c1, f0, f1, hw

    def _match(self, feats: Tuple[torch.Tensor, ...], data: dict) -> dict:
        c0, c1, f0, f1, hw = feats
        data.update(hw0_c=hw, hw1_c=hw, stride_c=self.patch_size, stride_f=self.fine_stride)
        self.coarse_matching(c0, c1, data)
        w0, w1 = self.fine_preprocess(f0, f1, c0, c1, data)
        if w0.shape[0]:
            w0, w1 = self.fine_transformer(w0, w1)
        self.fine_matching(w0, w1, data)
        return data

    def _homographies(self, data_samples: List[BaseDataElement], device) -> torch.Tensor:
        mats = []
        for sample in data_samples:
            if 'gt_homography' not in sample:
                raise KeyError(f'{type(self).__name__}: sample {sample.get("sample_idx", "?")} '
                               f'({sample.get("img_path")}) has no gt_homography')
            mats.append(torch.as_tensor(np.asarray(sample.gt_homography, dtype=np.float64)))
        return torch.stack(mats).to(device)

    # ------------------------------------------------------------------------------------------------- modes
    def forward(self, inputs: torch.Tensor, data_samples: Optional[List[BaseDataElement]] = None,
                mode: str = 'tensor') -> Union[Dict[str, torch.Tensor], list, torch.Tensor]:
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':  # raw outputs of both levels: (conf_matrix, expec_f, fine maps f0, f1)
            feats = self.extract_feat(inputs)
            data = self._match(feats, {})
            return data['conf_matrix'], data['expec_f'], feats[2], feats[3]
        raise RuntimeError(f'invalid mode {mode!r}, expected loss, predict or tensor')

    def loss(self, inputs: torch.Tensor, data_samples: List[BaseDataElement]) -> Dict[str, torch.Tensor]:
        """Coarse focal + fine L2-std losses from the samples' ``gt_homography``."""
        feats = self.extract_feat(inputs)
        hw = feats[-1]
        img_hw = tuple(inputs.shape[-2:])
        batch = inputs.shape[0]
        num_train = int(batch * hw[0] * hw[1] * self.train_coarse_percent)
        if self.train_pad_num_gt_min >= num_train:
            raise ValueError(f'{type(self).__name__}: train_pad_num_gt_min={self.train_pad_num_gt_min} must be below '
                             f'the {num_train} fine training matches (batch {batch} x {hw[0]}x{hw[1]} cells x '
                             f'train_coarse_percent={self.train_coarse_percent})')
        sup = coarse_supervision(self._homographies(data_samples, inputs.device), hw, self.patch_size, img_hw)
        counts = torch.bincount(sup['spv_b_ids'], minlength=batch)
        empty = [i for i in range(batch) if counts[i] == 0]
        if empty:
            names = [f'sample {data_samples[i].get("sample_idx", "?")} ({data_samples[i].get("img_path")} | '
                     f'{data_samples[i].get("ir_path")})' for i in empty]
            raise ValueError(f'{type(self).__name__}: empty ground-truth match set (the homography leaves no overlap '
                             f'of the two images): {"; ".join(names)}')
        data = self._match(feats, dict(spv_b_ids=sup['spv_b_ids'], spv_i_ids=sup['spv_i_ids'],
                                       spv_j_ids=sup['spv_j_ids']))
        loss_coarse = focal_loss(data['conf_matrix'], sup['conf_matrix_gt'], self.focal_alpha, self.focal_gamma)
        target = fine_targets(sup['w_pt0'], data['b_ids'], data['i_ids'], data['j_ids'], hw, self.patch_size,
                              self.fine_stride, self.fine_window)
        loss_fine = fine_l2_std_loss(data['expec_f'], target)
        return dict(loss_coarse=self.loss_coarse_weight * loss_coarse, loss_fine=self.loss_fine_weight * loss_fine)

    def predict(self, inputs: torch.Tensor, data_samples: Optional[List[BaseDataElement]] = None) -> list:
        """Matches per sample: ``pred_kpts0``, ``pred_kpts1`` (N, 2) pixels and ``pred_scores`` (N,)."""
        data = self._match(self.extract_feat(inputs), {})
        offset = (self.patch_size - 1) / 2  # kornia puts coarse cell i at stride * i; its centre is here
        kpts0, kpts1 = data['mkpts0_f'] + offset, data['mkpts1_f'] + offset
        if data_samples is None:
            data_samples = [BaseDataElement() for _ in range(inputs.shape[0])]
        for b, sample in enumerate(data_samples):
            keep = data['m_bids'] == b
            sample.pred_kpts0 = kpts0[keep].detach()
            sample.pred_kpts1 = kpts1[keep].detach()
            sample.pred_scores = data['mconf'][keep].detach()
        return data_samples
