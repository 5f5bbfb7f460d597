"""The tail on development data for given NNS2 weights (see edgeface/training/dev_tail.py): all-vs-all TAR at
FAR 1e-3 / 1e-4 / 1e-5 among LFW's View-1 images, float student, no flip. Training logs the same numbers with
`edgeface train run --dev-tail`.

    python scripts/dev_tail.py CACHE.npz WEIGHTS.h5 [WEIGHTS.h5 ...]

CACHE.npz keeps the aligned crops (float MTCNN, central face) between calls; keep it outside the repo.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(cache: str, *weights: str) -> None:
    from edgeface.lfw import locate_lfw
    from edgeface.models.facenet import FloatFaceNet
    from edgeface.training.dev_tail import dev_tail_set, tail_report

    data = dev_tail_set(locate_lfw(), Path(cache))
    for path in weights:
        print(json.dumps({"weights": path, **tail_report(FloatFaceNet(weights=Path(path)).embed(data["crops"]), data)}))


if __name__ == "__main__":
    main(*sys.argv[1:])
