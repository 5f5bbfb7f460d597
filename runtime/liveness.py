"""Is the face in front of the camera live, or a photo or a screen? MiniFASNet on TFLite, fed from our MTCNN boxes.

Per frame: each of the two nets sees the face box (mapped to the box convention the nets were trained with,
`BOX_MAP`) enlarged by its context scale (2.7x, 4.0x), cut as the original does (`context_box`: the enlarged box is
shrunk to fit the image and shifted inside it), resized to 80x80, BGR 0..255. The live score is the mean of the
two softmax probabilities of class 1, as in the original. No TensorFlow here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from edgeface.runtime.cascade import Face
from edgeface.runtime.manifest import Manifest, ManifestError, load_manifest
from edgeface.runtime.interpreter import TfliteModel
from edgeface.runtime.errors import UsageError

INPUT_SIZE = 80
LIVE_CLASS = 1
# manifest role → the face box enlargement that net was trained on
NET_SCALES: dict[str, float] = {"liveness_v2": 2.7, "liveness_v1se": 4.0}


@dataclass(frozen=True)
class BoxMap:
    """From our MTCNN box to the original detector's (RetinaFace) box: centre shift in units of our box's width
    and height, and size ratios. Fitted on NUAA's training split by `scripts/liveness_box_map.py`
    (reports/liveness_box_map.json)."""

    centre_dx: float = 0.0
    centre_dy: float = 0.0
    width_ratio: float = 1.0
    height_ratio: float = 1.0

    def __call__(self, box: np.ndarray) -> tuple[float, float, float, float]:
        """(left, top, width, height) in the original's convention."""
        x1, y1, x2, y2 = (float(v) for v in box[:4])
        width, height = x2 - x1, y2 - y1
        cx, cy = x1 + width / 2 + self.centre_dx * width, y1 + height / 2 + self.centre_dy * height
        width, height = width * self.width_ratio, height * self.height_ratio
        return cx - width / 2, cy - height / 2, width, height


BOX_MAP = BoxMap(centre_dx=0.0066, centre_dy=0.0603, width_ratio=1.1599, height_ratio=0.9031)


def context_box(image_hw: tuple[int, int], box: tuple[float, float, float, float], scale: float) -> tuple[int, int, int, int]:
    """The original's crop window (`CropImage._get_new_box`): the box enlarged by `scale` about its centre, the
    scale reduced until the window fits the image, then shifted inside it. Inclusive (x1, y1, x2, y2)."""
    src_h, src_w = image_hw
    left, top, box_w, box_h = box
    box_w, box_h = max(box_w, 1.0), max(box_h, 1.0)
    scale = min((src_h - 1) / box_h, (src_w - 1) / box_w, scale)
    new_w, new_h = box_w * scale, box_h * scale
    cx, cy = left + box_w / 2, top + box_h / 2
    x1, y1, x2, y2 = cx - new_w / 2, cy - new_h / 2, cx + new_w / 2, cy + new_h / 2
    if x1 < 0:
        x2, x1 = x2 - x1, 0
    if y1 < 0:
        y2, y1 = y2 - y1, 0
    if x2 > src_w - 1:
        x1, x2 = x1 - (x2 - src_w + 1), src_w - 1
    if y2 > src_h - 1:
        y1, y2 = y1 - (y2 - src_h + 1), src_h - 1
    return int(x1), int(y1), int(x2), int(y2)


def liveness_crops(image_rgb: np.ndarray, face: Face, box_map: BoxMap = BOX_MAP) -> dict[str, np.ndarray]:
    """The 80x80 BGR float inputs of each net for one face."""
    mapped = box_map(face.box)
    crops = {}
    for role, scale in NET_SCALES.items():
        x1, y1, x2, y2 = context_box(image_rgb.shape[:2], mapped, scale)
        patch = image_rgb[max(y1, 0) : y2 + 1, max(x1, 0) : x2 + 1, ::-1]
        crops[role] = cv2.resize(np.ascontiguousarray(patch), (INPUT_SIZE, INPUT_SIZE)).astype(np.float32)
    return crops


def live_probability(logits: np.ndarray) -> np.ndarray:
    """Softmax probability of the live class, in float64 (the exports end at the logits)."""
    logits = np.asarray(logits, np.float64)
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exp[..., LIVE_CLASS] / exp.sum(axis=-1)


class TfliteLiveness:
    """The two MiniFASNet nets of a converted models folder, for one variant."""

    def __init__(self, folder: str | Path, variant: str = "int8", manifest: Manifest | None = None,
                 num_threads: int | None = 1, delegates: list | None = None, box_map: BoxMap = BOX_MAP) -> None:
        folder = Path(folder)
        manifest = manifest or load_manifest(folder)
        self.models = {}
        for role in NET_SCALES:
            entry = manifest.find(role, variant)
            if entry is None:
                raise ManifestError(f"{folder}: no {variant} {role} model (a folder converted before liveness "
                                    "detection: run `edgeface convert` again, or run the lock with --liveness off)")
            self.models[role] = TfliteModel(folder, entry, num_threads, delegates)
        self.box_map = box_map
        self.variant = variant

    def net_scores(self, image_rgb: np.ndarray, face: Face) -> dict[str, float]:
        crops = liveness_crops(image_rgb, face, self.box_map)
        return {role: float(live_probability(model(crops[role][None])["logits"])[0])
                for role, model in self.models.items()}

    def score(self, image_rgb: np.ndarray, face: Face) -> float:
        """Live score in [0, 1]: the mean of the two nets' live probabilities."""
        return float(np.mean(list(self.net_scores(image_rgb, face).values())))


class LiveScorer(Protocol):
    def score(self, image_rgb: np.ndarray, face: Face) -> float: ...


@dataclass
class LivenessCheck:
    """A live scorer and the threshold it is used at (live if score >= threshold). The threshold comes from the
    models folder (fixed on development data, see `checked_liveness`); None where none was recorded."""

    scorer: LiveScorer
    threshold: float | None
    how: str = ""

    def score(self, image_rgb: np.ndarray, face: Face) -> float:
        return self.scorer.score(image_rgb, face)

    def is_live(self, score: float) -> bool:
        if self.threshold is None:
            raise UsageError("no liveness threshold recorded for these models: pass one, or run with liveness off")
        return score >= self.threshold


def checked_liveness(point: dict, label: str = "manifest.json") -> dict:
    """The manifest's liveness operating point, trusted as far as it can be checked: a threshold in (0, 1), and,
    for the shipped MiniFASNet weights, exactly the threshold shipped with them (an edited manifest could
    otherwise set 0.0 and let every photo count as live)."""
    threshold = point.get("live_threshold")
    if threshold is None:
        return point
    if not isinstance(threshold, (int, float)) or not 0.0 < float(threshold) < 1.0:
        raise ManifestError(f"{label}: liveness threshold {threshold!r} is outside (0, 1); refused")
    from edgeface.runtime.operating_point import WEIGHTS_SHA256
    from edgeface.weights import shipped_point

    weights = point.get(WEIGHTS_SHA256)
    shipped = shipped_point("minifasnet")
    if weights and weights == shipped.get(WEIGHTS_SHA256):
        if shipped.get("live_threshold") != threshold:
            raise ManifestError(f"{label}: liveness threshold {threshold} differs from the one shipped with these "
                                f"weights ({shipped.get('live_threshold')}); the manifest was edited — convert again")
    return point
