"""Which face pipeline a command runs: the converted TFLite models (runtime only) or the float reference.

`--models DIR` (or $EDGEFACE_MODELS) selects the runtime, which needs no TensorFlow; without it the float
reference (Keras MTCNN + a float embedder) runs and needs the toolchain install.
"""

from __future__ import annotations

from pathlib import Path

from edgeface.runtime.cascade import CascadeConfig
from edgeface.runtime.pipeline import FacePipeline, default_models_dir, open_runtime
from edgeface.runtime.errors import MissingDependency


def require_toolchain() -> None:
    """Turn a missing TensorFlow (a runtime-only install) into advice instead of a traceback."""
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        raise MissingDependency("the float reference needs the toolchain (pip install '.[toolchain]'); "
                         "with the runtime only, pass --models DIR (a folder written by `edgeface convert`)") from None


def open_pipeline(models: Path | None = None, variant: str | None = None, embedder: str = "nns2",
                  cascade: CascadeConfig | None = None, num_threads: int | None = 1) -> FacePipeline:
    folder = default_models_dir(models)
    if folder is not None:
        return open_runtime(folder, variant, num_threads, cascade)
    require_toolchain()
    from edgeface.compare import operating_point
    from edgeface.detector import FloatDetector
    from edgeface.embedders import load_embedder
    from edgeface.weights import recorded_sums

    from edgeface.models.minifasnet import KerasMiniFasNets
    from edgeface.runtime.liveness import LivenessCheck

    thresholds = operating_point(embedder)
    try:
        live = operating_point("minifasnet")
    except ValueError:  # no live threshold recorded yet: the scorer still scores, the lock refuses to use it
        live = {}
    weights = {"nns2": "nns2_facenet.weights.h5", "mobilefacenet": "mobilefacenet.tflite"}.get(embedder, embedder)
    return FacePipeline(detector=FloatDetector(cascade), embedder=load_embedder(embedder),
                        threshold_accuracy=thresholds["euclidean_threshold_accuracy"],
                        threshold_far_1e3=thresholds.get("euclidean_threshold_far_1e-3"),
                        model_id=recorded_sums().get(weights, embedder),
                        door_policy=thresholds.get("door_policy", {}),
                        liveness=LivenessCheck(KerasMiniFasNets(), live.get("live_threshold"), live.get("source", "")),
                        description={"models": "float reference", "embedder": embedder})
