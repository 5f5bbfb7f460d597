"""Average NNS2 weight files (the ends of a warm-restart chain; edgeface/training/averaging.py says why).

    python scripts/average_weights.py OUT.weights.h5 A.weights.h5 B.weights.h5 [...] \
        [--bn-sets SET.npz [SET.npz ...] --bn-batches 100 --seed 0]

With --bn-sets the batch-norm statistics are measured again on augmented training crops from those aligned sets
(as training sees them); without, they are averaged like the other variables. Compare the result on View-1 with
`python scripts/dev_tail.py CACHE.npz OUT.weights.h5 --mirror-fusion` before it goes anywhere near shipping.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def crop_batches(sets: list[Path], batches: int, batch_size: int, seed: int, jitter: float):
    """`batches` augmented student-input batches drawn evenly from the aligned sets."""
    from edgeface.training.train import augment

    rng = np.random.default_rng(seed)
    pool = []
    per_set = -(-batches * batch_size // len(sets))
    for path in sets:
        with np.load(path, allow_pickle=False) as data:
            images = data["images"]
            pool.append(images[rng.choice(len(images), min(per_set, len(images)), replace=False)])
    crops = np.concatenate(pool)[rng.permutation(sum(len(p) for p in pool))]
    for start in range(0, min(len(crops), batches * batch_size) - batch_size + 1, batch_size):
        yield augment(crops[start : start + batch_size], rng, jitter)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("weights", type=Path, nargs="+")
    parser.add_argument("--bn-sets", type=Path, nargs="*", default=[])
    parser.add_argument("--bn-batches", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--jitter", type=float, default=0.04)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from edgeface.training.averaging import average_students, recompute_batch_norm

    model = average_students(args.weights)
    if args.bn_sets:
        seen = recompute_batch_norm(model, crop_batches(args.bn_sets, args.bn_batches, args.batch_size,
                                                        args.seed, args.jitter))
        print(f"batch-norm statistics measured on {seen} batches of {args.batch_size}")
    temp = args.out.with_name(f".{args.out.name}.tmp.weights.h5")
    model.save_weights(str(temp))
    temp.replace(args.out)
    print(f"{args.out}: mean of {len(args.weights)} weight files")


if __name__ == "__main__":
    main()
