"""What `train prepare --min-face-size` buys and changes, on a sample of each face set, in one process.

    python scripts/prepare_min_face_probe.py NAME=IMAGES_DIR... [--images 60] [--sizes 20 40 60]

For each set: milliseconds per image at each smallest face (the first size is the reference), faces the larger
sizes lose, and how far their 112x112 crops are from the reference's (mean absolute difference in grey levels;
0 would be identical). The pyramid's top levels dominate the cost, and the face sets' faces are large, so a
larger smallest face is faster; its candidates come from other scales, so the landmarks (and crops) move a little.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", help="NAME=IMAGES_DIR")
    parser.add_argument("--images", type=int, default=60, help="images per set, evenly spaced in file order")
    parser.add_argument("--sizes", type=float, nargs="+", default=[20.0, 40.0, 60.0])
    args = parser.parse_args()

    from edgeface.detector import FloatDetector
    from edgeface.runtime.cascade import CascadeConfig
    from edgeface.runtime.frames import image_files
    from edgeface.runtime.images import read_rgb
    from edgeface.training.prepare import PrepareConfig, align_for_training

    detectors = {size: FloatDetector(CascadeConfig(min_face_size=size)) for size in args.sizes}
    for spec in args.sets:
        name, folder = spec.split("=", 1)
        files = image_files(Path(folder))
        images = [read_rgb(path) for path in files[:: max(1, len(files) // args.images)][: args.images]]
        reference = None
        for size, detector in detectors.items():
            config = PrepareConfig(min_face_size=size)
            align_for_training(images[0], detector, config)  # the first call builds the graphs
            start = time.perf_counter()
            crops = [align_for_training(image, detector, config) for image in images]
            ms = 1000 * (time.perf_counter() - start) / len(images)
            reference = reference or crops
            both = [(a, b) for a, b in zip(reference, crops) if a is not None and b is not None]
            lost = sum(a is not None and b is None for a, b in zip(reference, crops))
            diff = [float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean()) for a, b in both]
            print(f"{name}: min face {size:g} px: {ms:.0f} ms/image, {lost} of {len(images)} faces lost, crops differ "
                  f"by {np.mean(diff):.2f} grey levels on average (worst {np.max(diff):.2f})", flush=True)


if __name__ == "__main__":
    main()
