"""Fit the map from our MTCNN face box to the box convention MiniFASNet was trained with.

MiniFASNet's crops are the box of the original RetinaFace detector (Caffe, run through OpenCV's dnn at ~192x192)
enlarged 2.7x / 4.0x. Our MTCNN box is tighter and sits higher on the face, so the same "2.7x" would show the
net less context than it was trained on. Two steps, in two environments:

1. With `opencv-python-headless<5` (OpenCV 5 has no Caffe importer) beside a snapshot of
   minivision-ai/Silent-Face-Anti-Spoofing, write the original detector's boxes:
       python scripts/liveness_box_map.py retinaface SILENT_FACE_DIR NUAA_DB boxes.json
2. With edgeface installed, detect the same images with our float MTCNN and fit
   centre offsets (fractions of our box's width/height) and size ratios as medians:
       python scripts/liveness_box_map.py fit boxes.json NUAA_DB reports/liveness_box_map.json

The images are every 5th listed frame of NUAA's *training* split (development data; the test split judges).
The fitted numbers are copied into `edgeface/runtime/liveness.py` (BOX_MAP).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

STEP = 5


def training_images(db: Path) -> list[str]:
    names = []
    for listing, folder in (("client_train_raw.txt", "ClientRaw"), ("imposter_train_raw.txt", "ImposterRaw")):
        lines = [line.strip().replace("\\", "/") for line in (db / listing).read_text().splitlines() if line.strip()]
        names += [f"{folder}/{n}" for n in lines if (db / folder / n).is_file()]
    return names[::STEP]


def retinaface(snapshot: Path, db: Path, out: Path) -> None:
    import os

    import cv2

    sys.path.insert(0, str(snapshot))
    os.chdir(snapshot)
    from src.anti_spoof_predict import Detection

    detector = Detection()
    boxes = {}
    for name in training_images(db):
        left, top, width, height = detector.get_bbox(cv2.imread(str(db / name)))
        boxes[name] = [left, top, width, height]
    out.write_text(json.dumps(boxes))
    print(f"{len(boxes)} boxes → {out}")


def fit(boxes_path: Path, db: Path, out: Path) -> None:
    from edgeface.detector import FloatDetector
    from edgeface.runtime.cascade import detect_one
    from edgeface.runtime.images import read_rgb

    reference = json.loads(boxes_path.read_text())
    detector = FloatDetector()
    rows = []
    for name, (left, top, width, height) in reference.items():
        image = read_rgb(db / name)
        face = detect_one(detector, image)
        if face is None:
            continue
        x1, y1, x2, y2 = face.box
        w, h = x2 - x1, y2 - y1
        rows.append([((left + width / 2) - (x1 + w / 2)) / w, ((top + height / 2) - (y1 + h / 2)) / h,
                     width / w, height / h])
    rows = np.array(rows)
    median = np.median(rows, axis=0)
    spread = np.percentile(rows, [10, 90], axis=0)
    result = {"images": len(reference), "matched": len(rows),
              "centre_dx": median[0], "centre_dy": median[1], "width_ratio": median[2], "height_ratio": median[3],
              "p10": spread[0].tolist(), "p90": spread[1].tolist(),
              "how": "medians over NUAA training-split frames (every 5th listed) of (RetinaFace box - MTCNN box) "
                     "centre offsets in MTCNN box widths/heights, and size ratios; scripts/liveness_box_map.py"}
    out.write_text(json.dumps({k: (round(float(v), 4) if isinstance(v, (float, np.floating)) else v)
                               for k, v in result.items()}, indent=1) + "\n")
    print(json.dumps(result, default=float, indent=1))


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"retinaface": retinaface, "fit": fit}[command](*map(Path, args))
