"""Quantization-aware training (QAT) of the NNS2 FaceNet, the fallback when post-training int8 loses too much.

tensorflow-model-optimization (tfmot) inserts fake-quantization (int8 weights per channel, int8 activations per
tensor, with learned ranges) into a Keras 2 (`tf_keras`) copy of the float network; a short fine-tune then teaches
the weights to live with int8 rounding. The fine-tune needs no labels: the target of each face is the float
network's own embedding (self-distillation), so it runs on the same LFW calibration faces as post-training
quantization (images not in pairs.txt) and can never learn anything about the evaluation pairs.
The result goes through the same int8 / Edge TPU recipe (converters/quantize.py).

Needs tf-keras and tensorflow-model-optimization: `scripts/install_qat.sh` (it says why not through pip extras).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeface.runtime.errors import MissingDependency


class QatUnavailable(MissingDependency):
    """tensorflow-model-optimization or tf-keras is not installed."""


@dataclass
class QatConfig:
    steps: int = 300
    batch_size: int = 32
    learning_rate: float = 1e-5  # small: the float weights are already good, QAT only adapts them to rounding
    seed: int = 20261121


def require_qat():
    """tf_keras and tfmot, or QatUnavailable with the command that installs them."""
    try:
        import tensorflow_model_optimization as tfmot
        import tf_keras
    except ImportError as error:
        raise QatUnavailable(f"--qat needs tf-keras and tensorflow-model-optimization ({error}); install them "
                             "with scripts/install_qat.sh") from None
    return tf_keras, tfmot


def keras2_copy(float_model, input_size: int):
    """The NNS2 (raw 128-D output) rebuilt in tf_keras with the float model's weights, layer by layer by name."""
    from edgeface.models.facenet import build_nns2

    tf_keras, _ = require_qat()
    copy = build_nns2(input_size, keras=tf_keras, normalize=False)
    for layer in copy.layers:
        weights = float_model.get_layer(layer.name).get_weights()
        if weights:
            layer.set_weights(weights)
    return copy


def initialize_ranges(quantized, float_copy, inputs: np.ndarray, batch_size: int = 64) -> int:
    """Start every activation range at the min/max its float tensor takes on `inputs`, as post-training
    calibration would. tfmot starts them at [-6, 6] and moves them by 0.1% per step (moving average, decay
    0.999), so a short fine-tune would otherwise export ranges that fit no tensor. Returns how many were set."""
    import re

    tf_keras, _ = require_qat()
    ranges: dict[str, dict] = {}
    for variable in quantized.non_trainable_variables:
        match = re.fullmatch(r"quant_(.+)/output_(min|max):0", variable.name)
        if match:
            ranges.setdefault(match[1], {})[match[2]] = variable
        elif re.fullmatch(r"quantize_layer/quantize_layer_(min|max):0", variable.name):  # the model input
            variable.assign(min(0.0, float(inputs.min())) if variable.name.endswith("min:0") else float(inputs.max()))
    names = sorted(ranges)
    probe = tf_keras.Model(float_copy.input, [float_copy.get_layer(name).output for name in names])
    low = np.full(len(names), np.inf)
    high = np.full(len(names), -np.inf)
    for start in range(0, len(inputs), batch_size):
        outputs = probe(inputs[start : start + batch_size], training=False)
        low = np.minimum(low, [float(np.min(o)) for o in outputs])
        high = np.maximum(high, [float(np.max(o)) for o in outputs])
    for name, lo, hi in zip(names, low, high):
        ranges[name]["min"].assign(min(0.0, lo))
        ranges[name]["max"].assign(max(0.0, hi))
    return len(names)


def cosine_loss(targets, outputs):
    import tensorflow as tf

    outputs = tf.math.l2_normalize(tf.cast(outputs, tf.float32), axis=1)
    return tf.reduce_mean(1.0 - tf.reduce_sum(outputs * targets, axis=1))


def quantization_aware(float_model, inputs: np.ndarray, config: QatConfig, log=print):
    """Fine-tune a fake-quantized copy of `float_model` (Keras 3, raw embedding output) on `inputs`
    (N x H x W x 3, the model's float input) towards the float embeddings of each input and its mirror image.
    Returns a batch-1 tf_keras model ready for the int8 converter."""
    import tensorflow as tf

    tf_keras, tfmot = require_qat()
    tf.keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()  # the same inputs give the same weights, hence the same files
    inputs = np.concatenate([inputs, inputs[:, :, ::-1]]).astype(np.float32)
    targets = float_model.predict(inputs, batch_size=64, verbose=0)
    targets /= np.linalg.norm(targets, axis=1, keepdims=True)
    copy = keras2_copy(float_model, inputs.shape[1])
    for layer in copy.layers:  # batch norm keeps its float statistics; conversion folds it into the convolutions
        if isinstance(layer, tf_keras.layers.BatchNormalization):
            layer.trainable = False
    model = tfmot.quantization.keras.quantize_model(copy)
    count = initialize_ranges(model, copy, inputs)
    log(f"QAT: {count} activation ranges calibrated on {len(inputs)} faces")
    optimizer = tf_keras.optimizers.Adam(config.learning_rate)

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = cosine_loss(y, model(x, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    rng = np.random.default_rng(config.seed)
    order = np.array([], dtype=int)
    losses = []
    for index in range(config.steps):
        if len(order) < config.batch_size:
            order = np.concatenate([order, rng.permutation(len(inputs))])
        batch, order = order[: config.batch_size], order[config.batch_size :]
        losses.append(float(step(tf.constant(inputs[batch]), tf.constant(targets[batch]))))
        if (index + 1) % 50 == 0 or index + 1 == config.steps:
            log(f"QAT step {index + 1}/{config.steps}: 1 - cosine to float {np.mean(losses[-50:]):.5f}")
    fixed = tf_keras.Input(inputs.shape[1:], batch_size=1, name="image")
    return tf_keras.Model(fixed, model(fixed), name="nns2_facenet")
