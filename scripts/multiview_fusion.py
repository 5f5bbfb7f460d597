"""Would fusing more views of a face than its mirror image pay at the door's false-accept rates? On LFW View-1
(development data), float student:

    python scripts/multiview_fusion.py CACHE.npz WEIGHTS.h5

The lock embeds each face and its mirror image and sums the two (mirror fusion, the operating point's). More
views cost one embedder run each on a door's CPU, so they must earn it in the tail. Views here are the aligned
112-pixel crop zoomed 6% in and out and shifted 2 pixels either way along each axis (edges replicated), each also
mirrored: 16 views in all. Prints the tail (TAR at FAR 1e-3 / 1e-4 / 1e-5 over all View-1 pairs) for each view
alone, for the mirror pair plus one kind of extra view, and for all 16.

CACHE.npz keeps the aligned crops (float MTCNN, central face) between calls, as for scripts/dev_tail.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

EXTRA_VIEWS = {"zoom in 6%": (1.06, 0, 0), "zoom out 6%": (0.94, 0, 0), "right 2 px": (1.0, 2, 0),
               "left 2 px": (1.0, -2, 0), "down 2 px": (1.0, 0, 2), "up 2 px": (1.0, 0, -2)}
GROUPS = {"both zooms": ("zoom in 6%", "zoom out 6%"), "both sideways shifts": ("right 2 px", "left 2 px"),
          "both vertical shifts": ("down 2 px", "up 2 px")}


def main(cache: str, weights: str) -> None:
    from edgeface.lfw import locate_lfw
    from edgeface.models.facenet import FloatFaceNet
    from edgeface.runtime.embedder import fuse_mirror, l2_normalize, mirror_images
    from edgeface.training.dev_tail import dev_tail_set, tail_report
    from edgeface.training.train import warp_about_centre

    data = dev_tail_set(locate_lfw(), Path(cache))
    net = FloatFaceNet(weights=Path(weights))

    def mirror_fused(crops: np.ndarray) -> np.ndarray:
        return fuse_mirror(net.embed(crops), net.embed(mirror_images(crops)))

    def show(label: str, vectors: np.ndarray) -> None:
        print(json.dumps({"views": label, **tail_report(vectors, data)}), flush=True)

    def moved(scale: float, dx: float, dy: float) -> np.ndarray:
        return np.stack([warp_about_centre(crop, scale, dx, dy) for crop in data["crops"]])

    mirror_pair = mirror_fused(data["crops"])
    show("plain + mirror (the lock's)", mirror_pair)
    extras = {name: mirror_fused(moved(*move)) for name, move in EXTRA_VIEWS.items()}
    for name, vectors in extras.items():
        show(f"{name} + its mirror", vectors)
    for group, names in GROUPS.items():
        show(f"lock's pair + {group} (each mirrored)", l2_normalize(mirror_pair + sum(extras[n] for n in names)))
    show("all 16 views", l2_normalize(mirror_pair + sum(extras.values())))


if __name__ == "__main__":
    main(*sys.argv[1:])
