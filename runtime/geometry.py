"""Box geometry for the MTCNN cascade: pyramid scales, NMS, box regression, squaring and padded crops.

This module is the single home of that geometry. The float (Keras) reference and the TFLite runtime both
call it, so a detection difference between the two can only come from the networks, never from the glue.
Boxes are float arrays of shape (N, 4) or (N, 5) laid out as x1, y1, x2, y2[, score] in pixel coordinates.
Where the published code and the PyPI `mtcnn` 1.0.0 package differ in a detail (crop sampling, NMS ties),
we follow the package: it is the reference our faithfulness check measures against.
"""

from __future__ import annotations

import cv2
import numpy as np

from edgeface.runtime.errors import UsageError
from edgeface.runtime.images import normalize_pixels

PNET_STRIDE = 2
PNET_CELL_SIZE = 12


def pyramid_scales(height: int, width: int, min_face_size: float, scale_factor: float) -> list[float]:
    """Scales of the image pyramid: the first maps `min_face_size` onto P-Net's 12-pixel window."""
    if min_face_size <= 0 or not 0.0 < scale_factor < 1.0:
        raise UsageError("min_face_size must be > 0 and scale_factor in (0, 1)")
    base = PNET_CELL_SIZE / float(min_face_size)
    scales: list[float] = []
    side = min(height, width) * base
    while side >= PNET_CELL_SIZE:
        scales.append(base * scale_factor ** len(scales))
        side *= scale_factor
    return scales


def snap_min_face(requested: float, converted: float, scale_factor: float) -> float:
    """The largest face size <= `requested` whose pyramid is a tail of the pyramid of `converted`
    (converted / scale_factor^k), so every level has a static P-Net in a folder converted for `converted`: a
    door profile of 80 px runs 79.1 px, the last 6 of the 10 levels converted for 20 px. Sizes at or below
    `converted` are returned as they are."""
    if requested <= converted:
        return requested
    size = converted
    while size / scale_factor <= requested:
        size /= scale_factor
    return size


def scaled_size(height: int, width: int, scale: float) -> tuple[int, int]:
    """(height, width) of one pyramid level, truncated (as the PyPI package's resize does)."""
    return max(1, int(height * scale)), max(1, int(width * scale))


def resize_area(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Area-interpolated resize (the original MTCNN `imresample`)."""
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def pyramid_level(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """One normalised P-Net input level. The resize runs in float32: rounding the level to uint8 first (what
    cv2 does for uint8 input) shifts P-Net's near-tie candidates enough to change which face box wins."""
    return normalize_pixels(resize_area(image.astype(np.float32, copy=False), height, width))


def pnet_candidates(prob: np.ndarray, reg: np.ndarray, scale: float, threshold: float) -> np.ndarray:
    """Turn one P-Net heat map into regressed candidate boxes in original-image pixels.

    `prob` is the (H, W) face probability map and `reg` the (H, W, 4) regression map of one pyramid level.
    Each cell above `threshold` is a 12x12 window at (2x + 1, 2y + 1)..(2x + 12, 2y + 12); its offsets are
    applied at once (before NMS, so NMS compares refined boxes) and the result is mapped back by 1 / scale.
    Returns (N, 5): x1, y1, x2, y2, score, ordered by descending score.
    """
    ys, xs = np.nonzero(prob > threshold)
    if ys.size == 0:
        return np.zeros((0, 5), np.float32)
    window = PNET_CELL_SIZE - 1
    corners = np.stack(
        [PNET_STRIDE * xs + 1, PNET_STRIDE * ys + 1, PNET_STRIDE * xs + PNET_CELL_SIZE, PNET_STRIDE * ys + PNET_CELL_SIZE],
        axis=1,
    ).astype(np.float64)
    boxes = (corners + reg[ys, xs, :].astype(np.float64) * window) / scale
    out = np.hstack([boxes, prob[ys, xs][:, None]]).astype(np.float32)
    return out[score_order(out[:, 4])]


def score_order(scores: np.ndarray) -> np.ndarray:
    """Indices by descending score. P-Net scores often saturate at exactly 1.0, so the tie order decides which
    box survives NMS; sorting float64 scores with numpy's default argsort, reversed, reproduces the reference."""
    return np.argsort(np.asarray(scores, np.float64))[::-1]


def overlaps(boxes_a: np.ndarray, boxes_b: np.ndarray, method: str = "union") -> np.ndarray:
    """(len(a), len(b)) matrix of intersection over union ("union") or over the smaller area ("min")."""
    if method not in ("union", "min"):
        raise ValueError(f"unknown overlap method {method!r}")
    a, b = boxes_a[:, None, :4].astype(np.float64), boxes_b[None, :, :4].astype(np.float64)
    inter_w = np.maximum(0.0, np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]))
    inter_h = np.maximum(0.0, np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]))
    inter = inter_w * inter_h
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    denominator = np.minimum(area_a, area_b) if method == "min" else area_a + area_b - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, inter / denominator, 0.0)


