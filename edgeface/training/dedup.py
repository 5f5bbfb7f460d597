"""Remove training crops that are near-duplicates of LFW images (the same photo, not just the same person).

CelebA and LFW share celebrities and sometimes the very same press photos; training on those would leak the
benchmark. Every LFW image (all 13,233, not only the pairs) is embedded with the teacher; a training crop whose
teacher embedding lies closer than `threshold` (Euclidean, unit vectors) to any LFW embedding is dropped. Two
different photos of one person are typically 0.6–1.1 apart with MobileFaceNet; re-crops or re-encodings of one
photo fall well under 0.4, so 0.4 removes copies while keeping the person.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeface.runtime.fileio import atomic_save_npz

DEFAULT_THRESHOLD = 0.4


def lfw_teacher_embeddings(root: Path, cache: Path, progress: bool = True) -> np.ndarray:
    """Flip-fused MobileFaceNet embeddings of every LFW image with a face (cached in `cache`)."""
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as data:
            return data["embeddings"]
    from edgeface import lfw
    from edgeface.detector import FloatDetector
    from edgeface.evaluate import embed_images
    from edgeface.training.teachers import teacher_on_every_core

    images_root = root / lfw.IMAGES_SUBDIR
    names = sorted(str(p.relative_to(images_root)) for p in images_root.rglob("*.jpg"))
    embedded = embed_images(root, names, FloatDetector(), teacher_on_every_core(), flip=True, progress=progress)
    vectors = embedded.vectors(flip=True)
    vectors = vectors[~np.isnan(vectors).any(axis=1)]
    atomic_save_npz(cache, embeddings=vectors, names=np.asarray(names, dtype=str))
    return vectors


def near_duplicates(train: np.ndarray, lfw_vectors: np.ndarray, threshold: float = DEFAULT_THRESHOLD,
                    block: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Indices of training vectors within `threshold` of any LFW vector, and every vector's nearest distance."""
    nearest = np.empty(len(train), np.float32)
    for start in range(0, len(train), block):
        similarity = train[start : start + block] @ lfw_vectors.T
        nearest[start : start + block] = np.sqrt(np.maximum(0.0, 2.0 - 2.0 * similarity.max(axis=1)))
    return np.nonzero(nearest < threshold)[0], nearest


def duplicates_path(aligned_set: Path) -> Path:
    return aligned_set.with_name(f"{aligned_set.stem}.lfw_duplicates.npz")


def mark_duplicates(aligned_set: Path, lfw_vectors: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> int:
    """Write `<set>.lfw_duplicates.npz` (indices to drop) from the set's cached teacher targets; returns the count."""
    from edgeface.training.teachers import teacher_cache_path

    with np.load(teacher_cache_path(aligned_set, "mobilefacenet"), allow_pickle=False) as data:
        vectors = data["plain"] + data["flipped"]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    drop, nearest = near_duplicates(vectors, lfw_vectors, threshold)
    atomic_save_npz(duplicates_path(aligned_set), drop=drop, nearest=nearest, threshold=np.asarray(threshold))
    return int(len(drop))


def kept_indices(aligned_set: Path, count: int) -> np.ndarray:
    """Rows of the set to train on; refuses to train on a set that was never checked against LFW."""
    path = duplicates_path(aligned_set)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: run `edgeface train dedup {aligned_set}` before training on it")
    with np.load(path, allow_pickle=False) as data:
        keep = np.ones(count, bool)
        keep[data["drop"]] = False
    return np.nonzero(keep)[0]
