"""The converter on the real weights and real LFW calibration data, and the int8 MTCNN gate on full LFW."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgeface import lfw
from edgeface.runtime.manifest import ManifestError, load_manifest



def test_manifest_describes_every_file(models_dir):
    manifest = load_manifest(models_dir)
    files = {p.name for p in models_dir.glob("*.tflite")}
    assert files == {e.file for e in manifest.models}
    for role in ("rnet", "onet"):
        assert manifest.variants(role) == ["fp32", "int8", "edgetpu"]
    int8 = [e for e in manifest.models if e.variant == "int8"]
    assert all(e.inputs[0].dtype == "int8" and e.inputs[0].scale > 0 for e in int8)
    assert all(all(t.dtype == "int8" for t in e.outputs.values()) for e in int8)
    assert all(e.inputs[0].dtype == "uint8" for e in manifest.models if e.variant == "edgetpu")
    assert all(e.calibration and "not in pairs.txt" in e.calibration for e in int8)
    pnet_sizes = {e.input_hw for e in manifest.models if e.role == "pnet" and e.variant == "int8"}
    assert (150, 150) in pnet_sizes and (288, 384) in pnet_sizes  # first pyramid level of 250x250 and 640x480
    onet = manifest.find("onet", "int8")
    agreement = onet.accuracy["mtcnn_cascade_vs_float"]
    assert agreement["recall"] >= 0.97 and agreement["mean_landmark_error_px"] < 2.0


def test_int8_face_scores_keep_their_order_above_the_int8_softmax_cap(models_dir, lfw_root):
    """The exports put out face logits and the runtime takes the softmax in float: confident R/O-Net candidates get
    distinct scores close to the float net's, instead of all tying at an int8 softmax's 255/256 (which left NMS
    to choose among tied boxes by index)."""
    from edgeface.calibration.lfw_sets import CalibrationConfig, compose_frames, draw, stage_crops
    from edgeface.models.mtcnn import KerasMtcnnNets
    from edgeface.runtime.cascade import CascadeConfig
    from edgeface.runtime.tflite_mtcnn import TfliteMtcnnNets

    manifest = load_manifest(models_dir)
    assert all("logits" in e.outputs for e in manifest.models if e.role in ("pnet", "rnet", "onet"))
    names = draw(lfw_root, CalibrationConfig(images=8, seed=99))
    frames = compose_frames(lfw_root, names, (250, 250), seed=99)
    float_nets, int8_nets = KerasMtcnnNets(), TfliteMtcnnNets(models_dir, "int8", manifest)
    crops = stage_crops(frames, float_nets, CascadeConfig(), max_crops=200, seed=99)["onet"]
    float_scores, int8_scores = float_nets.onet(crops)[0], int8_nets.onet(crops)[0]
    confident = float_scores > 0.99
    assert confident.sum() >= 5
    assert np.max(int8_scores) > 255 / 256 + 1e-4
    assert len(np.unique(int8_scores[confident])) > confident.sum() // 2
    assert np.corrcoef(float_scores, int8_scores)[0, 1] > 0.95


def test_tampered_or_missing_model_is_refused(models_dir, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(models_dir, copy)
    target = copy / "rnet_int8.tflite"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(ManifestError, match="rnet_int8.tflite: sha256/size differ"):
        load_manifest(copy)
    target.unlink()
    with pytest.raises(ManifestError, match="missing"):
        load_manifest(copy)
    (copy / "manifest.json").write_text("{not json")
    with pytest.raises(ManifestError, match="not a valid edgeface manifest"):
        load_manifest(copy)


def test_int8_models_pass_edgetpu_check_and_float_ones_do_not(models_dir):
    from edgeface.converters.edgetpu import check_model

    manifest = load_manifest(models_dir)
    for entry in manifest.models:
        report = check_model(models_dir / entry.file)
        if entry.variant in ("int8", "edgetpu"):
            assert report.ok, report.text()
        else:
            assert not report.ok
    result = subprocess.run([sys.executable, "-m", "edgeface.cli", "edgetpu-check", str(models_dir / "rnet_fp32.tflite")],
                            capture_output=True, text=True, cwd=models_dir)
    assert result.returncode == 1 and "float32" in result.stdout


def test_edgetpu_check_refuses_a_multi_signature_file(tmp_path):
    """An int8 file with two entry points is clean op by op, yet the compiler maps only single-subgraph models."""
    import tensorflow as tf

    from edgeface.converters.edgetpu import check_model

    kernel = tf.constant(np.random.default_rng(0).normal(size=(3, 3, 3, 4)).astype(np.float32))
    forward = lambda image: {"features": tf.nn.relu(tf.nn.conv2d(image, kernel, 1, "VALID"))}  # noqa: E731
    sizes = {"small": 8, "large": 12}
    signatures = {key: tf.function(forward, input_signature=[tf.TensorSpec([1, n, n, 3], tf.float32, name="image")])
                  .get_concrete_function() for key, n in sizes.items()}
    tf.saved_model.save(tf.Module(), str(tmp_path / "saved"), signatures=signatures)
    rng = np.random.default_rng(1)

    def representative():
        for _ in range(4):
            for key, n in sizes.items():
                yield key, {"image": rng.uniform(-1, 1, (1, n, n, 3)).astype(np.float32)}

    converter = tf.lite.TFLiteConverter.from_saved_model(str(tmp_path / "saved"), signature_keys=list(sizes))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    (tmp_path / "two.tflite").write_bytes(converter.convert())
    report = check_model(tmp_path / "two.tflite")
    assert not report.ok and any("2 signatures" in p for p in report.problems), report.text()


def test_conversion_is_deterministic(lfw_root):
    from edgeface.converters.export import fixed_batch, representative
    from edgeface.converters.quantize import convert
    from edgeface.models.mtcnn import build_all

    rnet = fixed_batch(build_all()["rnet"])
    samples = np.random.default_rng(3).uniform(-1, 1, (30, 24, 24, 3)).astype(np.float32)
    first = convert(rnet, "int8", representative(samples))
    second = convert(rnet, "int8", representative(samples))
    assert first == second


def test_runtime_detects_with_tflite_and_never_imports_tensorflow(models_dir, lfw_root, tmp_path):
    blocker = tmp_path / "blocker" / "tensorflow"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('TensorFlow must not be imported by the runtime')\n")
    image = lfw_root / lfw.IMAGES_SUBDIR / "Aaron_Peirsol/Aaron_Peirsol_0001.jpg"
    code = (
        "import sys, json\n"
        "from edgeface.runtime.tflite_mtcnn import TfliteMtcnnNets\n"
        "from edgeface.runtime.cascade import detect_faces\n"
        "from edgeface.runtime.images import read_rgb\n"
        f"faces = detect_faces(read_rgb({str(image)!r}), TfliteMtcnnNets({str(models_dir)!r}, 'int8'))\n"
        "assert 'tensorflow' not in sys.modules or sys.modules['tensorflow'] is None\n"
        "print(json.dumps([f.to_dict() for f in faces]))\n"
    )
    env = dict(os.environ, PYTHONPATH=f"{blocker.parent}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    faces = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(faces) >= 1 and faces[0]["score"] > 0.9
