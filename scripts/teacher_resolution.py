"""Is the NNS2's 96-pixel input what keeps it from its teacher's tail? The teacher (MobileFaceNet, 112x112) on
LFW's View-1 crops as they are, and after each crop has been area-resized down to S pixels and linearly back up
to 112, i.e. with no more detail than an S-pixel input holds. Prints the View-1 all-vs-all tail for each S.

If the teacher keeps its tail at 96 px, the student's input size is not the limit; what the student learned is.

    python scripts/teacher_resolution.py DEV_CACHE.npz [--sizes 112 96 80 64]

DEV_CACHE is scripts/dev_tail.py's crop cache (View-1 images, float MTCNN, 112x112 crops).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def through_size(crops: np.ndarray, size: int) -> np.ndarray:
    """Crops with only the detail an `size`-pixel image keeps (area down, linear back up to the crops' size)."""
    import cv2

    full = crops.shape[1]
    if size == full:
        return crops
    return np.stack([cv2.resize(cv2.resize(c, (size, size), interpolation=cv2.INTER_AREA), (full, full),
                                interpolation=cv2.INTER_LINEAR) for c in crops])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dev_cache", type=Path)
    parser.add_argument("--sizes", type=int, nargs="+", default=[112, 96, 80, 64])
    args = parser.parse_args()

    from edgeface.embedders import load_embedder
    from edgeface.lfw import locate_lfw
    from edgeface.training.dev_tail import dev_tail_set, tail_report

    data = dev_tail_set(locate_lfw(), args.dev_cache)
    teacher = load_embedder("mobilefacenet")
    for size in args.sizes:
        print(json.dumps({"teacher": "mobilefacenet", "detail_of_pixels": size,
                          **tail_report(teacher.embed(through_size(data["crops"], size)), data)}), flush=True)


if __name__ == "__main__":
    main()
