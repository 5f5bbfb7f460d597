"""The float reference detector: Keras MTCNN behind the shared cascade, plus 'detect, pick, align' in one call."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeface.runtime.align import ALIGN_SIZE, align_five_points, margin_crop
from edgeface.runtime.cascade import CascadeConfig, Face, detect_faces


@dataclass(frozen=True)
class AlignConfig:
    """How a detected face becomes an embedder input.

    `template` > 0 selects the 5-point similarity warp to a template of that size (112 is what MobileFaceNet
    and our NNS2 take); `template` = 0 selects facenet's margin crop (`image_size`, `margin`).
    """

    template: int = ALIGN_SIZE
    image_size: int = 160
    margin: int = 32
    face_policy: str = "central"

    def apply(self, image: np.ndarray, face: Face) -> np.ndarray:
        if self.template:
            return align_five_points(image, face.landmarks, self.template)
        return margin_crop(image, face.box, self.image_size, self.margin)


class FloatDetector:
    """MTCNN float reference. Building it loads TensorFlow (a few seconds); reuse one instance."""

    def __init__(self, config: CascadeConfig | None = None) -> None:
        from edgeface.models.mtcnn import KerasMtcnnNets

        self.config = config or CascadeConfig()
        self.nets = KerasMtcnnNets()

    def detect(self, image: np.ndarray) -> list[Face]:
        return detect_faces(image, self.nets, self.config)
