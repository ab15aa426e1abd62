# Copyright (c) mmspecgene contributors. All rights reserved.
"""JPEG headers without decoding, and libjpeg-turbo DCT-scaled decoding (1/1, 1/2, 1/4, 1/8) through OpenCV."""
import math
from typing import NamedTuple, Optional

import cv2
import numpy as np

DCT_SCALES = (8, 4, 2, 1)
# EXIF orientation is ignored, as by mmcv's flag='unchanged' decode of the full-resolution loader.
COLOR_FLAGS = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8
}
GREY_FLAGS = {
    1: cv2.IMREAD_GRAYSCALE,
    2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
    4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
    8: cv2.IMREAD_REDUCED_GRAYSCALE_8
}
# Start-of-frame markers (baseline, extended, progressive, lossless; Huffman and arithmetic coding).
SOF_MARKERS = frozenset((0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF))
# Markers without a length field.
STANDALONE_MARKERS = frozenset((0x01, 0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8))


class JpegInfo(NamedTuple):
    """What a JPEG's start-of-frame segment says: size, component count and sample precision (bits)."""
    height: int
    width: int
    channels: int
    precision: int


def jpeg_info(buf: bytes) -> Optional[JpegInfo]:
    """Parse the SOF segment of a JPEG held in ``buf`` (no decoding); None if ``buf`` is no readable JPEG.

    A frame whose height is deferred to a DNL marker (height 0) also gives None: its size is unknown without a
    decode.
    """
    if len(buf) < 4 or buf[0] != 0xFF or buf[1] != 0xD8:
        return None
    pos, end = 2, len(buf)
    while pos + 4 <= end:
        if buf[pos] != 0xFF:
            return None
        marker = buf[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in STANDALONE_MARKERS:
            pos += 2
            continue
        length = (buf[pos + 2] << 8) | buf[pos + 3]
        if marker in SOF_MARKERS:
            if pos + 10 > end or length < 8:
                return None
            precision = buf[pos + 4]
            height = (buf[pos + 5] << 8) | buf[pos + 6]
            width = (buf[pos + 7] << 8) | buf[pos + 8]
            channels = buf[pos + 9]
            if height == 0 or width == 0:
                return None
            return JpegInfo(height, width, channels, precision)
        if marker == 0xDA:  # start of scan before any frame header
            return None
        pos += 2 + length
    return None


def dct_scale(box_w: float, box_h: float, out_w: int, out_h: int, max_scale: int = 8) -> int:
    """The coarsest DCT scale s in (8, 4, 2, 1) at which a box_w×box_h box still covers out_w×out_h pixels."""
    for scale in DCT_SCALES:
        if scale <= max_scale and box_w >= scale * out_w and box_h >= scale * out_h:
            return scale
    return 1


def decode_jpeg(buf: bytes, grey: bool, scale: int, info: JpegInfo, path: str = '') -> np.ndarray:
    """Decode at 1/``scale`` (DCT scaling): ceil(H/s)×ceil(W/s) grey or ×3 BGR uint8; errors name ``path``.

    Reduced pixel (i, j) covers the full-resolution pixels [s·i, s·i + s) × [s·j, s·j + s).
    """
    flags = (GREY_FLAGS if grey else COLOR_FLAGS)[scale] | cv2.IMREAD_IGNORE_ORIENTATION
    img = cv2.imdecode(np.frombuffer(buf, dtype=np.uint8), flags)
    if img is None:
        raise ValueError(f'cannot decode JPEG file (corrupt or truncated): {path}')
    expected = (math.ceil(info.height / scale), math.ceil(info.width / scale))
    if img.shape[:2] != expected:
        raise ValueError(f'JPEG decoded at 1/{scale} to {img.shape[1]}x{img.shape[0]}, but its header says '
                         f'{info.width}x{info.height} (expected {expected[1]}x{expected[0]}): {path}')
    return img
