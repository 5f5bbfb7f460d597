"""ONNX in: a real ONNX face embedder (the NNS2 exported to ONNX, NCHW as PyTorch writes it) → every variant.

The ONNX file is made here from the fp32 TFLite FaceNet with tf2onnx; onnx2tf (scripts/install_onnx2tf.sh, its
own environment) brings it back. The imported fp32 model must compute what the original computes, and its int8
export must stay close to it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from edgeface import lfw
from edgeface.converters.onnx_import import OnnxImportError, find_onnx2tf
from clirunner import run_cli


@pytest.fixture(scope="module")
def onnx_file(models_dir, tmp_path_factory) -> Path:
    try:
        tool = Path(find_onnx2tf())
    except OnnxImportError as error:  # installable here: a missing tool is a failure, not a skip
        pytest.fail(str(error))
    out = tmp_path_factory.mktemp("onnx") / "nns2_nchw.onnx"
    result = subprocess.run([str(tool.parent / "python"), "-m", "tf2onnx.convert", "--tflite",
                             str(models_dir / "facenet_fp32.tflite"), "--output", str(out), "--opset", "13",
                             "--inputs-as-nchw", "serving_default_image:0"], capture_output=True, text=True)
    assert result.returncode == 0 and out.is_file(), result.stderr[-2000:]
    return out


def test_onnx_embedder_converts_to_every_variant_and_computes_the_same(onnx_file, models_dir, lfw_root, tmp_path):
    out = tmp_path / "models"
    result = run_cli("convert", "--int8", "--edgetpu", "--from-onnx", str(onnx_file), "--out", str(out),
                     "--input-size", "250x250", "--calibration-images", "40", "--agreement-images", "20",
                     "--lfw", str(lfw_root))
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    facenet = {m["variant"]: m for m in manifest["models"] if m["role"] == "facenet"}
    assert set(facenet) == {"fp32", "int8", "edgetpu"}
    assert all(m["source"].startswith(f"ONNX {onnx_file.name}") for m in facenet.values())
    assert facenet["fp32"]["accuracy"]["embedding_vs_float"]["min_cosine"] > 0.99999
    assert facenet["int8"]["accuracy"]["embedding_vs_float"]["mean_cosine"] > 0.99
    assert manifest["operating_point"] == {}  # the NNS2's thresholds are not claimed for an imported model

    from edgeface.runtime.align import align_five_points
    from edgeface.runtime.cascade import pick_face
    from edgeface.runtime.images import read_rgb
    from edgeface.runtime.pipeline import open_runtime
    from edgeface.runtime.tflite_facenet import TfliteFaceNet

    detector = open_runtime(models_dir, "fp32").detector
    crops = []
    for name in ("Colin_Powell/Colin_Powell_0001.jpg", "Jean_Chretien/Jean_Chretien_0002.jpg"):
        image = read_rgb(lfw_root / lfw.IMAGES_SUBDIR / name)
        crops.append(align_five_points(image, pick_face(detector.detect(image), image.shape).landmarks, 112))
    original = TfliteFaceNet(models_dir, "fp32").embed(np.stack(crops))
    imported = TfliteFaceNet(out, "fp32").embed(np.stack(crops))
    assert np.abs(original - imported).max() < 1e-4

    check = run_cli("edgetpu-check", str(out / "facenet_int8.tflite"))
    assert check.returncode == 0, check.stdout[-2000:]


def test_missing_onnx_file_fails_before_any_work(tmp_path):
    result = run_cli("convert", "--from-onnx", str(tmp_path / "none.onnx"), "--out", str(tmp_path / "m"))
    assert result.returncode == 2 and "no such ONNX file" in result.stderr
