"""Clipped int8 activation ranges for the MTCNN nets (percentile calibration).

Post-training calibration (the TFLite converter's representative data set) gives each activation tensor the
min/max it ever takes, so a few background pixels of a large pyramid level set the int8 step for every face in
it. Here each rounded tensor (the input, every conv/dense output and every PReLU output) gets the range that
leaves out a small fraction `clip` of its calibration values at each end instead, and the export carries that
range in a fake-quantization op, which the converter takes instead of calibrating its own.

Off by default (`edgeface convert --mtcnn-range-clip 1e-4` turns it on). Measured with the CI fixture's
calibration on all 7,701 LFW pair images, int8 cascade vs float: faces kept 98.80% (min/max: 98.47%), faces
added 122 (154), box IoU 0.961 (0.957), landmarks 0.81 px (0.89), the embedded face the same on 7,701 of 7,701
images (7,697), and pair AUC with the int8 detector equal to float's (0.9972; min/max 0.9966). But the deployed
10-fold accuracy on the 6,000 pairs came out 97.12%, 0.52 points under float (min/max: 97.52%, 0.12 under),
over the issue's 0.3-point bound, so the shipped default stays min/max (reports/compare_int8_clipped.json).
Fine-tuning the weights against the same rounding (quantization-aware training with Adam on 400 other LFW
images) lowered its training loss but not the cascade's disagreement with float, so it is not part of this.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from edgeface.models.mtcnn import LAYERS, build_export_net

CLIP = 1e-4  # fraction of each tensor's calibration values left outside its int8 range, at each end
SAMPLE = 20_000  # values kept per tensor and batch of 32 inputs: quantiles of a sample, not of every pixel


def rounded_layers(net: str) -> list[str]:
    """The layers whose output the int8 model requantizes: the net's weight layers and PReLUs, as listed in
    `edgeface.models.mtcnn.LAYERS` (pooling and flatten keep their input's scale)."""
    return [layer for layer, _ in LAYERS[net]]


def clipped_ranges(net: str, arrays: dict[str, np.ndarray], batches: Iterable[np.ndarray], clip: float = CLIP,
                   seed: int = 0) -> dict[str, tuple[float, float]]:
    """(low, high) per rounded tensor of `net` over the float inputs `batches`, `clip` of the values outside at
    each end; the model input keeps its full range (it is the image itself). Ranges always contain 0, as int8
    needs an exact zero."""
    from tensorflow import keras

    model = build_export_net(net, arrays)
    rounded = set(rounded_layers(net))
    names = [layer.name for layer in model.layers if layer.name in rounded]  # graph order: how the sample is drawn
    probe = keras.Model(model.input, [model.input] + [model.get_layer(name).output for name in names])
    rng = np.random.default_rng(seed)
    values: dict[str, list[np.ndarray]] = {name: [] for name in ["input"] + names}
    for batch in batches:
        for start in range(0, len(batch), 32):  # bounded memory for large pyramid levels
            outputs = probe(np.asarray(batch[start : start + 32], np.float32))
            for name, output in zip(values, outputs):
                flat = np.asarray(output).reshape(-1)
                values[name].append(flat if flat.size <= SAMPLE else rng.choice(flat, SAMPLE, replace=False))
    ranges = {}
    for name, chunks in values.items():
        seen = np.concatenate(chunks)
        low, high = np.quantile(seen, [0.0, 1.0] if name == "input" else [clip, 1.0 - clip])
        ranges[name] = (min(0.0, float(low)), max(0.0, float(high)))
    return ranges


def ranged_export_net(net: str, arrays: dict[str, np.ndarray], ranges: dict[str, tuple[float, float]],
                      height: int | None = None, width: int | None = None):
    """The export net (batch 1) with each rounded tensor's int8 range fixed by a fake-quantization op. The float
    function changes only by clipping the rare values outside the ranges; an int8 conversion uses the ranges."""
    import tensorflow as tf
    from tensorflow import keras

    class FixedRange(keras.layers.Layer):
        def __init__(self, low: float, high: float, **kwargs) -> None:
            super().__init__(**kwargs)
            self.low, self.high = low, high

        def call(self, x):
            return tf.quantization.fake_quant_with_min_max_args(x, min=self.low, max=self.high, num_bits=8)

    model = build_export_net(net, arrays, height, width)  # the size matters to P-Net only
    outputs_by_layer = {tensor.name: index for index, tensor in enumerate(model.outputs)}
    image = keras.Input(model.input.shape[1:], batch_size=1, name="image")
    tensors = {model.input.name: FixedRange(*ranges["input"], name="range_input")(image)}
    outputs: list = [None] * len(model.outputs)
    for layer in model.layers[1:]:
        source = tensors[layer.input.name]
        result = layer(source)
        if layer.name in ranges:
            result = FixedRange(*ranges[layer.name], name=f"range_{layer.name}")(result)
        tensors[layer.output.name] = result
        if layer.output.name in outputs_by_layer:
            outputs[outputs_by_layer[layer.output.name]] = result
    return keras.Model(image, outputs, name=net)
