"""The pipelines a door-lock builder would otherwise run, timed on the same frame as ours by `edgeface bench`.

- `pypi-mtcnn+mobilefacenet`: the PyPI `mtcnn` package (ipazc, TensorFlow; what the seeds and most tutorials
  use) for detection and landmarks, then our 5-point alignment and the MobileFaceNet teacher (fp32 TFLite).
- `dlib-hog+resnet`: what `face_recognition` users run on a Pi: dlib's HOG detector, its 5-point shape
  predictor and 150x150 chip, and its ResNet embedder.

Each is one callable frame → embedding of the central face (None when it finds no face), so the bench times all
of detect → align → embed.
A peer whose packages are not installed is reported as missing, with the reason, not skipped silently.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgeface.runtime.cascade import Face, pick_face

Peer = Callable[[np.ndarray], "np.ndarray | None"]


def pypi_mtcnn_mobilefacenet() -> Peer:
    from mtcnn import MTCNN

    from edgeface.embedders import MobileFaceNet

    detector, embedder = MTCNN(), MobileFaceNet(num_threads=1)

    def run(frame: np.ndarray) -> np.ndarray:
        found = detector.detect_faces(frame, threshold_pnet=0.6, threshold_rnet=0.7, threshold_onet=0.7)
        faces = [Face(box=np.array([d["box"][0], d["box"][1], d["box"][0] + d["box"][2], d["box"][1] + d["box"][3]],
                                   np.float32), score=float(d["confidence"]),
                      landmarks=np.array([d["keypoints"][k] for k in ("left_eye", "right_eye", "nose", "mouth_left",
                                                                       "mouth_right")], np.float32))
                 for d in found]
        face = pick_face(faces, frame.shape)
        if face is None:
            return None
        return embedder.embed(embedder.align(frame, face)[None])[0]

    return run


def dlib_hog_resnet() -> Peer:
    import dlib

    from edgeface.embedders import DlibResNet

    detector, embedder = dlib.get_frontal_face_detector(), DlibResNet()

    def run(frame: np.ndarray) -> np.ndarray:
        rectangles = detector(frame, 1)  # one upsampling: face_recognition's default
        faces = [Face(box=np.array([r.left(), r.top(), r.right(), r.bottom()], np.float32), score=1.0,
                      landmarks=np.zeros((5, 2), np.float32)) for r in rectangles]
        face = pick_face(faces, frame.shape)
        if face is None:
            return None
        return embedder.embed(embedder.align(frame, face)[None])[0]

    return run


PEERS: dict[str, Callable[[], Peer]] = {"pypi-mtcnn+mobilefacenet": pypi_mtcnn_mobilefacenet,
                                         "dlib-hog+resnet": dlib_hog_resnet}


def peer_frames_per_s(peer: Peer, frames: list[np.ndarray]) -> float:
    """Frames per second of a peer over `frames` (with or without faces), after one warm-up frame."""
    import time

    peer(frames[0])
    start = time.perf_counter()
    for frame in frames:
        peer(frame)
    return len(frames) / (time.perf_counter() - start)


def available_peers() -> tuple[dict[str, Peer], dict[str, str]]:
    """(name → pipeline) for the peers whose packages import here, and (name → why not) for the rest."""
    ready, missing = {}, {}
    for name, make in PEERS.items():
        try:
            ready[name] = make()
        except ImportError as error:
            missing[name] = f"not installed ({error.name}); pip install '.[toolchain,dev]'"
    return ready, missing
