"""Detect → align → embed on one image: the path the door lock, `detect`, `embed` and `compare` share.

`open_runtime` builds it from a models folder written by `edgeface convert` (TFLite only, no TensorFlow);
the float reference plugs its own detector and embedder into the same class.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from edgeface.runtime import geometry
from edgeface.runtime.cascade import CascadeConfig, Detector, Face, detect_one
from edgeface.runtime.embedder import FaceEmbedder, fuse_mirror, mirror_images
from edgeface.runtime.images import ImageError
from edgeface.runtime.liveness import LivenessCheck
from edgeface.runtime.operating_point import OperatingPoint
from edgeface.runtime.stage_choice import STAGES, StageChoice, probe_liveness, probe_stages
from edgeface.runtime.errors import UsageError

MODELS_ENV = "EDGEFACE_MODELS"
MAX_DETECT_PIXELS = 2_100_000  # 1920x1080 and smaller are searched as they are (a door camera: 640x480)


class FaceDetector(Protocol):
    def detect(self, image: np.ndarray) -> list[Face]: ...


@dataclass
class FacePipeline:
    """A detector, an embedder and the embedder's operating point (LFW thresholds, door policy, model id)."""

    detector: FaceDetector
    embedder: FaceEmbedder
    operating_point: OperatingPoint = field(default_factory=OperatingPoint)
    liveness: LivenessCheck | None = None  # anti-spoofing nets; None: the models folder has none
    description: dict = field(default_factory=dict)

    @property
    def model_id(self) -> str:
        return self.operating_point.model_id

    @property
    def door_policy(self) -> dict:
        return self.operating_point.door_policy

    def detect(self, image: np.ndarray) -> list[Face]:
        """Faces in image coordinates. A photo over MAX_DETECT_PIXELS is searched on an area-downscaled copy
        (the P-Net pyramid of a 12 MP photo takes 1.3 GB); crops are still cut from the full image."""
        height, width = image.shape[:2]
        if height * width <= MAX_DETECT_PIXELS:
            return self.detector.detect(image)
        scale = (MAX_DETECT_PIXELS / (height * width)) ** 0.5
        small = cv2.resize(image, (max(1, int(width * scale)), max(1, int(height * scale))),
                           interpolation=cv2.INTER_AREA)
        factor = np.array([width / small.shape[1], height / small.shape[0]], np.float32)
        return [Face(box=face.box * np.tile(factor, 2), score=face.score, landmarks=face.landmarks * factor)
                for face in self.detector.detect(small)]

    def crops(self, image: np.ndarray, faces: list[Face]) -> np.ndarray:
        """The embedder's aligned crops of the given faces of one image, (N, S, S, 3) uint8."""
        return np.stack([self.embedder.align(image, face) for face in faces])

    def embed_crops(self, crops: np.ndarray) -> np.ndarray:
        """L2-normalised embeddings of aligned crops, (N, dim); none in, none out.

        With the operating point's mirror fusion, each crop's embedding is that of the crop plus its mirror
        image: one more embedder call per face (~3 ms int8 on the CPU), for a steadier far tail of impostor
        similarities (docs/TRAINING.md: +3.4 points of TAR at FAR 1e-4 on LFW View-1 for the shipped v5)."""
        if len(crops) == 0:
            return np.zeros((0, self.embedder.dim), np.float32)
        if not self.operating_point.mirror_fusion:
            return self.embedder.embed(crops)
        both = self.embedder.embed(np.concatenate([crops, mirror_images(crops)]))
        return fuse_mirror(both[: len(crops)], both[len(crops):])

    def embed_faces(self, image: np.ndarray, faces: list[Face]) -> np.ndarray:
        """L2-normalised embeddings of the given faces of one image, (N, dim)."""
        if not faces:
            return np.zeros((0, self.embedder.dim), np.float32)
        return self.embed_crops(self.crops(image, faces))

    def threshold(self, given: float | None = None, strict: bool = False) -> float:
        """`given`, else the LFW operating point (FAR = 1e-3 when `strict`, best accuracy otherwise)."""
        return self.operating_point.threshold(given, strict)

    def embed_one(self, image: np.ndarray, label: str, policy: str = "central") -> tuple[Face, np.ndarray]:
        """The chosen face of an image and its embedding; no face is an ImageError naming the image."""
        face = detect_one(self, image, policy)
        if face is None:
            raise ImageError(f"{label}: no face found")
        return face, self.embed_faces(image, [face])[0]


