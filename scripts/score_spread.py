"""Where the student's tail loses to its teacher's, on LFW View-1 (development data): genuine or impostor side.

    python scripts/score_spread.py CACHE.npz WEIGHTS.h5 [--far 1e-4]

Both networks embed every View-1 crop with its mirror image (the lock's mode). For each, over all pairs: the
mean and spread of genuine and impostor cosines, the threshold at the FAR, and how far (in standard deviations)
that threshold sits above the impostor mean and below the genuine mean; then how many genuine pairs each one
refuses at its own threshold. TAR at a tiny FAR can fall because impostors spread wider (the threshold moves up)
or because genuine pairs sit lower; the two call for different training.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def pair_scores(vectors: np.ndarray, people: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cosines, same-person mask) over every unordered pair of unit `vectors`."""
    upper = np.triu_indices(len(people), 1)
    return (vectors @ vectors.T)[upper], people[upper[0]] == people[upper[1]]


def spread(scores: np.ndarray, same: np.ndarray, threshold: float) -> dict:
    """Means and spreads of both sides, and where `threshold` (a cosine) sits between them."""
    impostor, genuine = scores[~same], scores[same]
    return {"genuine_mean": float(genuine.mean()), "genuine_sd": float(genuine.std()),
            "impostor_mean": float(impostor.mean()), "impostor_sd": float(impostor.std()), "threshold": threshold,
            "threshold_above_impostors_sd": float((threshold - impostor.mean()) / impostor.std()),
            "genuine_above_threshold_sd": float((genuine.mean() - threshold) / genuine.std()),
            "tar": float((genuine > threshold).mean())}


def cosine_at_far(vectors: np.ndarray, people: np.ndarray, far: float) -> float:
    """The operating point at `far` as `edgeface.allpairs` sets it (a distance), as a cosine."""
    from edgeface.allpairs import all_pairs

    _, labels = np.unique(people, return_inverse=True)
    distance = all_pairs(vectors, labels).threshold_at_far(far)
    return 1.0 - distance * distance / 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cache", type=Path)
    parser.add_argument("weights", type=Path)
    parser.add_argument("--far", type=float, default=1e-4)
    args = parser.parse_args()
    from edgeface.lfw import locate_lfw
    from edgeface.models.facenet import FloatFaceNet
    from edgeface.runtime.embedder import fuse_mirror, l2_normalize, mirror_images
    from edgeface.training.dev_tail import dev_tail_set
    from edgeface.training.teachers import teacher_on_every_core

    data = dev_tail_set(locate_lfw(), args.cache)
    crops, people = data["crops"], data["people"]
    rows, accepted = {}, {}
    for name, net in (("student", FloatFaceNet(weights=args.weights)), ("teacher", teacher_on_every_core())):
        vectors = l2_normalize(fuse_mirror(net.embed(crops), net.embed(mirror_images(crops))))
        scores, same = pair_scores(vectors, people)
        rows[name] = spread(scores, same, cosine_at_far(vectors, people, args.far))
        accepted[name] = scores[same] > rows[name]["threshold"]
    print(f"{len(people)} images, {int(same.sum())} genuine and {int((~same).sum())} impostor pairs, FAR {args.far:g}")
    for name, row in rows.items():
        print(f"{name:8s} genuine {row['genuine_mean']:.3f} ± {row['genuine_sd']:.3f}, impostor "
              f"{row['impostor_mean']:.3f} ± {row['impostor_sd']:.3f}, threshold {row['threshold']:.3f} "
              f"({row['threshold_above_impostors_sd']:.2f} sd above impostors, genuine mean "
              f"{row['genuine_above_threshold_sd']:.2f} sd above it), TAR {row['tar']:.2%}")
    s, t = accepted["student"], accepted["teacher"]
    print(f"genuine pairs refused by both {int((~s & ~t).sum())}, by the student only {int((~s & t).sum())}, "
          f"by the teacher only {int((s & ~t).sum())}")


if __name__ == "__main__":
    main()
