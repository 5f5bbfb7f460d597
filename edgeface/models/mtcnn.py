"""MTCNN P-Net, R-Net and O-Net in Keras, with the original published weights.

The layer stack mirrors the Caffe release of Zhang et al. (2016), as converted by the PyPI `mtcnn` package
(MIT); `scripts/convert_mtcnn_weights.py` turned its pickled weights into `weights/mtcnn.npz`, which loads
without unpickling. The cascade logic itself lives in `edgeface.runtime.cascade`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeface.weights import checked_path

# Layer names and how many weight arrays each holds, in the order the npz stores them.
LAYERS: dict[str, list[tuple[str, int]]] = {
    "pnet": [("conv1", 2), ("prelu1", 1), ("conv2", 2), ("prelu2", 1), ("conv3", 2), ("prelu3", 1),
             ("conv4-1", 2), ("conv4-2", 2)],
    "rnet": [("conv1", 2), ("prelu1", 1), ("conv2", 2), ("prelu2", 1), ("conv3", 2), ("prelu3", 1),
             ("fc4", 2), ("prelu4", 1), ("fc5-1", 2), ("fc5-2", 2)],
    "onet": [("conv1", 2), ("prelu1", 1), ("conv2", 2), ("prelu2", 1), ("conv3", 2), ("prelu3", 1),
             ("conv4", 2), ("prelu4", 1), ("fc5", 2), ("prelu5", 1), ("fc6-1", 2), ("fc6-2", 2), ("fc6-3", 2)],
}
INPUT_SIZES = {"pnet": None, "rnet": 24, "onet": 48}


def _conv_prelu(x, filters: int, kernel: int, index: int):
    from tensorflow import keras

    x = keras.layers.Conv2D(filters, kernel, padding="valid", name=f"conv{index}")(x)
    return keras.layers.PReLU(shared_axes=[1, 2], name=f"prelu{index}")(x)


def _face_head(logits: bool) -> str | None:
    """The face/non-face head's activation. Exports leave it out (`logits=True`) and the runtime takes the softmax
    in float: an int8 softmax output has steps of 1/256 and saturates at 255/256, so every confident candidate
    would tie at 0.996 and NMS, which keeps the best-scored box, would pick among them by index instead."""
    return None if logits else "softmax"


def build_pnet(height: int | None = None, width: int | None = None, logits: bool = False):
    """P-Net; leave the size None for the fully convolutional float model, fix it for a static TFLite export."""
    from tensorflow import keras

    image = keras.Input((height, width, 3), name="image")
    x = _conv_prelu(image, 10, 3, 1)
    x = keras.layers.MaxPooling2D(2, 2, padding="same", name="pool1")(x)
    x = _conv_prelu(x, 16, 3, 2)
    x = _conv_prelu(x, 32, 3, 3)
    offsets = keras.layers.Conv2D(4, 1, name="conv4-1")(x)
    prob = keras.layers.Conv2D(2, 1, activation=_face_head(logits), name="conv4-2")(x)
    return keras.Model(image, [prob, offsets], name="pnet")


def build_rnet(logits: bool = False):
    from tensorflow import keras

    image = keras.Input((24, 24, 3), name="image")
    x = _conv_prelu(image, 28, 3, 1)
    x = keras.layers.MaxPooling2D(3, 2, padding="same", name="pool1")(x)
    x = _conv_prelu(x, 48, 3, 2)
    x = keras.layers.MaxPooling2D(3, 2, padding="valid", name="pool2")(x)
    x = _conv_prelu(x, 64, 2, 3)
    x = keras.layers.Flatten(name="flatten")(x)  # Caffe's (W, H, C) order is folded into fc4's rows
    x = keras.layers.Dense(128, name="fc4")(x)
    x = keras.layers.PReLU(name="prelu4")(x)
    offsets = keras.layers.Dense(4, name="fc5-1")(x)
    prob = keras.layers.Dense(2, activation=_face_head(logits), name="fc5-2")(x)
    return keras.Model(image, [prob, offsets], name="rnet")


def build_onet(logits: bool = False):
    from tensorflow import keras

    image = keras.Input((48, 48, 3), name="image")
    x = _conv_prelu(image, 32, 3, 1)
    x = keras.layers.MaxPooling2D(3, 2, padding="same", name="pool1")(x)
    x = _conv_prelu(x, 64, 3, 2)
    x = keras.layers.MaxPooling2D(3, 2, padding="valid", name="pool2")(x)
    x = _conv_prelu(x, 64, 3, 3)
    x = keras.layers.MaxPooling2D(2, 2, padding="same", name="pool3")(x)
    x = _conv_prelu(x, 128, 2, 4)
    x = keras.layers.Flatten(name="flatten")(x)  # Caffe's (W, H, C) order is folded into fc5's rows
    x = keras.layers.Dense(256, name="fc5")(x)
    x = keras.layers.PReLU(name="prelu5")(x)
    offsets = keras.layers.Dense(4, name="fc6-1")(x)
    landmarks = keras.layers.Dense(10, name="fc6-2")(x)
    prob = keras.layers.Dense(2, activation=_face_head(logits), name="fc6-3")(x)
    return keras.Model(image, [prob, offsets, landmarks], name="onet")


def load_weight_arrays(path: Path | None = None) -> dict[str, np.ndarray]:
    """All MTCNN weight arrays by key `net/layer/index`, read from the shipped npz (no pickle)."""
    with np.load(path or checked_path("mtcnn.npz"), allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


# The first dense layer after the last convolution; its input was flattened in Caffe's (W, H, C) order.
FLATTEN_DENSE = {"rnet": "fc4", "onet": "fc5"}


def caffe_rows_to_hwc(kernel: np.ndarray, height: int, width: int, channels: int) -> np.ndarray:
    """Reorder a dense kernel whose rows follow a (W, H, C) flatten so it takes Keras' (H, W, C) flatten.

    The published nets were trained on Caffe's layout; folding the transpose into the weights keeps the
    exported graph free of TRANSPOSE ops, which the Edge TPU does not run.
    """
    h, w, c = np.meshgrid(np.arange(height), np.arange(width), np.arange(channels), indexing="ij")
    caffe_index = (w * height + h) * channels + c
    return kernel[caffe_index.reshape(-1)]


def set_weights(model, net: str, arrays: dict[str, np.ndarray]) -> None:
    for layer_name, count in LAYERS[net]:
        values = [arrays[f"{net}/{layer_name}/{i}"] for i in range(count)]
        if layer_name == FLATTEN_DENSE.get(net):
            height, width, channels = model.get_layer("flatten").input.shape[1:]
            values[0] = caffe_rows_to_hwc(values[0], height, width, channels)
        model.get_layer(layer_name).set_weights(values)


def build_export_net(net: str, arrays: dict[str, np.ndarray], height: int | None = None,
                     width: int | None = None):
    """One net with its weights as the converter exports it: face logits out (see `_face_head`)."""
    if net == "pnet":
        model = build_pnet(height, width, logits=True)
    else:
        model = {"rnet": build_rnet, "onet": build_onet}[net](logits=True)
    set_weights(model, net, arrays)
    return model


def build_all(arrays: dict[str, np.ndarray] | None = None) -> dict:
    """Float P-Net (dynamic size), R-Net and O-Net with weights loaded."""
    arrays = arrays or load_weight_arrays()
    models = {"pnet": build_pnet(), "rnet": build_rnet(), "onet": build_onet()}
    for net, model in models.items():
        set_weights(model, net, arrays)
    return models


class KerasMtcnnNets:
    """The float reference networks behind the `edgeface.runtime.cascade.MtcnnNets` interface."""

    def __init__(self, arrays: dict[str, np.ndarray] | None = None) -> None:
        import tensorflow as tf

        models = build_all(arrays)
        self.models = models
        # One traced graph per net; P-Net's unknown spatial size avoids a retrace for every pyramid level.
        self._pnet = tf.function(models["pnet"], reduce_retracing=True,
                                 input_signature=[tf.TensorSpec((1, None, None, 3), tf.float32)])
        self._rnet = tf.function(models["rnet"], input_signature=[tf.TensorSpec((None, 24, 24, 3), tf.float32)])
        self._onet = tf.function(models["onet"], input_signature=[tf.TensorSpec((None, 48, 48, 3), tf.float32)])

    def pnet(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        prob, offsets = self._pnet(image[None].astype(np.float32))
        return prob.numpy()[0, :, :, 1], offsets.numpy()[0]

    def rnet(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        prob, offsets = self._rnet(crops.astype(np.float32))
        return prob.numpy()[:, 1], offsets.numpy()

    def onet(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        prob, offsets, landmarks = self._onet(crops.astype(np.float32))
        return prob.numpy()[:, 1], offsets.numpy(), landmarks.numpy()
