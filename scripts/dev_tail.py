"""The tail on development data for given NNS2 weights (see edgeface/training/dev_tail.py): all-vs-all TAR at
FAR 1e-3 / 1e-4 / 1e-5 among LFW's View-1 images, float student, no flip. Training logs the same numbers with
`edgeface train run --dev-tail`.

    python scripts/dev_tail.py CACHE.npz WEIGHTS.h5 [WEIGHTS.h5 ...] [--mirror-fusion]

--mirror-fusion also reports each face embedded with its mirror image (the operating point's mirror fusion).

CACHE.npz keeps the aligned crops (float MTCNN, central face) between calls; keep it outside the repo.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(cache: str, *weights: str, mirror_fusion: bool = False) -> None:
    from edgeface.lfw import locate_lfw
    from edgeface.models.facenet import FloatFaceNet
    from edgeface.training.dev_tail import dev_tail_set, single_and_mirror_fused, tail_report

    data = dev_tail_set(locate_lfw(), Path(cache))
    for path in weights:
        net = FloatFaceNet(weights=Path(path))
        if not mirror_fusion:
            print(json.dumps({"weights": path, **tail_report(net.embed(data["crops"]), data)}), flush=True)
            continue
        single, fused = single_and_mirror_fused(net.embed, data["crops"])
        print(json.dumps({"weights": path, **tail_report(single, data)}), flush=True)
        print(json.dumps({"weights": path, "mirror_fusion": True, **tail_report(fused, data)}), flush=True)


if __name__ == "__main__":
    main(*[a for a in sys.argv[1:] if a != "--mirror-fusion"], mirror_fusion="--mirror-fusion" in sys.argv[1:])
