"""Quantization-aware training of the NNS2 FaceNet (`edgeface convert --qat`), on real LFW calibration faces."""

from __future__ import annotations

import json

import numpy as np

from edgeface.converters.qat import QatConfig

def test_keras2_copy_computes_the_same_embedding():
    from edgeface.converters.qat import keras2_copy
    from edgeface.models.facenet import INPUT_SIZE, build_nns2
    from edgeface.weights import checked_path

    model = build_nns2(normalize=False)
    model.load_weights(str(checked_path("nns2_facenet.weights.h5")))
    copy = keras2_copy(model, INPUT_SIZE)
    x = np.random.default_rng(0).uniform(-1, 1, (3, INPUT_SIZE, INPUT_SIZE, 3)).astype(np.float32)
    np.testing.assert_allclose(copy(x).numpy(), model(x).numpy(), atol=1e-4)


def test_qat_export_replaces_the_int8_facenet_and_reports_both(lfw_root, tmp_path):
    """A short QAT run on a few calibration faces: the int8 FaceNet in the folder is the QAT one (its calibration
    text says so), it still embeds like the float model, and the post-training model's agreement is kept."""
    from edgeface.calibration.lfw_sets import CalibrationConfig
    from edgeface.converters.export import ConvertConfig, Exporter
    from edgeface.runtime.manifest import Manifest

    config = ConvertConfig(out_dir=tmp_path, variants=("fp32", "int8"), lfw_root=lfw_root,
                           calibration=CalibrationConfig(images=40), agreement_images=30,
                           qat=QatConfig(steps=40, batch_size=16), qat_images=60)
    exporter = Exporter(config, log=print)
    exporter.export_facenet()
    entry = Manifest(models=exporter.entries).find("facenet", "int8")
    assert "quantization-aware training: 40 steps" in entry.calibration
    post_training = entry.accuracy["post_training"]
    assert post_training["mean_cosine"] > 0.98, json.dumps(post_training)
    qat = exporter.facenet_agreement(entry)
    assert qat["mean_cosine"] > 0.98, json.dumps(qat)
    assert [e.variant for e in exporter.entries if e.role == "facenet"].count("int8") == 1


def test_qat_is_deterministic():
    """Same inputs, same seed → byte-identical int8 files (the converter's promise holds with --qat too)."""
    from edgeface.converters.export import representative
    from edgeface.converters.qat import quantization_aware
    from edgeface.converters.quantize import convert
    from edgeface.models.facenet import INPUT_SIZE, build_nns2
    from edgeface.weights import checked_path

    model = build_nns2(normalize=False)
    model.load_weights(str(checked_path("nns2_facenet.weights.h5")))
    faces = np.random.default_rng(5).uniform(-1, 1, (12, INPUT_SIZE, INPUT_SIZE, 3)).astype(np.float32)
    files = [convert(quantization_aware(model, faces, QatConfig(steps=6, batch_size=8), log=print), "int8",
                     representative(faces[:4])) for _ in range(2)]
    assert files[0] == files[1]
