# Copyright (c) mmspecgene contributors. All rights reserved.
"""File operations of the converters: image headers, label PNGs, copy or hard link (never a symlink), re-encoding."""
import errno
import os
import os.path as osp
import shutil
from typing import Tuple

import numpy as np
from PIL import Image

from .report import ConversionError

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')
LINK_MODES = ('copy', 'hardlink')


def normalized_suffix(path: str) -> str:
    """Lower-case suffix with ``.jpeg`` -> ``.jpg`` and ``.tif`` -> ``.tiff`` (same encoding)."""
    suffix = osp.splitext(path)[1].lower()
    return {'.jpeg': '.jpg', '.tif': '.tiff'}.get(suffix, suffix)


def same_format(src: str, dst: str) -> bool:
    return normalized_suffix(src) == normalized_suffix(dst)


def _replace(dst: str) -> None:
    """Create the parent folder of ``dst`` and remove an existing ``dst``."""
    os.makedirs(osp.dirname(dst) or '.', exist_ok=True)
    if osp.lexists(dst):
        os.remove(dst)


def transfer_file(src: str, dst: str, link: str) -> None:
    """Copy or hard link ``src`` to ``dst`` (replacing an existing ``dst``); never a symlink."""
    if link not in LINK_MODES:
        raise ValueError(f'link must be one of {LINK_MODES}, got {link!r}')
    if osp.realpath(src) == osp.realpath(dst):
        return  # converting in place: removing dst would delete the source
    _replace(dst)
    if link == 'copy':
        shutil.copyfile(src, dst)
        return
    try:
        os.link(src, dst)
    except OSError as err:
        if err.errno == errno.EXDEV:
            raise ConversionError(f'cannot hard link {src} -> {dst}: different file systems; use --link copy') \
                from err
        raise


def reencode_image(src: str, dst: str) -> None:
    """Decode ``src`` and encode it in the format of ``dst``'s suffix (8-bit images only)."""
    import cv2
    img = cv2.imread(src, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ConversionError(f'cannot decode {src} for re-encoding')
    if img.dtype != np.uint8:
        raise ConversionError(f'{src}: re-encoding needs an 8-bit image, got {img.dtype}')
    _replace(dst)
    if not cv2.imwrite(dst, img):
        raise ConversionError(f'cannot write {dst}')


def read_image_size(path: str) -> Tuple[int, int]:
    """Return (H, W) from the image header only (no full decode).

    Raises:
        OSError: the file is not a readable image.
    """
    with Image.open(path) as img:
        width, height = img.size
    return height, width


def read_label(path: str) -> np.ndarray:
    """Read a label PNG as mmseg does (pillow, palette indices kept) and return an (H, W) array.

    A 3-channel label whose channels are equal is reduced to one channel.

    Raises:
        OSError: unreadable file. ValueError: not a single-channel index image.
    """
    with Image.open(path) as img:
        label = np.asarray(img)
    if label.ndim == 3:
        if label.shape[2] in (3, 4) and (label[..., :3] == label[..., :1]).all():
            label = label[..., 0]
        else:
            raise ValueError(f'expected a single-channel index image, got shape {label.shape}')
    if label.ndim != 2:
        raise ValueError(f'expected a 2-D label, got shape {label.shape}')
    return label


def label_needs_rewrite(path: str) -> bool:
    """Whether a readable label file is not a one-band image (e.g. a grey label stored as RGB).

    mmseg's ``LoadAnnotations`` keeps every band, so such a file must be written as a one-band PNG (header
    read only).
    """
    with Image.open(path) as img:
        return len(img.getbands()) != 1


def write_label(label: np.ndarray, dst: str) -> None:
    """Write an (H, W) uint8 label as a grayscale PNG."""
    _replace(dst)
    Image.fromarray(np.ascontiguousarray(label, dtype=np.uint8), mode='L').save(dst)
