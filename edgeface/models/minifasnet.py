"""MiniFASNet (Minivision's Silent-Face anti-spoofing nets) in Keras, with the original published weights.

Two nets look at the same face at two context sizes: MiniFASNetV2 on the face box enlarged 2.7x, MiniFASNetV1SE
(with squeeze-excitation) on it enlarged 4.0x, each resized to 80x80. Input: BGR, 0..255, not normalised.
Output: 3 logits; class 1 is a live face, 0 and 2 are attacks. The original sums the two softmaxes; the
runtime does the same in float (`edgeface.runtime.liveness`), so exports end at the logits (an int8 softmax
saturates, see `mtcnn._face_head`).

The layer stack mirrors `src/model_lib/MiniFASNet.py` of minivision-ai/Silent-Face-Anti-Spoofing (Apache-2.0);
`scripts/convert_minifasnet_weights.py` turned its .pth files into `weights/minifasnet.npz` (PyTorch parameter
names, no pickle). PyTorch pads 3x3 stride-2 convolutions by one pixel on every side, Keras' "same" only at the
bottom/right: those get an explicit ZeroPadding2D.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeface.weights import checked_path

from edgeface.runtime.liveness import INPUT_SIZE, NET_SCALES, live_probability, liveness_crops

# manifest role (runtime.liveness.NET_SCALES has its context scale) → the net's key in the npz
NETS: dict[str, str] = {"liveness_v2": "v2_scale2.7", "liveness_v1se": "v1se_scale4.0"}
assert set(NETS) == set(NET_SCALES)
STAGES = (("conv_3", 4), ("conv_4", 6), ("conv_5", 2))  # residual stages and their block counts
PREPROCESSING = ("BGR, 0..255 (no normalisation), 80x80 crop of the MTCNN box mapped to the original detector's "
                 "box and enlarged by the net's context scale; output: 3 logits (class 1 = live), softmax in float")
BN_EPSILON = 1e-5  # PyTorch's default


def load_weight_arrays(path: Path | None = None) -> dict[str, np.ndarray]:
    with np.load(path or checked_path("minifasnet.npz"), allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


class _Builder:
    """Builds one net layer by layer, taking each layer's weights from the PyTorch state dict by name."""

    def __init__(self, arrays: dict[str, np.ndarray], net: str) -> None:
        self.arrays = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith(net + "/")}
        if not self.arrays:
            raise KeyError(f"no weights for {net}")
        self.pending: list[tuple[object, list[np.ndarray]]] = []  # (layer, weights) set once the model is built
        self.used: set[str] = set()

    def take(self, key: str) -> np.ndarray:
        self.used.add(key)
        return self.arrays[key]

    def _bn(self, x, name: str):
        from tensorflow import keras

        layer = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=name)
        self.pending.append((layer, [self.take(f"{name}.{p}") for p in
                                     ("weight", "bias", "running_mean", "running_var")]))
        return layer(x)

    def conv(self, x, name: str, stride: int = 1, prelu: bool = True):
        """Conv_block (conv, BN, PReLU) or Linear_block (`prelu=False`); depthwise when the weight has one input
        channel per group and the layer is not the first."""
        from tensorflow import keras

        weight = self.take(f"{name}.conv.weight")  # (out, in / groups, kh, kw)
        out_channels, group_in, kernel, _ = weight.shape
        depthwise = group_in == 1 and x.shape[-1] > 1
        if kernel == 3 and stride == 2:
            x = keras.layers.ZeroPadding2D(1, name=f"{name}.pad")(x)
            padding = "valid"
        else:
            padding = "same" if kernel == 3 else "valid"
        if depthwise:
            layer = keras.layers.DepthwiseConv2D(kernel, stride, padding, use_bias=False, name=f"{name}.conv")
            self.pending.append((layer, [weight.transpose(2, 3, 0, 1)]))
        else:
            layer = keras.layers.Conv2D(out_channels, kernel, stride, padding, use_bias=False, name=f"{name}.conv")
            self.pending.append((layer, [weight.transpose(2, 3, 1, 0)]))
        x = self._bn(layer(x), f"{name}.bn")
        if prelu:
            activation = keras.layers.PReLU(shared_axes=[1, 2], name=f"{name}.prelu")
            self.pending.append((activation, [self.take(f"{name}.prelu.weight").reshape(1, 1, -1)]))
            x = activation(x)
        return x

    def squeeze_excite(self, x, name: str):
        from tensorflow import keras

        scale = keras.layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}.pool")(x)
        for index, activation in ((1, "relu"), (2, "sigmoid")):
            weight = self.take(f"{name}.fc{index}.weight")
            layer = keras.layers.Conv2D(weight.shape[0], 1, use_bias=False, name=f"{name}.fc{index}")
            self.pending.append((layer, [weight.transpose(2, 3, 1, 0)]))
            scale = keras.layers.Activation(activation, name=f"{name}.{activation}")(
                self._bn(layer(scale), f"{name}.bn{index}"))
        return keras.layers.Multiply(name=f"{name}.scale")([x, scale])

    def depth_wise(self, x, name: str, stride: int, residual: bool):
        """Depth_Wise / Depth_Wise_SE: 1x1 expand, 3x3 depthwise, 1x1 project (+ SE) (+ shortcut)."""
        from tensorflow import keras

        y = self.conv(x, f"{name}.conv")
        y = self.conv(y, f"{name}.conv_dw", stride)
        y = self.conv(y, f"{name}.project", prelu=False)
        if f"{name}.se_module.fc1.weight" in self.arrays:
            y = self.squeeze_excite(y, f"{name}.se_module")
        return keras.layers.Add(name=f"{name}.add")([x, y]) if residual else y

    def dense(self, x, name: str):
        from tensorflow import keras

        weight = self.take(f"{name}.weight")
        layer = keras.layers.Dense(weight.shape[0], use_bias=False, name=name)
        self.pending.append((layer, [weight.T]))
        return layer(x)

    def build(self, name: str):
        from tensorflow import keras

        image = keras.Input((INPUT_SIZE, INPUT_SIZE, 3), name="image")
        x = self.conv(image, "conv1", stride=2)
        x = self.conv(x, "conv2_dw")
        x = self.depth_wise(x, "conv_23", 2, residual=False)
        for (stage, blocks), down in zip(STAGES, ("conv_34", "conv_45", None)):
            for block in range(blocks):
                x = self.depth_wise(x, f"{stage}.model.{block}", 1, residual=True)
            if down:
                x = self.depth_wise(x, down, 2, residual=False)
        x = self.conv(x, "conv_6_sep")
        x = self.conv(x, "conv_6_dw", prelu=False)  # 5x5 depthwise over the whole 5x5 map
        x = keras.layers.Flatten(name="flatten")(x)
        x = self.dense(x, "linear")
        x = self._bn(x, "bn")
        logits = self.dense(x, "prob")
        model = keras.Model(image, logits, name=name)
        for layer, weights in self.pending:
            layer.set_weights(weights)
        unused = sorted(set(self.arrays) - self.used)
        if unused:
            raise ValueError(f"{name}: weights the Keras graph does not use: {unused[:5]}")
        return model


