"""Tiny adapters around a TFLite interpreter (in the manner of pycoral's adapters).

The interpreter comes from LiteRT (`ai-edge-litert`), else `tflite-runtime`, else TensorFlow's `tf.lite` if
that is what is installed; the first two never import TensorFlow.
"""

from __future__ import annotations

import os

import numpy as np

from edgeface.runtime.errors import EdgefaceError


class ModelError(EdgefaceError, RuntimeError):
    """A model file that cannot be loaded or does not have the expected inputs/outputs."""


def _interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter, "ai-edge-litert"
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter

        return Interpreter, "tflite-runtime"
    except ImportError:
        pass
    try:
        import tensorflow as tf

        return tf.lite.Interpreter, "tensorflow"
    except ImportError:
        raise ModelError("no TFLite interpreter: pip install ai-edge-litert (or tflite-runtime)") from None


def interpreter_from_bytes(model_bytes: bytes, num_threads: int | None = 1, default_delegates: bool = True,
                           probe_size: int = 24):
    """An allocated interpreter over in-memory model bytes (used to inspect what the converter produced).

    With `default_delegates=False` the graph stays as written (no XNNPACK rewrite), which is what an op-level
    check such as `edgetpu-check` must look at.
    """
    interpreter_class, backend = _interpreter_class()
    kwargs = {"model_content": bytes(model_bytes), "num_threads": num_threads}
    if not default_delegates:
        module = __import__(interpreter_class.__module__, fromlist=["OpResolverType"])
        kwargs["experimental_op_resolver_type"] = module.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    try:
        interpreter = interpreter_class(**kwargs)
        allocate(interpreter, probe_size)
    except (ValueError, RuntimeError) as error:
        raise ModelError(f"not a loadable TFLite model ({error})") from None
    return interpreter


def allocate(interpreter, probe_size: int = 24) -> None:
    """Allocate tensors; dynamic input dimensions (a fully convolutional P-Net) get a probe size first."""
    for detail in interpreter.get_input_details():
        signature = detail.get("shape_signature", detail["shape"])
        if any(v < 0 for v in signature):
            interpreter.resize_tensor_input(detail["index"], [v if v > 0 else probe_size for v in signature])
    interpreter.allocate_tensors()


def static_shape(detail: dict) -> list[int]:
    """A tensor's declared shape, -1 where it is dynamic."""
    return [int(v) for v in detail.get("shape_signature", detail["shape"])]


EDGETPU_LIBRARY = "libedgetpu.so.1"
KERNELS_ENV = "EDGEFACE_KERNELS"
KERNELS = {  # which LiteRT kernels run the models
    "xnnpack": None,  # the default: LiteRT's optimised kernels with its XNNPACK delegate
    "builtin": "BUILTIN_WITHOUT_DEFAULT_DELEGATES",  # LiteRT's optimised kernels, no XNNPACK
    "reference": "BUILTIN_REF",  # plain reference kernels: slow, but integer results identical on every CPU
}


def edgetpu_delegate():
    """The Coral Edge TPU delegate when libedgetpu and a device are present, else None (CPU it is)."""
    import ctypes

    try:  # look for the library first: a failed load_delegate leaves a half-made object that warns at exit
        ctypes.CDLL(EDGETPU_LIBRARY)
    except OSError:
        return None
    interpreter_class, _ = _interpreter_class()
    module = __import__(interpreter_class.__module__, fromlist=["load_delegate"])
    load_delegate = getattr(module, "load_delegate", None)
    if load_delegate is None:
        return None
    try:
        return load_delegate(EDGETPU_LIBRARY)
    except (ValueError, OSError, RuntimeError):
        return None


def backend_name() -> str:
    return _interpreter_class()[1]


