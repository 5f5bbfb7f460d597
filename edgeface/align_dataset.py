"""`edgeface align`: facenet's align_dataset_mtcnn on our MTCNN, resumable and atomic.

Each output is written to a temporary file and renamed, so an output that exists is complete; a re-run skips
it. Images with no face (or unreadable ones) are listed in OUTPUT_DIR/failed.txt with the reason.
"""

from __future__ import annotations

from pathlib import Path

import cv2

from edgeface.detector import AlignConfig, FloatDetector
from edgeface.runtime.fileio import atomic_write_bytes, atomic_write_text
from edgeface.runtime.cascade import CascadeConfig, detect_one
from edgeface.runtime.images import ImageError, read_rgb
from edgeface.runtime.frames import IMAGE_SUFFIXES, image_files
from edgeface.runtime.errors import UsageError


def encode_png(image_rgb) -> bytes:
    ok, data = cv2.imencode(".png", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ImageError("could not encode PNG")
    return data.tobytes()


def align_folder(input_dir: Path, output_dir: Path, config: AlignConfig, min_face_size: float = 20.0,
                 progress: bool = True) -> dict[str, int]:
    from tqdm import tqdm

    if not input_dir.is_dir():
        raise FileNotFoundError(f"{input_dir}: input folder not found")
    files = image_files(input_dir)
    if not files:
        raise UsageError(f"{input_dir}: no images found ({', '.join(sorted(IMAGE_SUFFIXES))})")
    detector = None
    counts = {"images": len(files), "aligned": 0, "skipped_existing": 0, "failed": 0}
    failures: list[str] = []
    for path in tqdm(files, desc="align", disable=not progress, mininterval=2):
        target = output_dir / path.relative_to(input_dir).with_suffix(".png")
        if target.is_file():
            counts["skipped_existing"] += 1
            continue
        detector = detector or FloatDetector(CascadeConfig(min_face_size=min_face_size))
        try:
            image = read_rgb(path)
            face = detect_one(detector, image, config.face_policy)
            if face is None:
                raise ImageError(f"{path}: no face found")
            atomic_write_bytes(target, encode_png(config.apply(image, face)))
            counts["aligned"] += 1
        except ImageError as error:
            failures.append(f"{path.relative_to(input_dir)}\t{error}")
            counts["failed"] += 1
    output_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(output_dir / "failed.txt", "".join(f"{line}\n" for line in failures))
    return counts