def build(role: str, arrays: dict[str, np.ndarray] | None = None):
    """One MiniFASNet with its weights (logits out), by manifest role (see NETS)."""
    arrays = arrays if arrays is not None else load_weight_arrays()
    return _Builder(arrays, NETS[role]).build(role)


class KerasMiniFasNets:
    """The float reference: both nets, live score = mean of the two softmaxes' class 1 (as the original)."""

    def __init__(self, arrays: dict[str, np.ndarray] | None = None) -> None:
        self._arrays = arrays
        self._models: dict | None = None

    @property
    def models(self) -> dict:
        """Built on first use: every float pipeline carries a scorer, few commands score."""
        if self._models is None:
            arrays = self._arrays if self._arrays is not None else load_weight_arrays()
            self._models = {role: build(role, arrays) for role in NETS}
        return self._models

    def logits(self, role: str, crops: np.ndarray) -> np.ndarray:
        return np.asarray(self.models[role](np.asarray(crops, np.float32), training=False))

    def net_scores(self, image_rgb: np.ndarray, face) -> dict[str, float]:
        crops = liveness_crops(image_rgb, face)
        return {role: float(live_probability(self.logits(role, crops[role][None]))[0]) for role in self.models}

    def score(self, image_rgb: np.ndarray, face) -> float:
        return float(np.mean(list(self.net_scores(image_rgb, face).values())))
