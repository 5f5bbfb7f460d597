"""The tail on development data, for choosing NNS2 weights: all-vs-all TAR at FAR 1e-3 / 1e-4 / 1e-5 among the
images of LFW's View-1 pair files (pairsDevTrain.txt + pairsDevTest.txt), float student, each face alone and
mirror-fused (what the lock compares).

View 1 is LFW's development view; the 6,000 View-2 pairs and the all-vs-all over every image are reported,
never used to choose. The 1,000 dev pairs' accuracy cannot see a door's false-accept rates: these ~5,000
images give ~3,200 genuine and ~12 million impostor pairs. (They are a subset of LFW, so this is dev data in
LFW's own protocol, not an independent set: a candidate that wins here by a hair has not won.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

TAIL_FARS = (1e-3, 1e-4, 1e-5)


def dev_images(root: Path) -> list[str]:
    from edgeface import lfw

    return sorted({name for listing in ("pairsDevTrain.txt", "pairsDevTest.txt")
                   for name in lfw.pair_images(lfw.parse_pairs(root / listing))})


def dev_tail_set(root: Path, cache: Path) -> dict[str, np.ndarray]:
    """Aligned crops (float MTCNN, central face) of every View-1 image, with person names; cached in `cache`."""
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    from edgeface.calibration.lfw_sets import central_crops
    from edgeface.detector import FloatDetector
    from edgeface.runtime.fileio import atomic_save_npz

    names = dev_images(root)
    crops, found = central_crops(root, names, FloatDetector())
    people = np.array([name.split("/")[0] for name in names])
    result = {"crops": crops[found], "people": people[found], "faceless": people[~found]}
    atomic_save_npz(cache, **result)
    return result


def tail_report(vectors: np.ndarray, data: dict[str, np.ndarray]) -> dict:
    """TAR at each of TAIL_FARS over every pair of the dev images, from unit `vectors` of `data["crops"]`."""
    from edgeface.allpairs import all_pairs
    from edgeface.runtime.embedder import l2_normalize

    names = sorted(set(data["people"]) | set(data["faceless"]))
    index = {n: i for i, n in enumerate(names)}
    labels = np.array([index[p] for p in data["people"]])
    faceless = np.array([index[p] for p in data["faceless"]], np.int64)
    report = all_pairs(l2_normalize(vectors), labels, faceless).report(TAIL_FARS)
    return {"images": report["images"], "genuine_pairs": report["genuine_pairs"],
            "impostor_pairs": report["impostor_pairs"],
            **{f"tar@{far}": round(row["tar"], 4) for far, row in report["at_far"].items()}}


def single_and_mirror_fused(embed, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`embed`'s vectors of aligned crops, alone and mirror-fused: a mirror-fusing lock compares the second."""
    from edgeface.runtime.embedder import fuse_mirror, mirror_images

    single = embed(crops)
    return single, fuse_mirror(single, embed(mirror_images(crops)))
