"""Face alignment: 5-point similarity warp to a template, and facenet's margin crop.

The 5-point template is the common 112x112 one (eyes, nose tip, mouth corners) that MobileFaceNet and
ArcFace-style models are trained on; other output sizes scale it so one embedder input can be shared.
"""

from __future__ import annotations

import cv2
import numpy as np

from edgeface.runtime.images import normalize_pixels

ALIGN_SIZE = 112  # the embedders' aligned crop: the template's own size (the NNS2 area-resizes it to its input)
TEMPLATE_112 = np.array(
    [
        [38.2946, 51.6963],  # left eye (image left)
        [73.5318, 51.5014],  # right eye
        [56.0252, 71.7366],  # nose tip
        [41.5493, 92.3655],  # left mouth corner
        [70.7299, 92.2041],  # right mouth corner
    ],
    dtype=np.float64,
)


def template_for(size: int) -> np.ndarray:
    """The 112x112 template scaled to a square output of `size` pixels."""
    return TEMPLATE_112 * (size / float(ALIGN_SIZE))


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) mapping source points onto target.

    Umeyama's closed form (1991); returns the 2x3 matrix for cv2.warpAffine. Raises ValueError on degenerate
    points (all equal), which would otherwise give a silent garbage warp.
    """
    source = np.asarray(source, np.float64)
    target = np.asarray(target, np.float64)
    if source.shape != target.shape or source.ndim != 2 or source.shape[1] != 2 or source.shape[0] < 2:
        raise ValueError("need matching (N, 2) point sets with N >= 2")
    src_mean, dst_mean = source.mean(0), target.mean(0)
    src_c, dst_c = source - src_mean, target - dst_mean
    src_var = (src_c**2).sum() / len(source)
    if src_var < 1e-12:
        raise ValueError("degenerate landmarks: all points coincide")
    cov = dst_c.T @ src_c / len(source)
    u, s, vt = np.linalg.svd(cov)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1
    rotation = u @ sign @ vt
    scale = np.trace(np.diag(s) @ sign) / src_var
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - scale * rotation @ src_mean
    return matrix


def align_five_points(image: np.ndarray, landmarks: np.ndarray, size: int = ALIGN_SIZE) -> np.ndarray:
    """Warp `image` so its 5 landmarks land on the template; returns a size x size crop."""
    matrix = similarity_transform(landmarks, template_for(size))
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def margin_crop(image: np.ndarray, box: np.ndarray, image_size: int = 160, margin: int = 32) -> np.ndarray:
    """facenet's align_dataset_mtcnn crop: the box grown by margin/2 on each side, clipped, resized square."""
    height, width = image.shape[:2]
    x1 = int(np.maximum(box[0] - margin / 2, 0))
    y1 = int(np.maximum(box[1] - margin / 2, 0))
    x2 = int(np.minimum(box[2] + margin / 2, width))
    y2 = int(np.minimum(box[3] + margin / 2, height))
    if x2 <= x1 or y2 <= y1:
        raise ValueError(f"box {np.round(box[:4], 1).tolist()} lies outside the image")
    return cv2.resize(image[y1:y2, x1:x2], (image_size, image_size), interpolation=cv2.INTER_LINEAR)


def resize_faces(crops: np.ndarray, size: int) -> np.ndarray:
    """Area-resize a batch of aligned (N, S, S, 3) crops to size x size (how the NNS2 input is made from 112)."""
    if crops.shape[1] == size:
        return crops
    return np.stack([cv2.resize(c, (size, size), interpolation=cv2.INTER_AREA) for c in crops])


def embedder_input(crops: np.ndarray, size: int) -> np.ndarray:
    """Aligned uint8 crops → float embedder input: area-resize to size x size, then (x - 127.5) / 128."""
    return normalize_pixels(resize_faces(crops, size))
