"""How well an NNS2 student matches its teacher on the faces it trained on and on LFW's View-1 faces: the mean
cosine between the student's projected embedding and the teacher's flip-fused one, on clean crops (no augmentation).

If the two are close and both well under 1, the student underfits (more steps, a longer schedule or more capacity
help more than more faces); if training is much higher than LFW, it overfits (more faces and augmentation help).

    python scripts/student_fit.py RUN_DIR DEV_CACHE.npz SET.npz [SET.npz ...] [--sample 600]

RUN_DIR is a training run (its student.weights.h5 and, for the teacher projection, checkpoint.npz); DEV_CACHE is
scripts/dev_tail.py's crop cache; SETs are aligned training sets (`edgeface train prepare`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def student_cosines(student, projection: np.ndarray, teacher, crops: np.ndarray) -> np.ndarray:
    from edgeface.runtime.embedder import l2_normalize
    from edgeface.training.train import embed_crops, online_targets

    ours = embed_crops(lambda batch: student(batch, training=False).numpy(), crops, batch=128)
    target = online_targets(teacher, crops, mirror_fused=True)  # what --mirror-fused-targets trains toward
    return np.sum(l2_normalize(ours @ projection) * l2_normalize(target), axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("dev_cache", type=Path)
    parser.add_argument("sets", type=Path, nargs="+")
    parser.add_argument("--sample", type=int, default=600, help="crops per set (seeded)")
    args = parser.parse_args()

    from edgeface.embedders import load_embedder
    from edgeface.models.facenet import build_nns2
    from edgeface.training.train import checkpoint_projection

    student = build_nns2()
    student.load_weights(str(args.run / "student.weights.h5"))
    projection = checkpoint_projection(args.run / "checkpoint.npz", student)
    teacher = load_embedder("mobilefacenet")
    rng = np.random.default_rng(0)
    sources = [(path.stem, np.load(path, allow_pickle=False)["images"]) for path in args.sets]
    sources.append(("lfw_view1", np.load(args.dev_cache, allow_pickle=False)["crops"]))
    for name, crops in sources:
        chosen = np.sort(rng.choice(len(crops), min(args.sample, len(crops)), replace=False))
        cos = student_cosines(student, projection, teacher, crops[chosen])
        print(json.dumps({"set": name, "crops": len(chosen), "cosine_mean": round(float(cos.mean()), 4),
                          "cosine_p5": round(float(np.percentile(cos, 5)), 4)}))
    print(json.dumps(teacher_energy(args.sets[0])))


def teacher_energy(aligned_set: Path, dims: tuple[int, ...] = (32, 64, 128), limit: int = 20000) -> dict:
    """Share of the teacher's (unit) embedding energy in its top `dims` principal directions, from the cached
    targets of one set: whether the student's 128-D embedding has room for what the teacher says."""
    from edgeface.training.teachers import teacher_cache_path

    with np.load(teacher_cache_path(aligned_set, "mobilefacenet"), allow_pickle=False) as cache:
        vectors = cache["plain"][:limit].astype(np.float64)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    energy = np.linalg.svd(vectors, compute_uv=False) ** 2
    share = np.cumsum(energy) / energy.sum()
    return {"teacher_set": aligned_set.stem, "teacher_dim": vectors.shape[1],
            **{f"energy_in_top_{d}": round(float(share[d - 1]), 6) for d in dims}}


if __name__ == "__main__":
    main()
