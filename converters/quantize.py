"""Quantization recipes: one Keras model → TFLite bytes in each variant.

| variant | weights | activations | inputs/outputs |
| --- | --- | --- | --- |
| fp32 | float32 | float32 | float32 |
| fp16 | float16 | float32 | float32 |
| dynamic | int8 | float32 (int8 kernels where possible) | float32 |
| int8 | int8 | int8 | int8 (no float op left) |
| edgetpu | int8 | int8 | uint8, the classic Edge TPU interface; compile with edgetpu_compiler |

Conversion is deterministic: the same model and calibration data give byte-identical files.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterable

import numpy as np

from edgeface.runtime.manifest import VARIANTS, TensorInfo
from edgeface.runtime.errors import UsageError

RepresentativeData = Callable[[], Iterable[list[np.ndarray]]]


def convert(model, variant: str, representative: RepresentativeData | None = None) -> bytes:
    """Convert a Keras model, or a SavedModel folder (an ONNX import), with a static input shape to TFLite bytes."""
    import os

    import tensorflow as tf

    if variant not in VARIANTS:
        raise UsageError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")
    if isinstance(model, (str, os.PathLike)):
        converter = tf.lite.TFLiteConverter.from_saved_model(os.fspath(model))
    else:
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if variant != "fp32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if variant == "fp16":
        converter.target_spec.supported_types = [tf.float16]
    if variant in ("int8", "edgetpu"):
        if representative is None:
            raise ValueError(f"{variant} needs a representative data set for calibration")
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        io_type = tf.uint8 if variant == "edgetpu" else tf.int8
        converter.inference_input_type = io_type
        converter.inference_output_type = io_type
    with contextlib.redirect_stdout(io.StringIO()):  # the converter prints its whole SavedModel signature
        return converter.convert()


def tensor_infos(model_bytes: bytes) -> tuple[list[TensorInfo], list[TensorInfo]]:
    """Input and output tensors of a TFLite model as manifest entries (shape, dtype, scale, zero point)."""
    from edgeface.runtime.interpreter import interpreter_from_bytes, static_shape

    interpreter = interpreter_from_bytes(model_bytes, default_delegates=False)

    def info(detail: dict) -> TensorInfo:
        scale, zero_point = detail.get("quantization", (0.0, 0))
        return TensorInfo(detail["name"], static_shape(detail), np.dtype(detail["dtype"]).name,
                          float(scale), int(zero_point))

    return ([info(d) for d in interpreter.get_input_details()], [info(d) for d in interpreter.get_output_details()])


def name_outputs(outputs: list[TensorInfo], meanings: dict[int, str]) -> dict[str, TensorInfo]:
    """Give each output its meaning by its last dimension (TFLite does not keep Keras' output order)."""
    named = {}
    for tensor in outputs:
        meaning = meanings.get(tensor.shape[-1])
        if meaning is None or meaning in named:
            raise ValueError(f"cannot tell what output {tensor.name} {tensor.shape} is")
        named[meaning] = tensor
    return named
