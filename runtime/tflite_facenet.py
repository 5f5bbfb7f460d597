"""The NNS2 FaceNet on TFLite: align (5 points, 112) → area-resize to the model input → embed → L2-normalise."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeface.runtime.align import align_five_points, embedder_input
from edgeface.runtime.embedder import l2_normalize
from edgeface.runtime.manifest import Manifest, ManifestError, load_manifest
from edgeface.runtime.interpreter import TfliteModel


class TfliteFaceNet:
    """A `FaceEmbedder` over the facenet model of a converted models folder."""

    def __init__(self, folder: str | Path, variant: str = "int8", manifest: Manifest | None = None,
                 num_threads: int | None = 1, delegates: list | None = None) -> None:
        folder = Path(folder)
        manifest = manifest or load_manifest(folder)
        entry = manifest.find("facenet", variant)
        if entry is None:
            raise ManifestError(f"{folder}: no {variant} facenet in the manifest")
        self.name = f"nns2-{variant}"
        self.model = TfliteModel(folder, entry, num_threads, delegates)
        self.input_size = entry.input_hw[0]
        self.dim = int(entry.outputs["embedding"].shape[-1])

    def align(self, image: np.ndarray, face) -> np.ndarray:
        return align_five_points(image, face.landmarks)

    def embed(self, crops: np.ndarray) -> np.ndarray:
        if len(crops) == 0:
            return np.zeros((0, self.dim), np.float32)
        inputs = embedder_input(crops, self.input_size)
        vectors = np.concatenate([self.model(inputs[i : i + 1])["embedding"] for i in range(len(inputs))])
        return l2_normalize(vectors)
