"""One-time conversion of the PyPI `mtcnn` 1.0.0 weights (joblib pickles) into edgeface/weights/mtcnn.npz.

Run once by a maintainer with `pip install mtcnn==1.0.0`; the product only ever reads the npz
(np.load(allow_pickle=False)). The pickles are loaded here from the installed, pinned package only.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import io
import sys
from pathlib import Path

import joblib
import numpy as np

try:  # an installed edgeface (editable or not); else this checkout's sources
    import edgeface.runtime  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from edgeface.models.mtcnn import LAYERS  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "edgeface" / "weights" / "mtcnn.npz"


def main() -> None:
    version = importlib.metadata.version("mtcnn")
    if version != "1.0.0":
        raise SystemExit(f"expected mtcnn==1.0.0, found {version}")
    arrays: dict[str, np.ndarray] = {}
    for net, layers in LAYERS.items():
        source = importlib.resources.files("mtcnn.assets.weights") / f"{net}.lz4"
        weights = list(joblib.load(source))
        print(f"{net}: {source} sha256 {hashlib.sha256(source.read_bytes()).hexdigest()}")
        for layer, count in layers:
            for i in range(count):
                arrays[f"{net}/{layer}/{i}"] = np.asarray(weights.pop(0), np.float32)
        assert not weights, f"{net}: {len(weights)} arrays left over"
    buffer = io.BytesIO()
    np.savez(buffer, **dict(sorted(arrays.items())))
    OUT.write_bytes(buffer.getvalue())
    print(f"wrote {OUT} sha256 {hashlib.sha256(buffer.getvalue()).hexdigest()}")


if __name__ == "__main__":
    main()
