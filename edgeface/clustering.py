"""`edgeface cluster`: sort a dump of photos into people (facenet's cluster.py, with scikit-learn).

Every face of every image is embedded and clustered by average-linkage agglomerative clustering cut at a
Euclidean distance, or by DBSCAN. The default cut is the model's LFW operating point at FAR = 1e-3: merging two
people into one folder is a worse mistake than splitting one person in two, and merges compound up the tree
(on LFW the best-accuracy threshold merged far more people; see reports/workflow_lfw.json). Clusters
smaller than `min_cluster_size` go to `noise/`. Each face is written as an aligned PNG into its cluster's
folder; `summary.json` says which image and box every face came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edgeface.facesets import EmbeddedFace, embed_images
from edgeface.runtime.fileio import atomic_write_bytes, atomic_write_json
from edgeface.runtime.frames import image_files
from edgeface.runtime.pipeline import FacePipeline
from edgeface.runtime.errors import UsageError


@dataclass(frozen=True)
class ClusterConfig:
    threshold: float | None = None  # Euclidean; default: the model's LFW threshold at FAR = 1e-3
    min_cluster_size: int = 2
    method: str = "agglomerative"  # agglomerative (average linkage) | dbscan
    faces: str = "all"  # all | central


def cluster_vectors(vectors: np.ndarray, threshold: float, min_cluster_size: int, method: str) -> np.ndarray:
    """Cluster ids 0..K-1 ordered by size (largest first); -1 for noise."""
    if len(vectors) == 0:
        return np.zeros(0, np.int64)
    if method == "agglomerative":
        from sklearn.cluster import AgglomerativeClustering

        if len(vectors) == 1:
            raw = np.zeros(1, np.int64)
        else:
            raw = AgglomerativeClustering(n_clusters=None, distance_threshold=threshold, linkage="average",
                                          metric="euclidean").fit_predict(vectors)
    elif method == "dbscan":
        from sklearn.cluster import DBSCAN

        raw = DBSCAN(eps=threshold, min_samples=min_cluster_size, metric="euclidean").fit_predict(vectors)
    else:
        raise UsageError(f"unknown clustering method {method!r} (agglomerative or dbscan)")
    ids, counts = np.unique(raw[raw >= 0], return_counts=True)
    keep = [i for i, c in sorted(zip(ids, counts), key=lambda ic: (-ic[1], ic[0])) if c >= min_cluster_size]
    relabel = {old: new for new, old in enumerate(keep)}
    return np.array([relabel.get(r, -1) for r in raw], np.int64)


def cluster_folder(folder: Path, out_dir: Path, pipeline: FacePipeline, config: ClusterConfig,
                   progress: bool = True) -> dict:
    if out_dir.exists() and any(out_dir.iterdir()):
        raise UsageError(f"{out_dir}: output folder is not empty (choose a new one; nothing is overwritten)")
    paths = image_files(folder)
    faces: list[EmbeddedFace] = []
    failures = []
    for path, found, error in embed_images(paths, pipeline, config.faces, progress):
        faces.extend(found)
        if error:
            failures.append({"image": str(path.relative_to(folder)), "reason": error})
    threshold = pipeline.threshold(config.threshold, strict=True)
    vectors = np.stack([f.vector for f in faces]) if faces else np.zeros((0, pipeline.embedder.dim))
    labels = cluster_vectors(vectors, threshold, config.min_cluster_size, config.method)
    clusters: dict[str, list[dict]] = {}
    for face, label in zip(faces, labels):
        name = "noise" if label < 0 else f"person_{label:03d}"
        relative = face.path.relative_to(folder)
        file = f"{str(relative.with_suffix('')).replace('/', '__')}_face{face.face_index}.png"
        ok, png = cv2.imencode(".png", np.ascontiguousarray(face.crop[:, :, ::-1]))
        atomic_write_bytes(out_dir / name / file, png.tobytes())
        clusters.setdefault(name, []).append({"image": str(relative), "face": face.face_index, "file": file,
                                              "box": [round(float(v), 1) for v in face.face.box]})
    summary = {"images": len(paths), "faces": len(faces), "images_without_face": failures,
               "clusters": sum(1 for k in clusters if k != "noise"), "noise_faces": len(clusters.get("noise", [])),
               "threshold": threshold, "method": config.method, "min_cluster_size": config.min_cluster_size,
               "faces_per_image": config.faces, "pipeline": pipeline.description, "members": clusters}
    atomic_write_json(out_dir / "summary.json", summary)
    return summary


def pairwise_scores(truth: np.ndarray, predicted: np.ndarray) -> dict:
    """Pairwise precision/recall/F1 and BCubed precision/recall/F1 of a clustering (noise = singletons)."""
    predicted = predicted.copy()
    noise = predicted < 0
    predicted[noise] = predicted.max(initial=-1) + 1 + np.arange(noise.sum())
    same_truth = truth[:, None] == truth[None]
    same_pred = predicted[:, None] == predicted[None]
    off_diagonal = ~np.eye(len(truth), dtype=bool)
    true_pairs = np.sum(same_truth & same_pred & off_diagonal)
    precision = true_pairs / max(1, np.sum(same_pred & off_diagonal))
    recall = true_pairs / max(1, np.sum(same_truth & off_diagonal))
    both = np.sum(same_truth & same_pred, axis=1)
    b_precision = float(np.mean(both / np.sum(same_pred, axis=1)))
    b_recall = float(np.mean(both / np.sum(same_truth, axis=1)))
    return {"pairwise_precision": float(precision), "pairwise_recall": float(recall),
            "pairwise_f1": float(2 * precision * recall / max(1e-12, precision + recall)),
            "bcubed_precision": b_precision, "bcubed_recall": b_recall,
            "bcubed_f1": 2 * b_precision * b_recall / max(1e-12, b_precision + b_recall)}
