"""Our float MTCNN against the PyPI `mtcnn` 1.0.0 package on every image named in LFW pairs.txt.

Both run with the same thresholds (0.6, 0.7, 0.7) and min face size 20. For each image we take the face our
pipeline would use (most central) and its best IoU with any face the package reports (boxes clipped to the
image, as the package clips them).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from edgeface import lfw
from edgeface.runtime.cascade import detect_one
from edgeface.runtime.geometry import iou
from edgeface.runtime.images import read_rgb
from edgeface.runtime.errors import MissingDependency


def run_check(lfw_option: Path | str | None, limit: int | None = None, stride: int = 1,
              progress: bool = True) -> dict:
    """The report; LFW is located (--lfw, $EDGEFACE_LFW, ../shared) only after the reference package is found,
    so a user missing both is told first about what `pip` fixes."""
    from tqdm import tqdm

    try:
        from mtcnn import MTCNN
    except ImportError:
        raise MissingDependency("check-mtcnn needs the reference package: pip install mtcnn==1.0.0") from None
    from edgeface.detector import FloatDetector

    root = lfw.locate_lfw(lfw_option)
    names = lfw.pair_images(lfw.parse_pairs(root / "pairs.txt"))[::stride][:limit]
    ours, reference = FloatDetector(), MTCNN()
    ious, ours_ms, ref_ms, not_found, low = [], [], [], [], []
    for name in tqdm(names, desc="mtcnn check", disable=not progress, mininterval=5):
        image = read_rgb(root / lfw.IMAGES_SUBDIR / name)
        start = time.perf_counter()
        face = detect_one(ours, image)
        ours_ms.append(1000 * (time.perf_counter() - start))
        start = time.perf_counter()
        found = reference.detect_faces(image, threshold_pnet=0.6, threshold_rnet=0.7, threshold_onet=0.7)
        ref_ms.append(1000 * (time.perf_counter() - start))
        if face is None:
            not_found.append(name)
            ious.append(0.0)
            continue
        box = np.clip(face.box, 0, [image.shape[1] - 1, image.shape[0] - 1] * 2)
        ref_boxes = [np.array([d["box"][0], d["box"][1], d["box"][0] + d["box"][2], d["box"][1] + d["box"][3]])
                     for d in found]
        best = max((iou(box, b) for b in ref_boxes), default=0.0)
        ious.append(best)
        if best < 0.95:
            low.append([name, round(best, 4)])
    ious_arr = np.array(ious)
    return {
        "images": len(names),
        "found_rate": 1 - len(not_found) / len(names),
        "iou_ge_095_rate": float(np.mean(ious_arr >= 0.95)),
        "mean_iou": float(ious_arr.mean()),
        "median_iou": float(np.median(ious_arr)),
        "ours_ms_median": float(np.median(ours_ms)),
        "reference_ms_median": float(np.median(ref_ms)),
        "not_found": not_found,
        "iou_below_095": low,
    }
