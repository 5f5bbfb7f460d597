"""Probe: does cohort score normalisation, or whitening, help the NNS2's tail? (Neither did; docs/TRAINING.md.)

    python scripts/cohort_norm_probe.py DEV_CACHE.npz COHORT_SET.npz WEIGHTS.h5 [--cohort N]

Symmetric S-norm and its adaptive form (Z-normalise a pair's cosine by the mean and spread of each face's
similarities to a cohort of other faces, or to its K most similar cohort faces) are the standard way to
penalise "hub" faces that resemble many people: the faces that a door's false accepts come from. This scores
every pair of LFW's View-1 images (DEV_CACHE.npz, as `scripts/dev_tail.py` builds it) with plain cosine, with
S-norm and with the mean shift alone, for cohorts of N crops drawn from an aligned training set
(`edgeface train prepare` output: no LFW face), and prints TAR at FAR 1e-3 / 1e-4 / 1e-5 for each. TAR here is
exact on scores (no distance bins), so the cosine row can differ from `dev_tail.py`'s by a pair or two.

It also tries the linear fixes that could be folded into the student's last layer: centring on the cohort's
mean embedding, and PCA whitening fitted on the cohort (eigenvalues to the power -a/2, a = 0.25, 0.5, 1).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

FARS = (1e-3, 1e-4, 1e-5)


def tar_at_fars(scores: np.ndarray, same: np.ndarray, genuine_total: int) -> dict[str, float]:
    """TAR (%) at each FAR over the upper triangle of a pair-score matrix (higher: more alike); genuine pairs
    that are not in the matrix (an image without a face) count as rejected."""
    upper = np.triu(np.ones(scores.shape, bool), 1)
    impostor = -np.sort(-scores[upper & ~same])
    genuine = scores[upper & same]
    return {f"{far:g}": round(100 * float(np.sum(genuine > impostor[int(far * len(impostor))])) / genuine_total, 2)
            for far in FARS}


def cohort_statistics(vectors: np.ndarray, cohort: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray]:
    similarities = vectors @ cohort.T
    if top:
        similarities = -np.sort(-similarities, axis=1)[:, :top]
    return similarities.mean(axis=1), similarities.std(axis=1) + 1e-6


def main(dev_cache: str, cohort_set: str, weights: str, cohort_size: int = 2000) -> None:
    from edgeface.models.facenet import FloatFaceNet
    from edgeface.runtime.embedder import l2_normalize

    dev = dict(np.load(dev_cache, allow_pickle=False))
    with np.load(cohort_set, allow_pickle=False) as data:
        images = data["images"]
        cohort_crops = images[np.sort(np.random.default_rng(0).choice(len(images), cohort_size, replace=False))]
    net = FloatFaceNet(weights=Path(weights))
    vectors, cohort = l2_normalize(net.embed(dev["crops"])), l2_normalize(net.embed(cohort_crops))
    _, labels = np.unique(dev["people"], return_inverse=True)
    _, per_person = np.unique(np.concatenate([dev["people"], dev["faceless"]]), return_counts=True)
    genuine_total = int(np.sum(per_person * (per_person - 1) // 2))
    same = labels[:, None] == labels[None, :]
    cosine = vectors @ vectors.T
    print(json.dumps({"score": "cosine", **tar_at_fars(cosine, same, genuine_total)}), flush=True)
    for top in (0, 50, 200, 500):
        mean, spread = cohort_statistics(vectors, cohort, top)
        s_norm = 0.5 * ((cosine - mean[:, None]) / spread[:, None] + (cosine - mean[None, :]) / spread[None, :])
        shifted = cosine - 0.5 * (mean[:, None] + mean[None, :])
        for name, scores in (("s-norm", s_norm), ("mean shift", shifted)):
            print(json.dumps({"score": name, "cohort": cohort_size, "top": top or "all",
                              **tar_at_fars(scores, same, genuine_total)}), flush=True)
    mean = cohort.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov((cohort - mean).T))
    for power in (0, 0.25, 0.5, 1.0):  # 0: centring alone
        whitened = l2_normalize((vectors - mean) @ eigenvectors @ np.diag((eigenvalues + 1e-3) ** (-power / 2)))
        print(json.dumps({"score": "cosine after centring" + (f" and whitening a={power}" if power else ""),
                          "cohort": cohort_size, **tar_at_fars(whitened @ whitened.T, same, genuine_total)}),
              flush=True)


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if not a.startswith("--cohort")]
    size = next((int(a.split("=", 1)[1]) for a in sys.argv[1:] if a.startswith("--cohort=")), 2000)
    if len(arguments) != 3:
        sys.exit(__doc__)
    main(*arguments, cohort_size=size)
