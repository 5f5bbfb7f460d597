"""Reading images safely: every failure becomes an `ImageError` with a message a user can act on."""

from __future__ import annotations

import os
from pathlib import Path

MAX_PIXELS = 24_000_000  # a 6000x4000 camera photo: 72 MB decoded, what a 4 GB Pi can spare
# OpenCV checks this limit against the image header, before it allocates anything (read once, at the first
# decode; every decode in edgeface goes through this module, so it is set before that).
os.environ["OPENCV_IO_MAX_IMAGE_PIXELS"] = str(MAX_PIXELS)

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from edgeface.runtime.errors import EdgefaceError


class ImageError(EdgefaceError, ValueError):
    """An input image that cannot be used (missing, empty, corrupt, unsupported or too large)."""


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """Read any common image file as an RGB uint8 array (grey, alpha, CMYK and 16-bit inputs are converted)."""
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"{path}: no such image file")
    data = np.fromfile(str(path), dtype=np.uint8)
    if data.size == 0:
        raise ImageError(f"{path}: file is empty")
    return decode_rgb(data, str(path))


def decode_rgb(data: np.ndarray | bytes, label: str = "image") -> np.ndarray:
    """Decode encoded image bytes to RGB uint8."""
    buffer = np.frombuffer(data, np.uint8) if isinstance(data, (bytes, bytearray)) else data
    if buffer.size == 0:
        raise ImageError(f"{label}: no image data")
    try:
        image = cv2.imdecode(buffer, cv2.IMREAD_COLOR)  # grey, alpha, CMYK and 16-bit → 8-bit BGR
    except cv2.error as error:
        if "MAX_IMAGE_PIXELS" in str(error):
            raise ImageError(f"{label}: image too large (its header says over {MAX_PIXELS:,} pixels; refused "
                             "before decoding)") from None
        image = None
    if image is None:
        raise ImageError(f"{label}: not a readable image (corrupt or unsupported format)")
    if image.shape[0] * image.shape[1] > MAX_PIXELS:
        raise ImageError(f"{label}: image too large ({image.shape[1]}x{image.shape[0]}; limit {MAX_PIXELS:,} pixels)")
    return as_rgb(image, label, bgr=True)


def as_rgb(image: np.ndarray, label: str = "frame", bgr: bool = False) -> np.ndarray:
    """Coerce an in-memory frame (grey, BGR/RGB, BGRA/RGBA, 16-bit) to contiguous RGB uint8."""
    if image is None or not isinstance(image, np.ndarray) or image.size == 0:
        raise ImageError(f"{label}: empty frame")
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise ImageError(f"{label}: unsupported pixel type {image.dtype}")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise ImageError(f"{label}: unsupported image shape {image.shape}")
    if image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB if bgr else cv2.COLOR_RGBA2RGB)
    return np.ascontiguousarray(image[:, :, ::-1]) if bgr else np.ascontiguousarray(image)


def normalize_pixels(image: np.ndarray) -> np.ndarray:
    """RGB pixels → network input, (x - 127.5) / 128 as float32: the scaling MTCNN, the NNS2 and MobileFaceNet
    were all trained with (multiplying by 2^-7 is exact, so it equals the division bit for bit)."""
    return (image.astype(np.float32) - 127.5) * 0.0078125
