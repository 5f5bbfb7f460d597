"""ONNX in: an ONNX face embedder → TensorFlow SavedModel (by onnx2tf) → the same TFLite recipes as our models.

Why onnx2tf: it is maintained and converts NCHW graphs to NHWC ones without a transpose per layer; onnx-tf, the
older route, has been archived since 2022. onnx2tf pins its own TensorFlow (2.19), NumPy 1.x and protobuf 4, so it
cannot share edgeface's environment: like `edgetpu_compiler`, it runs as an external tool, found through
$EDGEFACE_ONNX2TF or on PATH (README: "ONNX in" gives the two install lines).

onnx2tf checks its conversion on 20 sample images that it would otherwise download from GitHub; we hand it 20
aligned LFW faces instead (nothing is downloaded). The ONNX model must take a 5-point-aligned RGB face, NCHW,
normalised as (x - 127.5) / 128, and give one embedding vector.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np

from edgeface.runtime.errors import EdgefaceError

ONNX2TF_ENV = "EDGEFACE_ONNX2TF"
ONNX2TF_VERSION = "1.29.24"  # the last release for Python 3.11
SAMPLE_FILE = "calibration_image_sample_data_20x128x128x3_float32.npy"


class OnnxImportError(EdgefaceError, RuntimeError):
    """An ONNX model that cannot be imported, or no onnx2tf to import it with."""


ONNX2TF_VENV = Path(".venv-onnx2tf") / "bin" / "onnx2tf"  # where scripts/install_onnx2tf.sh puts it
# an editable install's checkout, then the current folder (a non-editable install lives in site-packages)
ONNX2TF_FALLBACKS = (Path(__file__).resolve().parents[1] / ONNX2TF_VENV, ONNX2TF_VENV)


def find_onnx2tf() -> str:
    """$EDGEFACE_ONNX2TF, else `onnx2tf` on PATH, else .venv-onnx2tf (scripts/install_onnx2tf.sh) in the
    checkout of an editable install or in the current folder."""
    tool = (os.environ.get(ONNX2TF_ENV) or shutil.which("onnx2tf")
            or next((str(path.resolve()) for path in ONNX2TF_FALLBACKS if path.is_file()), None))
    if not tool or not Path(tool).is_file():
        raise OnnxImportError(
            f"--from-onnx needs onnx2tf {ONNX2TF_VERSION} in an environment of its own (it pins TensorFlow 2.19): "
            f"run scripts/install_onnx2tf.sh, or python3 -m venv ~/.onnx2tf && ~/.onnx2tf/bin/pip install "
            f"onnx2tf=={ONNX2TF_VERSION} && export {ONNX2TF_ENV}=~/.onnx2tf/bin/onnx2tf")
    return tool


def onnx_to_saved_model(onnx_path: Path, work_dir: Path, faces: np.ndarray) -> Path:
    """Run onnx2tf on the model; `faces` (N>=20, 112x112x3 uint8 aligned) become its sample images."""
    if not onnx_path.is_file():
        raise OnnxImportError(f"{onnx_path}: no such ONNX file")
    work_dir.mkdir(parents=True, exist_ok=True)
    samples = np.stack([cv2.resize(face, (128, 128), interpolation=cv2.INTER_AREA) for face in faces[:20]])
    np.save(work_dir / SAMPLE_FILE, samples.astype(np.float32) / 255.0)
    saved = work_dir / "saved_model"
    command = [find_onnx2tf(), "-i", str(onnx_path.resolve()), "-o", str(saved), "-osd", "-n"]
    result = subprocess.run(command, cwd=work_dir, capture_output=True, text=True)
    if result.returncode != 0 or not (saved / "saved_model.pb").is_file():
        raise OnnxImportError(f"onnx2tf could not convert {onnx_path}: {(result.stdout + result.stderr)[-1500:]}")
    return saved


class SavedModelEmbedder:
    """The imported model run by TensorFlow: the float reference its TFLite exports are measured against."""

    def __init__(self, saved_dir: Path) -> None:
        import tensorflow as tf

        self._loaded = tf.saved_model.load(str(saved_dir))
        self._function = self._loaded.signatures["serving_default"]
        (self._input_name, spec), = self._function.structured_input_signature[1].items()
        shape = list(spec.shape)
        if len(shape) != 4 or shape[3] != 3 or shape[1] != shape[2]:
            raise OnnxImportError(f"imported model input {shape}: expected one square RGB image (NCHW in ONNX)")
        outputs = self._function.structured_outputs
        if len(outputs) != 1:
            raise OnnxImportError(f"imported model has {len(outputs)} outputs; an embedder has one")
        self.input_size = int(shape[1])
        self.dim = int(next(iter(outputs.values())).shape[-1])

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        rows = [next(iter(self._function(**{self._input_name: tf.constant(x[None])}).values())).numpy()
                for x in inputs.astype(np.float32)]
        return np.concatenate(rows)