def make_interpreter(model_path: str | os.PathLike, num_threads: int | None = None, delegates: list | None = None):
    """Load a .tflite file and allocate its tensors; a broken file raises ModelError naming it."""
    interpreter_class, _ = _interpreter_class()
    path = os.fspath(model_path)
    if not os.path.isfile(path):
        raise ModelError(f"{path}: model file not found")
    kwargs = {}
    kernels = os.environ.get(KERNELS_ENV, "xnnpack")
    if kernels not in KERNELS:
        raise ModelError(f"${KERNELS_ENV}={kernels!r}: choose {', '.join(KERNELS)}")
    if KERNELS[kernels]:
        module = __import__(interpreter_class.__module__, fromlist=["OpResolverType"])
        kwargs["experimental_op_resolver_type"] = getattr(module.OpResolverType, KERNELS[kernels])
    try:
        interpreter = interpreter_class(model_path=path, num_threads=num_threads, experimental_delegates=delegates,
                                        **kwargs)
        allocate(interpreter)
    except (ValueError, RuntimeError) as error:
        raise ModelError(f"{path}: not a loadable TFLite model ({error})") from None
    return interpreter


def input_details(interpreter, index: int = 0) -> dict:
    return interpreter.get_input_details()[index]


def output_details(interpreter) -> list[dict]:
    return interpreter.get_output_details()


def quantize(values: np.ndarray, detail: dict) -> np.ndarray:
    """Float → the tensor's dtype using its scale/zero-point (identity for float tensors)."""
    dtype = detail["dtype"]
    scale, zero_point = detail.get("quantization", (0.0, 0))
    if dtype in (np.float32, np.float16) or not scale:
        return values.astype(dtype)
    info = np.iinfo(dtype)
    return np.clip(np.round(values / scale + zero_point), info.min, info.max).astype(dtype)


def dequantize(values: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero_point = detail.get("quantization", (0.0, 0))
    if values.dtype in (np.float32, np.float16) or not scale:
        return values.astype(np.float32)
    return (values.astype(np.float32) - zero_point) * scale


def run(interpreter, *inputs: np.ndarray, details: tuple[list[dict], list[dict]] | None = None) -> list[np.ndarray]:
    """Set float inputs (quantized as needed), invoke, and return dequantized float outputs in model order.

    `details` (input and output details fetched once) saves asking the interpreter for them on every call, which
    matters for the thousands of one-crop R-Net calls of a frame; an input of another shape is resized to."""
    input_details, output_details = details or (interpreter.get_input_details(), interpreter.get_output_details())
    for detail, value in zip(input_details, inputs):
        if tuple(detail["shape"]) != value.shape:
            interpreter.resize_tensor_input(detail["index"], value.shape)
            interpreter.allocate_tensors()
            detail = next(d for d in interpreter.get_input_details() if d["index"] == detail["index"])
        interpreter.set_tensor(detail["index"], quantize(value, detail))
    interpreter.invoke()
    return [dequantize(interpreter.get_tensor(d["index"]), d) for d in output_details]


class TfliteModel:
    """One model of a converted folder with its manifest entry (the one adapter every network here runs through):
    the input shape is checked against the manifest, and outputs come back by meaning ("logits", "embedding")."""

    def __init__(self, folder: str | os.PathLike, entry, num_threads: int | None = 1,
                 delegates: list | None = None) -> None:
        from edgeface.runtime.manifest import ManifestError

        self.entry = entry
        self.interpreter = make_interpreter(os.path.join(folder, entry.file), num_threads, delegates)
        inputs, outputs = self.interpreter.get_input_details(), self.interpreter.get_output_details()
        by_name = {d["name"]: k for k, d in enumerate(outputs)}
        try:
            self.positions = {meaning: by_name[t.name] for meaning, t in entry.outputs.items()}
        except KeyError as error:
            raise ManifestError(f"{entry.file}: output {error} named in the manifest is not in the model") from None
        expected, actual = [int(v) for v in entry.inputs[0].shape], static_shape(inputs[0])
        if expected != actual:
            raise ManifestError(f"{entry.file}: input shape {actual} differs from the manifest's {expected}")
        self.details = ([inputs[0]], outputs)

    def __call__(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        values = run(self.interpreter, batch, details=self.details)
        return {meaning: values[k] for meaning, k in self.positions.items()}

    def output_scale(self, meaning: str) -> float:
        """One quantization step of an output (what int8 differences are counted in); 0.0 for a float output."""
        return float(self.details[1][self.positions[meaning]].get("quantization", (0.0, 0))[0])
