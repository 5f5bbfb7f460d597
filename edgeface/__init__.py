"""edgeface: FaceNet + MTCNN from float reference to int8 / Edge TPU, and the door-lock runtime on top."""

__version__ = "0.1.0"
