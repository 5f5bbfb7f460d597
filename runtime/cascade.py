"""The MTCNN cascade (P-Net → R-Net → O-Net) written once, independent of how the networks run.

The float reference (Keras) and the TFLite runtime each provide an object with `pnet`, `rnet` and `onet`
methods (see `MtcnnNets`); this module does everything else: pyramid, candidate generation, NMS, regression,
squaring, crops, landmark mapping, and the choice of the face to keep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from edgeface.runtime import geometry
from edgeface.runtime.errors import UsageError


class MtcnnNets(Protocol):
    """What the cascade needs from a P/R/O-Net implementation. Inputs are normalised float32 images."""

    def pnet(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(H, W, 3) pyramid level → face probability (H', W') and box offsets (H', W', 4)."""
        ...

    def rnet(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 24, 24, 3) → probability (N,), offsets (N, 4)."""
        ...

    def onet(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(N, 48, 48, 3) → probability (N,), offsets (N, 4), landmarks (N, 10) as x1..x5, y1..y5 in [0, 1]."""
        ...


@dataclass(frozen=True)
class CascadeConfig:
    """Detector settings. Defaults are those of the MTCNN paper's code (facenet's align_dataset_mtcnn)."""

    min_face_size: float = 20.0
    scale_factor: float = 0.709
    thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7)
    pnet_nms_per_scale: float = 0.5
    pnet_nms_all_scales: float = 0.7
    rnet_nms: float = 0.7
    onet_nms: float = 0.7


@dataclass
class Face:
    """One detection: inclusive-corner box, O-Net score, and 5 landmarks (eyes, nose, mouth corners) as (5, 2) x, y."""

    box: np.ndarray
    score: float
    landmarks: np.ndarray = field(repr=False)

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])

    def to_dict(self) -> dict:
        return {
            "box": [round(float(v), 2) for v in self.box],
            "score": round(float(self.score), 5),
            "landmarks": [[round(float(x), 2), round(float(y), 2)] for x, y in self.landmarks],
        }


def pnet_stage(image: np.ndarray, nets: MtcnnNets, config: CascadeConfig) -> np.ndarray:
    """Stage 1: P-Net over the image pyramid; candidate boxes (N, 5: x1, y1, x2, y2, score), squared, after
    per-level and all-level NMS. The converter calls the stages one by one to collect each net's inputs."""
    height, width = image.shape[:2]
    image = image.astype(np.float32)
    per_scale = []
    for scale in geometry.pyramid_scales(height, width, config.min_face_size, config.scale_factor):
        level_h, level_w = geometry.scaled_size(height, width, scale)
        level = geometry.pyramid_level(image, level_h, level_w)
        prob, reg = nets.pnet(level)
        candidates = geometry.pnet_candidates(prob, reg, scale, config.thresholds[0])
        per_scale.append(candidates[geometry.nms(candidates, config.pnet_nms_per_scale, presorted=True)])
    boxes = np.concatenate(per_scale) if per_scale else np.zeros((0, 5), np.float32)
    boxes = boxes[geometry.nms(boxes, config.pnet_nms_all_scales)]
    return geometry.square_boxes(boxes)


def rnet_stage(image: np.ndarray, boxes: np.ndarray, nets: MtcnnNets, config: CascadeConfig) -> np.ndarray:
    """Stage 2: R-Net on 24x24 crops of candidate boxes; the survivors, regressed, NMS'd and squared (N, 5)."""
    prob, reg = nets.rnet(geometry.crop_batch(image, boxes, 24))
    passed = prob > config.thresholds[1]
    boxes = geometry.regress_boxes(np.hstack([boxes[passed, :4], prob[passed, None]]), reg[passed])
    return geometry.square_boxes(boxes[geometry.nms(boxes, config.rnet_nms)])


def onet_stage(image: np.ndarray, boxes: np.ndarray, nets: MtcnnNets, config: CascadeConfig) -> list[Face]:
    """Stage 3: O-Net on 48x48 crops; faces with their five landmarks, after a last NMS ("min" overlap)."""
    prob, reg, marks = nets.onet(geometry.crop_batch(image, boxes, 48))
    passed = prob > config.thresholds[2]
    boxes = np.hstack([boxes[passed, :4], prob[passed, None]])
    reg, marks = reg[passed], marks[passed]
    widths = (boxes[:, 2] - boxes[:, 0] + 1)[:, None]
    heights = (boxes[:, 3] - boxes[:, 1] + 1)[:, None]
    xs = boxes[:, 0:1] + widths * marks[:, 0:5]
    ys = boxes[:, 1:2] + heights * marks[:, 5:10]
    boxes = geometry.regress_boxes(boxes, reg)
    keep = geometry.nms(boxes, config.onet_nms, method="min")
    return [Face(box=boxes[i, :4].copy(), score=float(boxes[i, 4]), landmarks=np.stack([xs[i], ys[i]], 1)) for i in keep]


def detect_faces(image: np.ndarray, nets: MtcnnNets, config: CascadeConfig | None = None) -> list[Face]:
    """Run the full cascade on an RGB uint8 image; faces come best score first."""
    config = config or CascadeConfig()
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB image of shape (H, W, 3), got {image.shape}")
    boxes = pnet_stage(image, nets, config)
    if boxes.shape[0] == 0:
        return []
    return refine_faces(image, boxes, nets, config)


def refine_faces(image: np.ndarray, boxes: np.ndarray, nets: MtcnnNets, config: CascadeConfig) -> list[Face]:
    """R-Net then O-Net on candidate boxes: P-Net's (N, 5, squared, scored), or a tracker's (N, 4) around the
    faces of the previous frame."""
    if boxes.shape[1] == 4:  # a tracker's boxes: squared, with a placeholder score
        boxes = geometry.square_boxes(np.hstack([np.asarray(boxes, np.float32), np.ones((len(boxes), 1), np.float32)]))
    boxes = rnet_stage(image, boxes, nets, config) if boxes.shape[0] else boxes
    if boxes.shape[0] == 0:
        return []
    return onet_stage(image, boxes, nets, config)


def pick_face(faces: list[Face], image_shape: tuple[int, ...], policy: str = "central") -> Face | None:
    """Choose the face to keep when several are found.

    "largest" takes the biggest box; "central" (facenet's align_dataset_mtcnn rule) favours big boxes near the
    image centre: area - 2 x squared distance of the box centre from the image centre.
    """
    if not faces:
        return None
    boxes = np.stack([f.box for f in faces])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    if policy == "largest":
        return faces[int(np.argmax(areas))]
    if policy != "central":
        raise UsageError(f"unknown face policy {policy!r} (use 'central' or 'largest')")
    centre_y, centre_x = image_shape[0] / 2.0, image_shape[1] / 2.0
    offsets = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2 - centre_x, (boxes[:, 1] + boxes[:, 3]) / 2 - centre_y])
    return faces[int(np.argmax(areas - 2.0 * np.sum(offsets**2, axis=0)))]


def detect_one(detector, image: np.ndarray, policy: str = "central") -> Face | None:
    """The face a one-face command means: the `policy` pick among what `detector` finds (None: no face)."""
    return pick_face(detector.detect(image), image.shape, policy)


@dataclass
class Detector:
    """A set of nets and the settings to run the cascade with (the TFLite runtime's detector)."""

    nets: MtcnnNets
    config: CascadeConfig = field(default_factory=CascadeConfig)

    def detect(self, image: np.ndarray) -> list[Face]:
        return detect_faces(image, self.nets, self.config)
