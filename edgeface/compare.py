"""`edgeface compare`: distance matrix of the faces in a few images."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeface.runtime.images import read_rgb
from edgeface.runtime.pipeline import FacePipeline


def read_images(paths: list[Path]) -> list[np.ndarray]:
    """Every image read before any model is opened: a missing or unreadable file fails in a second, not after
    the pipeline has loaded."""
    return [read_rgb(path) for path in paths]


def compare_images(paths: list[Path], pictures: list[np.ndarray], pipeline: FacePipeline, threshold: float | None,
                   label: str) -> str:
    threshold = pipeline.threshold(threshold)
    vectors = np.stack([pipeline.embed_one(picture, str(path))[1] for path, picture in zip(paths, pictures)])
    distances = np.linalg.norm(vectors[:, None] - vectors[None], axis=2)
    lines = [f"{label}, threshold {threshold:.3f} (Euclidean)", "distance matrix:"]
    for i, row in enumerate(distances):
        lines.append(f"  [{i}] " + "  ".join(f"{d:.4f}" for d in row) + f"   {paths[i]}")
    for i in range(len(paths)):
        for j in range(i + 1, len(paths)):
            verdict = "same person" if distances[i, j] < threshold else "different people"
            lines.append(f"{paths[i].name} vs {paths[j].name}: {distances[i, j]:.4f} -> {verdict}")
    return "\n".join(lines)
