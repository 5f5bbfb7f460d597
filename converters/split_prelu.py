"""PReLU written as ops that XNNPACK runs in int8, for the CPU int8 export of the MTCNN nets.

LiteRT's XNNPACK delegate has no int8 PRELU: every PReLU of an int8 MTCNN falls back to the builtin kernel and
splits the graph into several delegate partitions, which made the int8 MTCNN slower than fp32 on a CPU. With a
slope α per channel,

    PReLU(z) = relu(z) − α·relu(−z),

so the layer that produces z is doubled into one with weights [W, −W], biases [b, −b] and a fused ReLU (giving
[relu(z), relu(−z)] in one tensor), and a 1x1 convolution (or dense layer) with weights [I; −diag(α)] adds the
halves back. Both are convolutions XNNPACK runs in int8, and the float function is unchanged (one of the two
halves is always exactly zero, whatever the sign of α). It costs the producer's work twice plus a 2C→C combine.

Measured single-model, 1 thread, x86-64 (native int8 → split int8, fp32 for reference): R-Net 0.207 → 0.055 ms
(fp32 0.071), O-Net 1.08 → 0.44 ms (fp32 0.47), P-Net 120x160 7.3 → 2.4 ms (fp32 1.3). P-Net stays slower than
fp32 on that CPU for a reason the split cannot reach: XNNPACK's int8 convolutions with few channels (3 → 10) run
about 4x slower than fp32 there, PReLU or not (`edgeface bench` and the runtime's per-stage choice handle it).

The Edge TPU runs PRELU natively, so the edgetpu export keeps the original graph.
"""

from __future__ import annotations

import numpy as np

SPLIT_NOTE = "PReLU split as relu(z) - a*relu(-z) for XNNPACK int8 (edgeface.converters.split_prelu)"


def split_prelu(model):
    """The same net with each PReLU that directly follows a Conv2D/Dense rewritten as above; the rest of the
    layers (pooling, flatten, the output heads) are copied with their weights. Takes a model with a fixed batch
    size, as the converter gets it, and returns one with batch 1."""
    from tensorflow import keras

    net = _inner(model)
    image = keras.Input(net.input.shape[1:], batch_size=1, name="image")
    tensors = {id(net.input): image}
    for layer in net.layers[1:]:
        x = tensors[id(layer.input)]
        if isinstance(layer, keras.layers.PReLU) and id(layer.output) in tensors:
            continue  # written with its producer
        following = _following_prelu(net, layer)
        if following is not None:
            tensors[id(following.output)] = _split(layer, following, x)
            tensors[id(layer.output)] = None  # z itself no longer exists
            continue
        clone = layer.__class__.from_config(layer.get_config())
        tensors[id(layer.output)] = clone(x)
        clone.set_weights(layer.get_weights())
    outputs = [tensors[id(output)] for output in net.outputs]
    return keras.Model(image, outputs, name=net.name)


def _inner(model):
    """The net itself when `model` wraps it (convert's fixed-batch wrapper holds the net as one layer)."""
    from tensorflow import keras

    wrapped = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    return wrapped[0] if len(model.layers) == 2 and wrapped else model


def _following_prelu(net, layer):
    """The PReLU that consumes `layer`'s output, when it is the only consumer."""
    from tensorflow import keras

    consumers = [other for other in net.layers if other.input is layer.output] if hasattr(layer, "output") else []
    if len(consumers) == 1 and isinstance(consumers[0], keras.layers.PReLU):
        return consumers[0]
    return None


def _split(layer, prelu, x):
    from tensorflow import keras

    kernel, bias = layer.get_weights()
    alpha = prelu.get_weights()[0].reshape(-1)
    channels = kernel.shape[-1]
    if alpha.size == 1:
        alpha = np.full(channels, alpha[0], np.float32)
    combine = np.concatenate([np.eye(channels), -np.diag(alpha)], 0).astype(np.float32)
    if isinstance(layer, keras.layers.Conv2D):
        doubled = keras.layers.Conv2D(2 * channels, layer.kernel_size, strides=layer.strides, padding=layer.padding,
                                      activation="relu", name=f"{layer.name}_split")
        adder = keras.layers.Conv2D(channels, 1, name=f"{prelu.name}_combine")
        combine = combine.reshape(1, 1, 2 * channels, channels)
    elif isinstance(layer, keras.layers.Dense):
        doubled = keras.layers.Dense(2 * channels, activation="relu", name=f"{layer.name}_split")
        adder = keras.layers.Dense(channels, name=f"{prelu.name}_combine")
    else:
        raise ValueError(f"{layer.name}: PReLU after {type(layer).__name__} is not split")
    if layer.get_config().get("activation", "linear") != "linear":
        raise ValueError(f"{layer.name}: has its own activation before the PReLU")
    halves = doubled(x)
    doubled.set_weights([np.concatenate([kernel, -kernel], -1), np.concatenate([bias, -bias])])
    out = adder(halves)
    adder.set_weights([combine, np.zeros(channels, np.float32)])
    return out
