"""Measure `cluster` and `identify` on LFW (issue: the rest of the FaceNet workflow).

Usage: python scripts/lfw_workflow_eval.py [--models models] [--lfw DIR] [--out reports/workflow_lfw.json]

- Cluster: the central face of every image of the 158 LFW people with at least 10 images, clustered exactly as
  `edgeface cluster` does (average linkage at the model's LFW threshold, clusters < 2 faces = noise); pairwise
  and BCubed precision/recall/F1 against the true names, and clusters found vs 158.
- Identify: train `edgeface identify`'s classifier on the first half (sorted by file name, rounded up) of each of
  those people's images, predict the second half: top-1 accuracy (an "unknown" answer counts as wrong) and the
  unknown rate; then 200 images of people with exactly one LFW image (seeded draw): how many are called unknown.
Both at the model's two LFW operating points: FAR = 1e-3 (the commands' default) and best accuracy.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

try:  # an installed edgeface (editable or not); else this checkout's sources
    import edgeface.runtime  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from edgeface import lfw  # noqa: E402
from edgeface.clustering import cluster_vectors, pairwise_scores  # noqa: E402
from edgeface.facesets import embed_images  # noqa: E402
from edgeface.identify import UNKNOWN, train_identity_model  # noqa: E402
from edgeface.pipelines import open_pipeline  # noqa: E402
from edgeface.runtime.fileio import atomic_write_json  # noqa: E402


def embed(paths: list[Path], pipeline) -> tuple[np.ndarray, list[bool]]:
    vectors, found = [], []
    for _, faces, error in embed_images(paths, pipeline):
        found.append(error is None)
        if error is None:
            vectors.append(faces[0].vector)
    return np.stack(vectors), found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=Path, default=None, help="converted models folder (default: float reference)")
    parser.add_argument("--variant", default=None)
    parser.add_argument("--lfw", default=None)
    parser.add_argument("--out", type=Path, default=Path("reports/workflow_lfw.json"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-embeddings", type=Path, default=None, help="also keep the embeddings (.npz) for study")
    args = parser.parse_args()
    root = lfw.locate_lfw(args.lfw)
    pipeline = open_pipeline(args.models, args.variant)
    people = lfw.people_images(root)
    frequent = {name: files for name, files in people.items() if len(files) >= 10}
    singles = sorted(name for name, files in people.items() if len(files) == 1)
    started = time.time()

    paths = [f for files in frequent.values() for f in files]
    truth_all = np.array([i for i, files in enumerate(frequent.values()) for _ in files])
    vectors, found = embed(paths, pipeline)
    truth = truth_all[np.array(found)]
    operating_points = {"at_far_1e-3 (default)": pipeline.operating_point.threshold_far_1e3,
                        "at_best_accuracy": pipeline.operating_point.threshold_accuracy}
    clustering, identify = {}, {}
    train_mask = np.zeros(len(vectors), bool)
    for person in np.unique(truth):
        members = np.nonzero(truth == person)[0]  # already in file-name order
        train_mask[members[: (len(members) + 1) // 2]] = True
    names = list(frequent)
    rng = np.random.default_rng(args.seed)
    drawn = [people[singles[i]][0] for i in sorted(rng.choice(len(singles), 200, replace=False))]
    single_vectors, _ = embed(drawn, pipeline)
    for label, threshold in operating_points.items():
        labels = cluster_vectors(vectors, threshold, 2, "agglomerative")
        clustering[label] = {"people": len(frequent), "images": len(paths), "faces": int(len(vectors)),
                             "images_without_face": int(len(paths) - len(vectors)), "threshold": threshold,
                             "method": "agglomerative average linkage, clusters < 2 = noise",
                             "clusters_found": int(labels.max() + 1), "noise_faces": int(np.sum(labels < 0)),
                             **pairwise_scores(truth, labels)}
        model = train_identity_model(vectors[train_mask], [names[t] for t in truth[train_mask]], threshold,
                                     pipeline.model_id)
        answers = model.predict(vectors[~train_mask])
        expected = [names[t] for t in truth[~train_mask]]
        single_answers = model.predict(single_vectors)
        identify[label] = {
            "threshold": threshold, "train_faces": int(train_mask.sum()), "test_faces": int((~train_mask).sum()),
            "top1_accuracy": sum(a == e for (a, _), e in zip(answers, expected)) / len(answers),
            "unknown_rate_on_known_people": sum(a == UNKNOWN for a, _ in answers) / len(answers),
            "strangers_drawn": len(drawn), "strangers_with_face": int(len(single_vectors)),
            "strangers_called_unknown": int(sum(a == UNKNOWN for a, _ in single_answers)),
            "strangers_unknown_rate": sum(a == UNKNOWN for a, _ in single_answers) / max(1, len(single_answers)),
            "classifier": "linear SVM + nearest-training-face distance for unknown"}
    if args.save_embeddings:
        np.savez(args.save_embeddings, vectors=vectors, truth=truth, singles=single_vectors)
    report = {"pipeline": pipeline.description, "clustering": clustering, "identify": identify,
              "seconds": round(time.time() - started, 1)}
    atomic_write_json(args.out, report)
    for section in (clustering, identify):
        for label, values in section.items():
            print(label, {k: round(v, 4) if isinstance(v, float) else v for k, v in values.items()})


if __name__ == "__main__":
    main()
