"""Cache teacher embeddings once per training set: for each aligned crop and for its mirror image.

Targets are stored beside the aligned set as `<set>.<teacher>.npz`, with the sha256 of the teacher weights
and the number of crops, so a stale cache (other teacher file, other crops) is refused rather than used.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from edgeface.runtime.fileio import atomic_save_npz
from edgeface.runtime.errors import UsageError


def teacher_cache_path(aligned_set: Path, teacher: str) -> Path:
    return aligned_set.with_name(f"{aligned_set.stem}.{teacher}.npz")


def teacher_fingerprint(teacher: str) -> str:
    from edgeface.weights import recorded_sums

    if teacher == "mobilefacenet":
        return recorded_sums()["mobilefacenet.tflite"]
    import face_recognition_models

    from edgeface.weights import sha256_file

    return sha256_file(Path(face_recognition_models.face_recognition_model_location()))


def teacher_on_every_core():
    """The MobileFaceNet teacher with one interpreter thread per core (the interpreter's default is one thread):
    caching targets, embedding LFW for the de-duplication and the online teacher between training steps all run
    it while nothing else computes."""
    from edgeface.embedders import MobileFaceNet

    return MobileFaceNet(num_threads=os.cpu_count())


def cache_teacher(aligned_set: Path, teacher: str = "mobilefacenet", batch: int = 256, progress: bool = True) -> Path:
    """Embed every crop of `aligned_set` (and its flip) with the teacher; returns the cache path."""
    from tqdm import tqdm

    if teacher != "mobilefacenet":
        raise UsageError("teacher targets are cached for mobilefacenet (dlib needs its own 150x150 chips)")
    images = np.load(aligned_set, allow_pickle=False)["images"]
    embedder = teacher_on_every_core()
    plain = np.zeros((len(images), embedder.dim), np.float32)
    flipped = np.zeros_like(plain)
    for start in tqdm(range(0, len(images), batch), desc=f"teacher {aligned_set.stem}", disable=not progress):
        crops = images[start : start + batch]
        plain[start : start + len(crops)] = embedder.embed(crops)
        flipped[start : start + len(crops)] = embedder.embed(np.ascontiguousarray(crops[:, :, ::-1]))
    out = teacher_cache_path(aligned_set, teacher)
    atomic_save_npz(out, plain=plain, flipped=flipped, teacher=np.asarray(teacher),
                    fingerprint=np.asarray(teacher_fingerprint(teacher)), count=np.asarray(len(images)))
    return out


def load_teacher(aligned_set: Path, count: int, teacher: str = "mobilefacenet") -> tuple[np.ndarray, np.ndarray]:
    path = teacher_cache_path(aligned_set, teacher)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no teacher cache; run `edgeface train teacher {aligned_set}` first")
    with np.load(path, allow_pickle=False) as data:
        if int(data["count"]) != count or str(data["fingerprint"]) != teacher_fingerprint(teacher):
            raise UsageError(f"{path}: stale teacher cache (other crops or teacher weights); rebuild it")
        return data["plain"], data["flipped"]