def default_models_dir(models: str | os.PathLike | None) -> Path | None:
    """--models, else $EDGEFACE_MODELS, else None (the float reference)."""
    if models is not None:
        return Path(models)
    env = os.environ.get(MODELS_ENV)
    return Path(env) if env else None


def choose_variant(manifest, requested: str | None, delegate) -> str:
    """The variant to run: as asked, else edgetpu when a Coral delegate is present, else int8, else fp32."""
    available = manifest.variants("facenet")
    if requested:
        if requested not in available:
            raise UsageError(f"variant {requested!r} not in the models folder (has {', '.join(available) or 'none'})")
        return requested
    if delegate is not None and "edgetpu" in available:
        return "edgetpu"
    for variant in ("int8", "fp32", "fp16", "dynamic"):
        if variant in available:
            return variant
    raise UsageError("the models folder has no FaceNet model; run `edgeface convert` with the NNS2 weights")


def open_runtime(models_dir: str | os.PathLike, variant: str | None = None, num_threads: int | None = 1,
                 cascade: CascadeConfig | None = None, use_edgetpu: bool = True,
                 stage_variants: dict[str, str] | None = None) -> FacePipeline:
    """The TFLite pipeline of a converted models folder (manifest and sha256 checked before anything runs).

    With no `variant` asked for and no Edge TPU, each MTCNN stage, and the anti-spoofing pair, runs the variant
    that is fastest on this machine (probed here, see runtime/stage_choice.py); `stage_variants` gives that choice
    instead (per MTCNN stage, and "liveness": the benchmark's, made once); `description` says what was chosen."""
    from edgeface.runtime import interpreter
    from edgeface.runtime.manifest import checked_operating_point, load_manifest
    from edgeface.runtime.tflite_facenet import TfliteFaceNet
    from edgeface.runtime.tflite_mtcnn import TfliteMtcnnNets

    folder = Path(models_dir)
    manifest = load_manifest(folder)
    delegate = interpreter.edgetpu_delegate() if use_edgetpu else None
    chosen = choose_variant(manifest, variant, delegate)
    delegates = [delegate] if chosen == "edgetpu" and delegate is not None else None
    camera = manifest.camera or {}
    config = cascade or CascadeConfig(min_face_size=float(camera.get("min_face_size", 20.0)),
                                      scale_factor=float(camera.get("scale_factor", 0.709)))
    if "min_face_size" in camera and config.scale_factor == camera.get("scale_factor", config.scale_factor):
        config = replace(config, min_face_size=geometry.snap_min_face(config.min_face_size, camera["min_face_size"],
                                                                     config.scale_factor))
    given = stage_variants or {}
    stages = StageChoice({**dict.fromkeys(STAGES, chosen), **{k: v for k, v in given.items() if k in STAGES}})
    if stage_variants is None and variant is None and chosen != "edgetpu" and camera.get("input_sizes"):
        width, height = camera["input_sizes"][0]
        stages = probe_stages(folder, manifest, chosen, (height, width), config.min_face_size, config.scale_factor,
                              num_threads)
    nets = TfliteMtcnnNets(folder, chosen, manifest, num_threads, delegates, stages.variants)
    embedder = TfliteFaceNet(folder, chosen, manifest, num_threads, delegates)
    float_entry = manifest.find("facenet", "fp32") or manifest.find("facenet", chosen)
    liveness, live_variant = None, None
    if manifest.find("liveness_v2", chosen):
        from edgeface.runtime.liveness import TfliteLiveness, checked_liveness

        live_point = checked_liveness(manifest.liveness or {}, str(folder / "manifest.json"))
        live_variant = given.get("liveness") or (
            probe_liveness(folder, manifest, chosen, num_threads)[0] if variant is None else chosen)
        liveness = LivenessCheck(TfliteLiveness(folder, live_variant, manifest, num_threads,
                                                delegates if live_variant == chosen else None),
                                 live_point.get("live_threshold"), live_point.get("source", ""))
    point = checked_operating_point(manifest.operating_point or {}, str(folder / "manifest.json"))
    return FacePipeline(
        detector=Detector(nets, config), embedder=embedder,
        operating_point=OperatingPoint.from_record(point, weights_id=float_entry.sha256), liveness=liveness,
        description={"models": str(folder), "variant": chosen, "detector": stages.describe(),
                     **({"liveness": live_variant} if live_variant else {}),
                     "min_face_size": round(config.min_face_size, 2),
                     "accelerator": "edgetpu" if delegates else "cpu",
                     "interpreter": interpreter.backend_name(), "threads": num_threads})
