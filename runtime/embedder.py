"""The embedder contract every face embedder here keeps: align a detected face, embed a batch of crops.

The runtime's TFLite NNS2, the float NNS2, the MobileFaceNet teacher and dlib all implement it, so the door
lock, the evaluation and the training tools take any of them. Crops are RGB uint8 of the embedder's own
alignment: `ALIGN_SIZE` (runtime/align.py) for the 5-point template, dlib's 150-pixel chip for dlib.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from edgeface.runtime.cascade import Face


class FaceEmbedder(Protocol):
    name: str
    dim: int

    def align(self, image: np.ndarray, face: Face) -> np.ndarray:
        """The crop this embedder reads, cut from `image` at `face`'s landmarks."""
        ...

    def embed(self, crops: np.ndarray) -> np.ndarray:
        """(N, S, S, 3) RGB uint8 aligned crops → (N, dim) L2-normalised float32."""
        ...


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def mirror_images(crops: np.ndarray) -> np.ndarray:
    """(N, S, S, 3) crops flipped left to right (contiguous, as interpreters want their inputs)."""
    return np.ascontiguousarray(crops[:, :, ::-1])


def fuse_mirror(plain: np.ndarray, mirrored: np.ndarray) -> np.ndarray:
    """Mirror fusion: the unit sum of a face's embedding and its mirror image's (rows paired)."""
    return l2_normalize(plain + mirrored)
