"""Synthetic unit embeddings for tests that need no faces."""

from __future__ import annotations

import numpy as np


def unit_vectors(count: int, seed: int, dim: int = 128) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def clustered(people: int, per_person: int, spread: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`per_person` unit vectors around each of `people` random centres; labels 0..people-1."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(people, 128))
    vectors = np.repeat(centres, per_person, axis=0) + spread * rng.normal(size=(people * per_person, 128))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32), np.repeat(np.arange(people), per_person)
