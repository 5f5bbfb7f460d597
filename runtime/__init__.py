"""edgeface.runtime: the on-device side. numpy + OpenCV (+ LiteRT for models) only; never TensorFlow."""
