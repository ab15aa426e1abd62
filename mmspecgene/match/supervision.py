# Copyright (c) mmspecgene contributors. All rights reserved.
"""Ground truth of coarse-to-fine matching from homographies, and the LoFTR losses."""
from typing import Dict, Tuple

import torch


def grid_centres(hw: Tuple[int, int], stride: int, device=None) -> torch.Tensor:
    """(h*w, 2) pixel centres (x, y) of a stride-``stride`` cell grid, row-major: ``stride * idx + (stride-1)/2``."""
    ys, xs = torch.meshgrid(torch.arange(hw[0], device=device), torch.arange(hw[1], device=device), indexing='ij')
    return torch.stack([xs, ys], dim=-1).reshape(-1, 2).double() * stride + (stride - 1) / 2


def warp_grid(H: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """(B, 3, 3) homographies applied to (N, 2) points -> (B, N, 2); points sent behind the camera become inf."""
    homog = torch.cat([points, torch.ones_like(points[:, :1])], dim=1)  # (N, 3)
    out = torch.einsum('bij,nj->bni', H, homog)
    depth = out[..., 2:]
    warped = out[..., :2] / depth
    return torch.where((depth > 1e-12) & torch.isfinite(warped), warped, torch.full_like(warped, float('inf')))


def _nearest_cell(points: torch.Tensor, hw: Tuple[int, int], stride: int, img_hw: Tuple[int, int]):
    """Cell index of the nearest cell centre and whether the point lies inside the image."""
    inside = ((points[..., 0] >= -0.5) & (points[..., 0] < img_hw[1] - 0.5) & (points[..., 1] >= -0.5)
              & (points[..., 1] < img_hw[0] - 0.5))
    cell = torch.where(inside[..., None], points, torch.zeros_like(points))
    cell = ((cell - (stride - 1) / 2) / stride).round().long()
    cell[..., 0].clamp_(0, hw[1] - 1)
    cell[..., 1].clamp_(0, hw[0] - 1)
    return cell[..., 1] * hw[1] + cell[..., 0], inside


@torch.no_grad()
def coarse_supervision(H: torch.Tensor, hw: Tuple[int, int], stride: int, img_hw: Tuple[int, int]) -> Dict:
    """Mutual-nearest coarse correspondences of (B, 3, 3) RGB->thermal homographies (LoFTR ``spvs_coarse``).

    Cell i of image 0 matches cell j of image 1 when ``H`` maps the centre of i into image 1 nearest to the centre
    of j, and ``H^-1`` maps the centre of j back nearest to i.

    Returns:
        dict: ``conf_matrix_gt`` (B, L, L) float, ``spv_b_ids``/``spv_i_ids``/``spv_j_ids`` (M,) and ``w_pt0``
        (B, L, 2) the warped image-0 cell centres (pixels of image 1, float64).
    """
    H = H.double()
    centres = grid_centres(hw, stride, H.device)
    w_pt0 = warp_grid(H, centres)
    w_pt1 = warp_grid(torch.linalg.inv(H), centres)
    nearest1, inside0 = _nearest_cell(w_pt0, hw, stride, img_hw)
    nearest0, inside1 = _nearest_cell(w_pt1, hw, stride, img_hw)
    num = hw[0] * hw[1]
    loop_back = torch.gather(nearest0, 1, nearest1)
    mutual = (loop_back == torch.arange(num, device=H.device)[None]) & inside0 & torch.gather(inside1, 1, nearest1)
    b_ids, i_ids = torch.where(mutual)
    j_ids = nearest1[b_ids, i_ids]
    conf_gt = torch.zeros(H.shape[0], num, num, device=H.device)
    conf_gt[b_ids, i_ids, j_ids] = 1
    return dict(conf_matrix_gt=conf_gt, spv_b_ids=b_ids, spv_i_ids=i_ids, spv_j_ids=j_ids, w_pt0=w_pt0)


def fine_targets(w_pt0: torch.Tensor, b_ids, i_ids, j_ids, hw: Tuple[int, int], stride: int, fine_stride: int,
                 window: int) -> torch.Tensor:
    """(M, 2) offsets of ``H(centre of i)`` from the centre of j, in units of the fine window radius
    (LoFTR ``spvs_fine``; |offset| > 1 lies outside the window)."""
    centres = grid_centres(hw, stride, w_pt0.device)
    radius = window // 2
    return ((w_pt0[b_ids, i_ids] - centres[j_ids]) / (fine_stride * radius)).float()


def focal_loss(conf: torch.Tensor, conf_gt: torch.Tensor, alpha: float = 0.25, gamma: float = 2.0,
               pos_weight: float = 1.0, neg_weight: float = 1.0) -> torch.Tensor:
    """LoFTR's coarse focal loss on the dual-softmax confidences (B, L, S) against the 0/1 ground truth."""
    conf = conf.clamp(1e-6, 1 - 1e-6)
    pos, neg = conf_gt == 1, conf_gt == 0
    loss_pos = -alpha * torch.pow(1 - conf[pos], gamma) * conf[pos].log()
    loss_neg = -alpha * torch.pow(conf[neg], gamma) * (1 - conf[neg]).log()
    return pos_weight * loss_pos.mean() + neg_weight * loss_neg.mean()


def fine_l2_std_loss(expec_f: torch.Tensor, expec_f_gt: torch.Tensor, correct_thr: float = 1.0) -> torch.Tensor:
    """LoFTR's fine loss: L2 of the window offsets weighted by the inverse predicted std (normalised, detached),
    over the matches whose target lies inside the window.

    Args:
        expec_f: (M, 3) predicted offset (x, y) and std. expec_f_gt: (M, 2) target offsets.
    """
    correct = torch.linalg.norm(expec_f_gt, ord=float('inf'), dim=1) < correct_thr
    inverse_std = 1.0 / torch.clamp(expec_f[:, 2], min=1e-10)
    weight = (inverse_std / torch.mean(inverse_std)).detach()
    if not correct.any():  # keep the graph (and DDP) intact with a zero-weight term
        correct = torch.zeros_like(correct)
        correct[0] = True
        weight = torch.zeros_like(weight)
    offset_l2 = ((expec_f_gt[correct] - expec_f[correct, :2])**2).sum(-1)
    return (offset_l2 * weight[correct]).mean()
