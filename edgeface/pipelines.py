"""Which face pipeline a command runs: the converted TFLite models (runtime only) or the float reference.

`--models DIR` (or $EDGEFACE_MODELS) selects the runtime, which needs no TensorFlow; without it the float
reference (Keras MTCNN + a float embedder) runs and needs the toolchain install.
"""

from __future__ import annotations

from pathlib import Path

from edgeface.runtime.cascade import CascadeConfig
from edgeface.runtime.errors import MissingDependency
from edgeface.runtime.operating_point import OperatingPoint
from edgeface.runtime.pipeline import FacePipeline, default_models_dir, open_runtime


def require_toolchain() -> None:
    """Turn a missing TensorFlow (a runtime-only install) into advice instead of a traceback."""
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        raise MissingDependency("the float reference needs the toolchain (pip install '.[toolchain]'); "
                                "with the runtime only, pass --models DIR (a folder written by `edgeface convert`)") from None


def open_pipeline(models: Path | None = None, variant: str | None = None, embedder: str = "nns2",
                  cascade: CascadeConfig | None = None, num_threads: int | None = 1,
                  liveness: bool = True) -> FacePipeline:
    """The one way to open a pipeline: the runtime on `models` (or $EDGEFACE_MODELS), else the float reference
    with `embedder` (and, with `liveness`, the Keras anti-spoofing nets). `variant` and `num_threads` are the
    runtime's; `embedder` is the float reference's (a models folder has its own)."""
    folder = default_models_dir(models)
    if folder is not None:
        return open_runtime(folder, variant, num_threads, cascade)
    return open_float_reference(embedder, cascade, liveness)


def open_float_reference(embedder: str = "nns2", cascade: CascadeConfig | None = None,
                         liveness: bool = True) -> FacePipeline:
    """Keras MTCNN + the float `embedder` with its shipped operating point (toolchain install only)."""
    require_toolchain()
    from edgeface.detector import FloatDetector
    from edgeface.embedders import load_embedder
    from edgeface.weights import shipped_point, weights_id

    from edgeface.models.minifasnet import KerasMiniFasNets
    from edgeface.runtime.liveness import LivenessCheck

    check = None
    if liveness:  # no live threshold recorded: the scorer still scores, the lock refuses to use it
        live = shipped_point("minifasnet")
        check = LivenessCheck(KerasMiniFasNets(), live.get("live_threshold"), live.get("source", ""))
    return FacePipeline(detector=FloatDetector(cascade), embedder=load_embedder(embedder),
                        operating_point=OperatingPoint.from_record(shipped_point(embedder), weights_id(embedder)),
                        liveness=check, description={"models": "float reference", "embedder": embedder})
