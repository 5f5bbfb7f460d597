"""Detect once, then follow: the lock's detector for video (the detect-then-track idea of MediaPipe's face
pipelines).

Most of MTCNN's time on a camera frame is the P-Net pyramid, which searches the whole frame at every scale. At a
door, a face seen in one frame is near the same place in the next, so after a full detection the next frames
run only R-Net and O-Net on boxes around the faces just found (the cascade's own refinement, `refine_faces`).
The full pyramid runs again every `full_every` frames, so a face that walks in beside a tracked one is found
within that many frames; and at once when the tracked faces are lost (fewer faces than before, or none).
Recognition still embeds the face in every frame: tracking only decides where to look, never who it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edgeface.runtime.cascade import CascadeConfig, Face, refine_faces
from edgeface.runtime.errors import UsageError

SEED_SCALES = (1.0, 1.4)  # candidate boxes per tracked face: its box, and one 1.4x as wide for faster motion


@dataclass
class TrackingCounts:
    full: int = 0  # frames searched with the whole P-Net pyramid
    tracked: int = 0  # frames answered by R-Net/O-Net around the previous faces


class TrackingDetector:
    """`detect` for a stream of frames: `full_detect` (the pipeline's whole cascade) every `full_every` frames or
    when the faces are lost, R-Net/O-Net of `nets` around the previous faces in between. Without `nets` (a
    pipeline that does not expose its cascade) every frame is a full detection."""

    def __init__(self, full_detect: Callable[[np.ndarray], list[Face]], nets=None,
                 config: CascadeConfig | None = None, full_every: int = 10) -> None:
        if not isinstance(full_every, int) or full_every < 1:
            raise UsageError(f"full detection every N frames needs a whole N >= 1 (got {full_every!r})")
        self.full_detect, self.nets, self.config = full_detect, nets, config or CascadeConfig()
        self.full_every = full_every if nets is not None else 1
        self.counts = TrackingCounts()
        self.reset()

    @classmethod
    def for_pipeline(cls, pipeline, full_every: int) -> "TrackingDetector":
        detector = getattr(pipeline, "detector", None)
        return cls(pipeline.detect, getattr(detector, "nets", None), getattr(detector, "config", None), full_every)

    def reset(self) -> None:
        """Forget the faces followed (a new stream, a skipped frame)."""
        self._faces: list[Face] = []
        self._shape: tuple[int, ...] | None = None
        self._since_full = 0

    def detect(self, image: np.ndarray) -> list[Face]:
        if self._faces and self._since_full + 1 < self.full_every and image.shape == self._shape:
            faces = refine_faces(image, seed_boxes(self._faces), self.nets, self.config)
            if faces and len(faces) >= len(self._faces):
                self._faces, self._since_full = faces, self._since_full + 1
                self.counts.tracked += 1
                return faces
        faces = self.full_detect(image)
        self._faces, self._shape, self._since_full = faces, image.shape, 0
        self.counts.full += 1
        return faces


def seed_boxes(faces: list[Face]) -> np.ndarray:
    """Square candidate boxes centred on each face, at each of SEED_SCALES of its size."""
    boxes = []
    for face in faces:
        cx, cy = (face.box[0] + face.box[2]) / 2, (face.box[1] + face.box[3]) / 2
        side = max(face.width, face.height)
        for scale in SEED_SCALES:
            half = side * scale / 2
            boxes.append([cx - half, cy - half, cx + half, cy + half])
    return np.asarray(boxes, np.float32)
