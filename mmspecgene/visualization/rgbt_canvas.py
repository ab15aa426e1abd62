# Copyright (c) mmspecgene contributors. All rights reserved.
"""Host-free helpers to draw RGB and thermal side by side (RGB‖T) with the host visualisers."""
from typing import Optional, Tuple

import mmcv
import numpy as np
import torch
from mmengine.structures import InstanceData, PixelData

from ..datasets.transforms.loading import decode_image, rgb_to_3ch, thermal_to_3ch


def read_rgbt_pair(img_path: str, ir_path: str, backend_args: Optional[dict] = None,
                   thermal_range: Optional[dict] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Read both images as H×W×3 uint8 in RGB order, exactly as the loaders decode them; errors name the file.

    Like the loaders, the decode keeps the stored pixel grid (no EXIF rotation), so drawings and predictions share
    their coordinates. The thermal image follows the loader's rule
    (:func:`~mmspecgene.datasets.transforms.loading.thermal_to_3ch`):
    grey is replicated, and 16-bit or float radiometric maps are stretched to 0-255 with ``thermal_range``
    (default: the 0.5-99.5 percentiles, as :class:`LoadRGBTImagePair`) instead of being cut to their high byte.
    """
    for name, path in (('img_path', img_path), ('ir_path', ir_path)):
        if not path:
            raise KeyError(f'cannot draw RGB‖T: missing {name} (img_path={img_path!r}, ir_path={ir_path!r})')
    rgb = np.ascontiguousarray(rgb_to_3ch(decode_image(img_path, backend_args), img_path)[..., ::-1])  # -> RGB
    thermal = thermal_to_3ch(decode_image(ir_path, backend_args), ir_path, thermal_range=thermal_range)
    thermal = np.ascontiguousarray(thermal[..., ::-1])  # BGR -> RGB
    if rgb.shape[:2] != thermal.shape[:2]:
        thermal = mmcv.imresize(thermal, (rgb.shape[1], rgb.shape[0]))
    return rgb, thermal


def side_by_side(rgb: np.ndarray, thermal: np.ndarray) -> np.ndarray:
    """H×W×3 + H×W×3 -> H×2W×3 canvas [RGB | thermal]."""
    return np.ascontiguousarray(np.concatenate([rgb, thermal], axis=1))


def split_stack(img: np.ndarray, to_rgb: bool = True) -> Tuple[np.ndarray, np.ndarray]:
    """Split an H×W×6 BGR|BGR stack (or a 6×H×W tensor) into two H×W×3 uint8 images (RGB order)."""
    if isinstance(img, torch.Tensor):
        img = img.detach().cpu().numpy().transpose(1, 2, 0)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if img.ndim != 3 or img.shape[2] != 6:
        raise ValueError(f'expected an H×W×6 [RGB | thermal] stack, got shape {img.shape}')
    rgb, thermal = img[..., :3], img[..., 3:]
    if to_rgb:
        rgb, thermal = rgb[..., ::-1], thermal[..., ::-1]
    return np.ascontiguousarray(rgb), np.ascontiguousarray(thermal)


def duplicate_boxes(instances, width: int):
    """Copy an InstanceData with boxes repeated at +``width`` (for the thermal half); masks are dropped
    (released masks are box rectangles)."""
    out = InstanceData(metainfo=instances.metainfo)
    if 'bboxes' not in instances or len(instances) == 0:
        for key in ('bboxes', 'labels', 'scores'):
            if key in instances:
                setattr(out, key, instances.get(key))
        return out
    boxes = instances.bboxes
    boxes = boxes.tensor if hasattr(boxes, 'tensor') else boxes
    shift = boxes.new_tensor([width, 0, width, 0])
    out.bboxes = torch.cat([boxes, boxes + shift])
    for key in ('labels', 'scores'):
        if key in instances:
            value = instances.get(key)
            setattr(out, key, torch.cat([value, value]))
    return out


def det_sample_for_canvas(data_sample, width: int):
    """A DetDataSample whose gt/pred boxes appear on both halves of a side-by-side canvas."""
    canvas_sample = data_sample.clone()
    for key in ('gt_instances', 'pred_instances'):
        if key in data_sample:
            setattr(canvas_sample, key, duplicate_boxes(data_sample.get(key), width))
    return canvas_sample


def seg_sample_for_canvas(data_sample):
    """A SegDataSample whose gt/pred maps are repeated on both halves of a side-by-side canvas."""
    canvas_sample = data_sample.clone()
    for key in ('gt_sem_seg', 'pred_sem_seg'):
        if key in data_sample:
            pixel_data = data_sample.get(key)
            setattr(canvas_sample, key,
                    PixelData(data=torch.cat([pixel_data.data, pixel_data.data], dim=-1),
                              metainfo=pixel_data.metainfo))
    return canvas_sample
