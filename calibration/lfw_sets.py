"""Representative data for int8 calibration, drawn from LFW images that are NOT in pairs.txt.

The 5,532 images outside the View-2 pairs (1,549 of them of people absent from the pairs) never touch the
accuracy numbers, so calibrating on them cannot flatter the evaluation. Draws are deterministic (seed).
Each network is calibrated on what it really sees in the float cascade:
- P-Net: the pyramid levels of real frames of the exported size (a pool image pasted, at a random scale and
  place, onto another pool image stretched to the frame), at the exact level size of that P-Net model;
- R-Net / O-Net: the 24x24 / 48x48 candidate crops the float cascade produces on those frames;
- FaceNet: 5-point aligned faces of pool images, as the model takes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edgeface import lfw
from edgeface.runtime import geometry
from edgeface.runtime.cascade import CascadeConfig, Face
from edgeface.runtime.images import read_rgb


@dataclass(frozen=True)
class CalibrationConfig:
    images: int = 200
    seed: int = 1234
    max_crops: int = 600


def calibration_pool(root: Path) -> list[str]:
    """All LFW images not named in pairs.txt, sorted."""
    in_pairs = set(lfw.pair_images(lfw.parse_pairs(root / "pairs.txt")))
    images_root = root / lfw.IMAGES_SUBDIR
    return sorted(n for n in (str(p.relative_to(images_root)) for p in images_root.rglob("*.jpg")) if n not in in_pairs)


def draw(root: Path, config: CalibrationConfig) -> list[str]:
    pool = calibration_pool(root)
    rng = np.random.default_rng(config.seed)
    return [pool[i] for i in sorted(rng.choice(len(pool), min(config.images, len(pool)), replace=False))]


def compose_frames(root: Path, names: list[str], size: tuple[int, int], seed: int) -> list[np.ndarray]:
    """Frames of `size` (width, height): a face image pasted at a random scale/place on a stretched other image."""
    width, height = size
    rng = np.random.default_rng(seed)
    frames = []
    for i, name in enumerate(names):
        face = read_rgb(root / lfw.IMAGES_SUBDIR / name)
        if (width, height) == face.shape[1::-1]:
            frames.append(face)
            continue
        background = read_rgb(root / lfw.IMAGES_SUBDIR / names[(i + 1) % len(names)])
        frame = cv2.resize(background, (width, height), interpolation=cv2.INTER_LINEAR)
        side = int(min(height, width) * rng.uniform(0.35, 1.0))
        face = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
        x, y = int(rng.integers(0, width - side + 1)), int(rng.integers(0, height - side + 1))
        frame[y : y + side, x : x + side] = face
        frames.append(frame)
    return frames


def describe(config: CalibrationConfig, what: str) -> str:
    return (f"{config.images} LFW deep-funneled images not in pairs.txt (seed {config.seed}); {what}")


def pnet_levels(frames: list[np.ndarray], config: CascadeConfig) -> dict[tuple[int, int], list[np.ndarray]]:
    """Normalised pyramid levels of every frame, grouped by level size (height, width)."""
    levels: dict[tuple[int, int], list[np.ndarray]] = {}
    for frame in frames:
        height, width = frame.shape[:2]
        frame = frame.astype(np.float32)
        for scale in geometry.pyramid_scales(height, width, config.min_face_size, config.scale_factor):
            level_h, level_w = geometry.scaled_size(height, width, scale)
            levels.setdefault((level_h, level_w), []).append(geometry.pyramid_level(frame, level_h, level_w))
    return levels


def stage_crops(frames: list[np.ndarray], nets, config: CascadeConfig, max_crops: int, seed: int) -> dict[str, np.ndarray]:
    """The float cascade's real R-Net (24x24) and O-Net (48x48) input crops on the frames."""
    from edgeface.runtime import cascade

    rnet_crops, onet_crops = [], []
    for frame in frames:
        boxes = cascade.pnet_stage(frame, nets, config)
        if len(boxes):
            rnet_crops.append(geometry.crop_batch(frame, boxes, 24))
            boxes = cascade.rnet_stage(frame, boxes, nets, config)
        if len(boxes):
            onet_crops.append(geometry.crop_batch(frame, boxes, 48))
    rng = np.random.default_rng(seed)
    out = {}
    for key, crops in (("rnet", rnet_crops), ("onet", onet_crops)):
        stacked = np.concatenate(crops) if crops else np.zeros((0,))
        if len(stacked) > max_crops:
            stacked = stacked[np.sort(rng.choice(len(stacked), max_crops, replace=False))]
        out[key] = stacked
    return out


def central_faces(root: Path, names: list[str], detector) -> list[tuple[np.ndarray, Face]]:
    """(image, central face) of each calibration image in which the detector finds a face."""
    from edgeface.runtime.cascade import detect_one

    picked = []
    for name in names:
        image = read_rgb(root / lfw.IMAGES_SUBDIR / name)
        face = detect_one(detector, image)
        if face is not None:
            picked.append((image, face))
    return picked


def central_crops(root: Path, names: list[str], detector) -> tuple[np.ndarray, np.ndarray]:
    """The 5-point-aligned crop of each LFW image's central face (zeros where none was found) and a found mask."""
    from edgeface.runtime.align import ALIGN_SIZE, align_five_points
    from edgeface.runtime.cascade import detect_one

    crops = np.zeros((len(names), ALIGN_SIZE, ALIGN_SIZE, 3), np.uint8)
    found = np.zeros(len(names), bool)
    for k, name in enumerate(names):
        image = read_rgb(root / lfw.IMAGES_SUBDIR / name)
        face = detect_one(detector, image)
        if face is not None:
            crops[k], found[k] = align_five_points(image, face.landmarks), True
    return crops, found


def aligned_faces(picked: list[tuple[np.ndarray, Face]]) -> np.ndarray:
    """5-point-aligned 112x112 crops (uint8) of `central_faces` output."""
    from edgeface.runtime.align import align_five_points

    return np.stack([align_five_points(image, face.landmarks) for image, face in picked])


def facenet_faces(root: Path, names: list[str], detector) -> np.ndarray:
    """5-point-aligned 112x112 faces of the calibration images (uint8)."""
    return aligned_faces(central_faces(root, names, detector))


def facenet_inputs(root: Path, names: list[str], detector, size: int | None = None) -> np.ndarray:
    """The calibration faces in an embedder's input format: area-resized to size x size, (x - 127.5) / 128."""
    from edgeface.models.facenet import INPUT_SIZE
    from edgeface.runtime.align import embedder_input

    return embedder_input(facenet_faces(root, names, detector), size or INPUT_SIZE)


def liveness_inputs(picked: list[tuple[np.ndarray, Face]]) -> dict[str, np.ndarray]:
    """Each anti-spoofing net's 80x80 context crops (BGR 0..255) of `central_faces` output."""
    from edgeface.runtime.liveness import NET_SCALES, liveness_crops

    crops: dict[str, list[np.ndarray]] = {role: [] for role in NET_SCALES}
    for image, face in picked:
        for role, crop in liveness_crops(image, face).items():
            crops[role].append(crop)
    return {role: np.stack(values) for role, values in crops.items()}
