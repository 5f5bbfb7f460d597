"""Write a synthetic door-camera video for the lock's soak run: LFW faces pasted into 640x480 frames.

Usage: python scripts/make_soak_video.py OUT.avi [--frames 10000] [--lfw DIR] [--seed 1]
Per frame: no face (20%), one face (60%) or two faces (20%), drawn from all LFW people. MJPG in an AVI so
OpenCV can read it back anywhere. Then e.g.
  edgeface lock run --video OUT.avi --models models --report reports/soak.json --audit soak_audit.jsonl
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

try:  # an installed edgeface (editable or not); else this checkout's sources
    import edgeface.runtime  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from edgeface import lfw  # noqa: E402
from edgeface.runtime.images import read_rgb  # noqa: E402
from edgeface.synthetic import door_frame  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--lfw", default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fps", type=float, default=10.0)
    args = parser.parse_args()
    root = lfw.locate_lfw(args.lfw)
    files = sorted((root / lfw.IMAGES_SUBDIR).glob("*/*.jpg"))
    rng = np.random.default_rng(args.seed)
    temp = args.out.with_name(f".{args.out.stem}.partial.avi")
    writer = cv2.VideoWriter(str(temp), cv2.VideoWriter_fourcc(*"MJPG"), args.fps, (640, 480))
    if not writer.isOpened():
        sys.exit(f"error: cannot write {temp}")
    counts = [0, 0, 0]
    for _ in range(args.frames):
        faces = int(rng.choice(3, p=[0.2, 0.6, 0.2]))
        counts[faces] += 1
        images = [read_rgb(files[int(i)]) for i in rng.integers(0, len(files), faces)]
        writer.write(np.ascontiguousarray(door_frame(images, rng)[:, :, ::-1]))
    writer.release()
    temp.replace(args.out)
    print(f"wrote {args.out}: {args.frames} frames (no face {counts[0]}, one {counts[1]}, two {counts[2]})")


if __name__ == "__main__":
    main()
