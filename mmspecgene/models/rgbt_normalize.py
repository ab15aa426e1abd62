# Copyright (c) mmspecgene contributors. All rights reserved.
"""Per-modality channel conversion and 6-value normalisation shared by the three hosts' preprocessors."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

NUM_CHANNELS = 6
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


def _six_values(name: str, both: Optional[Sequence[float]], rgb: Optional[Sequence[float]],
                thermal: Optional[Sequence[float]]) -> Tuple[float, ...]:
    """Resolve ``name`` from 6 values or from 3 RGB + 3 thermal values; anything else raises."""
    if both is not None:
        if rgb is not None or thermal is not None:
            raise ValueError(f'give either {name} (6 values) or rgb_{name} + thermal_{name}, not both')
        values = tuple(float(v) for v in both)
        if len(values) != NUM_CHANNELS:
            raise ValueError(f'{name} must have exactly 6 values [RGB | thermal], got {len(values)}: {values}. '
                             f'Stock preprocessors silently drop thermal; RGBT preprocessors need all 6')
        return values
    if rgb is None or thermal is None:
        raise ValueError(f'{name} is required: 6 values, or rgb_{name} and thermal_{name} with 3 values each')
    rgb, thermal = tuple(float(v) for v in rgb), tuple(float(v) for v in thermal)
    if len(rgb) != 3 or len(thermal) != 3:
        raise ValueError(f'rgb_{name} and thermal_{name} need 3 values each, got {rgb} and {thermal}')
    return rgb + thermal


def check_six_channels(inputs: Union[torch.Tensor, List[torch.Tensor]], where: str) -> None:
    """Assert every input has 6 channels on dim -3."""
    items = [inputs] if isinstance(inputs, torch.Tensor) else inputs
    for i, item in enumerate(items):
        if item.dim() < 3 or item.shape[-3] != NUM_CHANNELS:
            raise ValueError(f'{where}: input {i} has shape {tuple(item.shape)}; expected 6 channels '
                             f'[RGB | thermal] on dim -3 (was the image loaded with LoadRGBTImagePair?)')


class RGBTNormalize(nn.Module):
    """Convert channel order per modality, then normalise 6 channels.

    Args:
        mean, std (Sequence[float], optional): 6 values in post-conversion order.
        rgb_mean, rgb_std, thermal_mean, thermal_std (Sequence[float], optional): 3 values each,
            an alternative to ``mean``/``std``.
        to_rgb (tuple[bool, bool]): Reverse channels ([2,1,0] on 0-2, [5,4,3] on 3-5) of each half
            (loaders keep BGR).
    """

    def __init__(self,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 rgb_mean: Optional[Sequence[float]] = None,
                 rgb_std: Optional[Sequence[float]] = None,
                 thermal_mean: Optional[Sequence[float]] = None,
                 thermal_std: Optional[Sequence[float]] = None,
                 to_rgb: Tuple[bool, bool] = (True, True)):
        super().__init__()
        if isinstance(to_rgb, bool) or len(to_rgb) != 2:
            raise ValueError(f'to_rgb must be a pair (rgb_half, thermal_half) of bools, got {to_rgb!r}')
        mean6 = _six_values('mean', mean, rgb_mean, thermal_mean)
        std6 = _six_values('std', std, rgb_std, thermal_std)
        if min(std6) <= 0:
            raise ValueError(f'std values must be positive, got {std6}')
        self.to_rgb = tuple(bool(v) for v in to_rgb)
        index = ([2, 1, 0] if self.to_rgb[0] else [0, 1, 2]) + ([5, 4, 3] if self.to_rgb[1] else [3, 4, 5])
        self.register_buffer('channel_index', torch.tensor(index), persistent=False)
        self.register_buffer('mean', torch.tensor(mean6).view(6, 1, 1), persistent=False)
        self.register_buffer('std', torch.tensor(std6).view(6, 1, 1), persistent=False)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        """(6, H, W) or (B, 6, H, W), any dtype -> float32, reordered and normalised."""
        check_six_channels(img, type(self).__name__)
        img = img.index_select(-3, self.channel_index.to(img.device)).float()
        return (img - self.mean) / self.std

    def normalize_inputs(self, inputs: Union[torch.Tensor, List[torch.Tensor]]):
        """Apply to a batch tensor or to a list of per-sample tensors."""
        if isinstance(inputs, torch.Tensor):
            return self(inputs)
        return [self(item) for item in inputs]

    def extra_repr(self) -> str:
        return f'to_rgb={self.to_rgb}, mean={self.mean.flatten().tolist()}, std={self.std.flatten().tolist()}'


class RGBTPreprocessorMixin:
    """Turn a host image data preprocessor into a 6-channel [RGB | T] one.

    Mixed in front of a host class (``class X(RGBTPreprocessorMixin, HostPreprocessor)``): the host
    keeps padding, stacking and batch augments; normalisation and per-modality channel conversion
    happen here, on the device, before the host sees the batch (the host gets ``mean=None``).
    ``bgr_to_rgb``/``rgb_to_bgr`` are rejected: stock conversion would drop the thermal half.
    Channel count is asserted on entry and exit.
    """

    def __init__(self,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 to_rgb: Tuple[bool, bool] = (True, True),
                 rgb_mean: Optional[Sequence[float]] = None,
                 rgb_std: Optional[Sequence[float]] = None,
                 thermal_mean: Optional[Sequence[float]] = None,
                 thermal_std: Optional[Sequence[float]] = None,
                 **kwargs):
        for key in ('bgr_to_rgb', 'rgb_to_bgr'):
            if kwargs.pop(key, False):
                raise ValueError(f'{type(self).__name__} does not take {key}; use to_rgb=(rgb_half, '
                                 f'thermal_half) instead')
        super().__init__(mean=None, std=None, **kwargs)
        self.rgbt = RGBTNormalize(mean, std, rgb_mean, rgb_std, thermal_mean, thermal_std, to_rgb)

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        data['inputs'] = self.rgbt.normalize_inputs(data['inputs'])
        out = super().forward(data, training)
        check_six_channels(out['inputs'], type(self).__name__)
        return out
