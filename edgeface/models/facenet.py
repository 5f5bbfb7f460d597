"""NNS2-sized FaceNet: an Inception-style embedding network of about 4.3M parameters, 128-D, L2-normalised.

FaceNet's NNS2 is "a small Inception model for mobile"; its exact layers were never published, so this is our
own net of that class, chosen to quantize cleanly and to map fully onto a Coral Edge TPU: only Conv2D,
DepthwiseConv2D, batch norm (folded into the convolutions at export), ReLU6, max pooling, concatenation and
addition, then a global depthwise convolution head (keeps spatial information that average pooling throws
away, as in MobileFaceNet) and a 128-D linear embedding followed by L2 normalisation.
Input: 96x96 RGB: the face aligned with the 5-point template at 112x112 (the teachers' crop, so training can
use their targets), area-resized to 96x96, scaled (x - 127.5) / 128.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

INPUT_SIZE = 96  # faces are aligned at 112x112 (the teachers' crop) and area-resized to 96
PREPROCESSING = "RGB, 5-point similarity alignment to the 112x112 template, area-resize to 96x96, (x - 127.5) / 128"
EMBEDDING_DIM = 128


class _Blocks:
    """The network's building blocks over one Keras implementation: Keras 3 (what training and the float
    reference use) or tf_keras (Keras 2, what tensorflow-model-optimization's quantization-aware training needs).
    Layer names are the same in both, so weights move between them by name."""

    def __init__(self, keras) -> None:
        self.keras = keras

    def bn_relu(self, x, name: str, relu: bool = True):
        x = self.keras.layers.BatchNormalization(momentum=0.99, epsilon=1e-3, name=f"{name}_bn")(x)
        return self.keras.layers.ReLU(6.0, name=f"{name}_relu")(x) if relu else x

    def conv(self, x, filters: int, kernel: int, stride: int, name: str, relu: bool = True):
        x = self.keras.layers.Conv2D(filters, kernel, stride, padding="same", use_bias=False, name=name)(x)
        return self.bn_relu(x, name, relu)

    def dwconv(self, x, kernel: int, stride: int, name: str, relu: bool = True):
        x = self.keras.layers.DepthwiseConv2D(kernel, stride, padding="same", use_bias=False, name=name)(x)
        return self.bn_relu(x, name, relu)

    def inception(self, x, widths: tuple[int, int, int, int], stride: int, name: str, residual: bool = True):
        """Four branches (1x1 | 1x1→dw3x3 | 1x1→dw3x3→dw3x3 ≈ 5x5 | pool→1x1), concatenated, then a linear 1x1
        projection; with stride 1 and matching width a residual connection is added."""
        b1, b3, b5, bp = widths
        out_channels = x.shape[-1] if (stride == 1 and residual) else None
        branches = []
        if stride == 1:
            branches.append(self.conv(x, b1, 1, 1, f"{name}_1x1"))
        y = self.conv(x, b3, 1, 1, f"{name}_3x3_reduce")
        branches.append(self.dwconv(y, 3, stride, f"{name}_3x3"))
        y = self.conv(x, b5, 1, 1, f"{name}_5x5_reduce")
        y = self.dwconv(y, 3, 1, f"{name}_5x5_a")
        branches.append(self.dwconv(y, 3, stride, f"{name}_5x5_b"))
        y = self.keras.layers.MaxPooling2D(3, stride, padding="same", name=f"{name}_pool")(x)
        branches.append(self.conv(y, bp, 1, 1, f"{name}_pool_proj"))
        y = self.keras.layers.Concatenate(name=f"{name}_concat")(branches)
        if out_channels is not None:
            y = self.conv(y, out_channels, 1, 1, f"{name}_project", relu=False)
            return self.keras.layers.Add(name=f"{name}_add")([x, y])
        return y


def build_nns2(input_size: int = INPUT_SIZE, embedding_dim: int = EMBEDDING_DIM, keras=None,
               normalize: bool = True):
    """The NNS2 FaceNet. Outputs the L2-normalised embedding (the raw 128-D one with `normalize=False`, what the
    exports carry: TFLite would lower the normalisation to float ops, so the runtime does it in numpy).

    FaceNet's NNS2 has 4.3M parameters but only ~20M FLOPs, so its parameters must sit where they cost few
    multiply-adds. Here: 28x28 after two strided layers, Inception blocks at 28, 14 and 7 pixels, a global
    depthwise convolution, and a 1536-wide hidden fully connected layer before the 128-D embedding.
    `keras`: the Keras module to build with (default: Keras 3 through TensorFlow).
    """
    if keras is None:
        from tensorflow import keras
    blocks = _Blocks(keras)
    image = keras.Input((input_size, input_size, 3), name="image")
    x = blocks.conv(image, 32, 3, 2, "stem1")  # 48x48 at the 96-pixel input
    x = blocks.dwconv(x, 3, 2, "stem2_dw")  # 24x24
    x = blocks.conv(x, 96, 1, 1, "stem2_pw")
    x = blocks.inception(x, (32, 48, 24, 24), 1, "inc3a", residual=False)  # 128 ch
    x = blocks.inception(x, (0, 128, 64, 64), 2, "inc4a")  # 12x12, 256 ch
    for block in "bc":
        x = blocks.inception(x, (64, 96, 48, 48), 1, f"inc4{block}")
    x = blocks.inception(x, (0, 256, 128, 128), 2, "inc5a")  # 6x6, 512 ch
    for block in "bc":
        x = blocks.inception(x, (128, 256, 128, 128), 1, f"inc5{block}")
    x = blocks.conv(x, 1024, 1, 1, "head_expand")
    x = keras.layers.DepthwiseConv2D(x.shape[1], padding="valid", use_bias=False, name="head_gdc")(x)  # → 1x1
    x = blocks.bn_relu(x, "head_gdc", relu=False)
    x = blocks.conv(x, 1536, 1, 1, "head_fc")
    x = keras.layers.Conv2D(embedding_dim, 1, use_bias=False, name="embedding")(x)
    x = keras.layers.BatchNormalization(name="embedding_bn")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    if normalize:
        x = keras.layers.UnitNormalization(name="l2_normalize")(x)
    return keras.Model(image, x, name="nns2_facenet")


def model_input(crops: np.ndarray) -> np.ndarray:
    """112x112 aligned uint8 crops → the network's float input (area-resize to 96, (x - 127.5) / 128)."""
    from edgeface.runtime.align import embedder_input

    return embedder_input(crops, INPUT_SIZE)


def count_macs(model) -> int:
    """Multiply-accumulates per image for the conv, depthwise and dense layers."""
    from tensorflow import keras

    macs = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            out = layer.output.shape
            macs += int(np.prod(out[1:])) * int(np.prod(layer.kernel_size))
        elif isinstance(layer, keras.layers.Conv2D):
            out = layer.output.shape
            macs += int(np.prod(out[1:])) * int(np.prod(layer.kernel_size)) * int(layer.input.shape[-1])
        elif isinstance(layer, keras.layers.Dense):
            macs += int(layer.input.shape[-1]) * int(layer.units)
    return macs


@dataclass
class FloatFaceNet:
    """The shipped float NNS2 FaceNet as an `Embedder` (5-point 112x112 alignment)."""

    name: str = "nns2"
    dim: int = EMBEDDING_DIM
    weights: Path | None = None

    def __post_init__(self) -> None:
        import tensorflow as tf

        from edgeface.weights import checked_path

        self.model = build_nns2()
        self.model.load_weights(str(self.weights or checked_path("nns2_facenet.weights.h5")))
        self._infer = tf.function(self.model, input_signature=[
            tf.TensorSpec((None, INPUT_SIZE, INPUT_SIZE, 3), tf.float32)])

    def align(self, image: np.ndarray, face) -> np.ndarray:
        from edgeface.runtime.align import align_five_points

        return align_five_points(image, face.landmarks)

    def embed(self, crops: np.ndarray) -> np.ndarray:
        if len(crops) == 0:
            return np.zeros((0, self.dim), np.float32)
        inputs = model_input(crops)
        return np.concatenate([self._infer(inputs[i : i + 128]).numpy() for i in range(0, len(inputs), 128)])
