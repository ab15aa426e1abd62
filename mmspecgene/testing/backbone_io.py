# Copyright (c) mmspecgene contributors. All rights reserved.
"""What a backbone receives and returns, for per-sample checks in tests (torch only)."""
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn

from mmspecgene.models.rgbt_normalize import IMAGENET_MEAN, IMAGENET_STD

_MEAN = torch.tensor(IMAGENET_MEAN, dtype=torch.float32).view(3, 1, 1)
_STD = torch.tensor(IMAGENET_STD, dtype=torch.float32).view(3, 1, 1)


def expected_rgbt_input(packed_img: torch.Tensor, size: Sequence[int],
                        to_rgb: Tuple[bool, bool] = (True, True)) -> torch.Tensor:
    """Independent reference of a 6-channel data preprocessor's output for one sample.

    (6, h, w) BGR uint8 [RGB | T] -> (6, H, W) float with ``size`` = (H, W): each half reversed to RGB order if
    ``to_rgb`` says so, ImageNet-normalised (positionally), zero-padded at the bottom/right after normalisation.
    """
    img = packed_img.float()
    rgb = img[[2, 1, 0]] if to_rgb[0] else img[[0, 1, 2]]
    thermal = img[[5, 4, 3]] if to_rgb[1] else img[[3, 4, 5]]
    out = torch.zeros(6, *size)
    out[:, :img.shape[1], :img.shape[2]] = torch.cat([(rgb - _MEAN) / _STD, (thermal - _MEAN) / _STD])
    return out


class BackboneCapture:
    """Forward hooks on a backbone: ``inputs`` (one tensor per call) and ``features`` (one tuple per call)."""

    def __init__(self, backbone: nn.Module) -> None:
        self.inputs: List[torch.Tensor] = []
        self.features: List[Tuple[torch.Tensor, ...]] = []
        self.handles = [
            backbone.register_forward_pre_hook(lambda m, args: self.inputs.append(args[0].detach().clone())),
            backbone.register_forward_hook(
                lambda m, args, out: self.features.append(tuple(o.detach().clone() for o in out))),
        ]

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()
