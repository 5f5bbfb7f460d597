"""`edgeface compare`: distance matrix of the faces in a few images."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeface.runtime.images import ImageError, read_rgb


def model_threshold(embedder_name: str) -> float:
    """The embedder's Euclidean threshold at LFW's best accuracy, recorded in weights/operating_points.json."""
    import json

    from edgeface.weights import checked_path

    points = json.loads(checked_path("operating_points.json").read_text())
    if embedder_name not in points:
        raise ValueError(f"no recorded LFW operating point for {embedder_name!r}; pass --threshold")
    return float(points[embedder_name]["euclidean_threshold_accuracy"])


def compare_images(paths: list[Path], embedder_name: str, threshold: float | None) -> str:
    from edgeface.detector import FloatDetector
    from edgeface.embedders import load_embedder
    from edgeface.runtime.cascade import pick_face

    threshold = model_threshold(embedder_name) if threshold is None else threshold
    detector, embedder = FloatDetector(), load_embedder(embedder_name)
    crops = []
    for path in paths:
        image = read_rgb(path)
        face = pick_face(detector.detect(image), image.shape)
        if face is None:
            raise ImageError(f"{path}: no face found")
        crops.append(embedder.align(image, face))
    vectors = embedder.embed(np.stack(crops))
    distances = np.linalg.norm(vectors[:, None] - vectors[None], axis=2)
    lines = [f"embedder {embedder_name}, threshold {threshold:.3f} (Euclidean)", "distance matrix:"]
    for i, row in enumerate(distances):
        lines.append(f"  [{i}] " + "  ".join(f"{d:.4f}" for d in row) + f"   {paths[i]}")
    for i in range(len(paths)):
        for j in range(i + 1, len(paths)):
            verdict = "same person" if distances[i, j] < threshold else "different people"
            lines.append(f"{paths[i].name} vs {paths[j].name}: {distances[i, j]:.4f} -> {verdict}")
    return "\n".join(lines)
