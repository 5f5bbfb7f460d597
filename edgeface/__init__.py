"""edgeface: FaceNet + MTCNN from float reference to int8 / Edge TPU, and the door-lock runtime on top."""

__version__ = "0.1.0"

import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter off the console