def nms(boxes: np.ndarray, threshold: float, method: str = "union", presorted: bool = False,
        block: int = 512) -> np.ndarray:
    """Non-maximum suppression; returns the kept indices, best score first.

    A box is dropped when any higher-scored box overlaps it by more than `threshold`, whether or not that box
    was itself kept. This is the PyPI `mtcnn` rule (it suppresses a little more than greedy NMS) and keeping
    it is what makes our detections agree with that package box for box. `method="min"` measures overlap
    against the smaller box (used after O-Net, so a box nested in a bigger one goes). `presorted` keeps the
    given order (already best first) instead of sorting again. Works in blocks of rows to bound memory.
    """
    if boxes.shape[0] == 0:
        return np.zeros((0,), np.int64)
    order = np.arange(len(boxes)) if presorted else score_order(boxes[:, 4])
    ranked = boxes[order]
    suppressed = np.zeros(len(ranked), bool)
    for start in range(0, len(ranked), block):
        stop = min(start + block, len(ranked))
        rows = overlaps(ranked[start:stop], ranked[start:], method) > threshold  # only lower-ranked columns
        rows &= np.arange(start, len(ranked))[None, :] > np.arange(start, stop)[:, None]
        suppressed[start:] |= rows.any(axis=0)
    return order[~suppressed]


def regress_boxes(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Apply R-Net/O-Net box regression: each corner moves by offset x (box size + 1). Extra columns are kept."""
    out = boxes.astype(np.float32).copy()
    widths = boxes[:, 2] - boxes[:, 0] + 1
    heights = boxes[:, 3] - boxes[:, 1] + 1
    out[:, :4] = boxes[:, :4] + offsets[:, :4] * np.stack([widths, heights, widths, heights], axis=1)
    return out


def square_boxes(boxes: np.ndarray) -> np.ndarray:
    """Grow each box to a square around its centre (the nets take square crops)."""
    out = boxes.astype(np.float32).copy()
    widths = boxes[:, 2] - boxes[:, 0]
    heights = boxes[:, 3] - boxes[:, 1]
    sides = np.maximum(widths, heights)
    out[:, 0] = boxes[:, 0] + widths * 0.5 - sides * 0.5
    out[:, 1] = boxes[:, 1] + heights * 0.5 - sides * 0.5
    out[:, 2] = out[:, 0] + sides
    out[:, 3] = out[:, 1] + sides
    return out


def crop_batch(image: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """Normalised (N, size, size, 3) float32 bilinear crops of float `boxes` for R-Net (24) or O-Net (48).

    Samples exactly the grid of tf.image.crop_and_resize with boxes normalised by the image size, on the
    normalised image, with 0 outside it: what the PyPI `mtcnn` package feeds R-Net and O-Net. Exact
    arithmetic matters here (cv2.warpAffine's 1/32-pixel fixed point moved enough crops to change boxes).
    Only the sampled pixels are normalised (the scaling is per pixel, so the result is the same as normalising the
    whole frame first, at a fraction of the cost: a 640x480 frame has 921,600 values, 40 R-Net crops read 276,480).
    """
    if len(boxes) == 0:
        return np.zeros((0, size, size, 3), np.float32)
    height, width = image.shape[:2]
    if not np.isfinite(boxes[:, :4]).all() or np.any(boxes[:, 2] <= boxes[:, 0]) or np.any(boxes[:, 3] <= boxes[:, 1]):
        raise ValueError("degenerate box in crop_batch")
    flat = image.reshape(-1, 3)
    steps = np.arange(size, dtype=np.float32)

    def grid(start: np.ndarray, stop: np.ndarray, extent: int):
        first = (start / extent).astype(np.float32)
        last = (stop / extent).astype(np.float32)
        scale = (last - first) * np.float32(extent - 1) / np.float32(size - 1)
        coords = first[:, None] * np.float32(extent - 1) + steps[None, :] * scale[:, None]
        inside = (coords >= 0) & (coords <= extent - 1)
        low = np.floor(coords)
        high = np.ceil(coords)
        weight = (coords - low).astype(np.float32)
        return (np.clip(low, 0, extent - 1).astype(np.int64), np.clip(high, 0, extent - 1).astype(np.int64),
                weight, inside)

    def pixels(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        index = (rows[:, :, None] * width + cols[:, None, :]).reshape(-1)
        return normalize_pixels(np.take(flat, index, axis=0)).reshape(len(boxes), size, size, 3)

    y_low, y_high, y_weight, y_inside = grid(boxes[:, 1], boxes[:, 3], height)
    x_low, x_high, x_weight, x_inside = grid(boxes[:, 0], boxes[:, 2], width)
    x_w = x_weight[:, None, :, None]
    low_low, low_high = pixels(y_low, x_low), pixels(y_low, x_high)
    high_low, high_high = pixels(y_high, x_low), pixels(y_high, x_high)
    top = low_low + (low_high - low_low) * x_w
    bottom = high_low + (high_high - high_low) * x_w
    crops = top + (bottom - top) * y_weight[:, :, None, None]
    inside = y_inside[:, :, None] & x_inside[:, None, :]
    return np.where(inside[..., None], crops, np.float32(0.0)).astype(np.float32)


def iou(box_a: np.ndarray, box_b: np.ndarray) -> float:
    """Intersection over union of two x1, y1, x2, y2 boxes in continuous coordinates (for reports and tests)."""
    inter_w = max(0.0, min(box_a[2], box_b[2]) - max(box_a[0], box_b[0]))
    inter_h = max(0.0, min(box_a[3], box_b[3]) - max(box_a[1], box_b[1]))
    inter = inter_w * inter_h
    area_a = max(0.0, box_a[2] - box_a[0]) * max(0.0, box_a[3] - box_a[1])
    area_b = max(0.0, box_b[2] - box_b[0]) * max(0.0, box_b[3] - box_b[1])
    union = area_a + area_b - inter
    return float(inter / union) if union > 0 else 0.0
