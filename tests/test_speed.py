"""CPU speed work: PReLU split for XNNPACK int8, per-stage variant choice, the door profile, detect-then-track."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgeface.runtime import geometry
from edgeface.runtime.cascade import Face
from edgeface.runtime.tracking import TrackingDetector, seed_boxes
from clirunner import run_runtime_cli


# --- PReLU split ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("net, size", [("pnet", (40, 52)), ("rnet", ()), ("onet", ())])
def test_split_prelu_computes_the_same_function_without_a_prelu(net, size):
    from tensorflow import keras

    from edgeface.converters.export import fixed_batch
    from edgeface.converters.split_prelu import split_prelu
    from edgeface.models import mtcnn

    arrays = mtcnn.load_weight_arrays()
    model = fixed_batch(mtcnn.build_export_net(net, arrays, *size))
    split = split_prelu(model)
    assert not any(isinstance(layer, keras.layers.PReLU) for layer in split.layers)
    x = np.random.default_rng(3).uniform(-1, 1, (1, *model.input.shape[1:])).astype(np.float32)
    reference = sorted((np.asarray(o) for o in model(x)), key=lambda a: a.shape[-1])
    rewritten = sorted((np.asarray(o) for o in split(x)), key=lambda a: a.shape[-1])
    for a, b in zip(reference, rewritten, strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, atol=2e-5)


def test_the_int8_cpu_export_has_no_prelu_and_the_edgetpu_export_keeps_it(models_dir):
    from edgeface.runtime.interpreter import interpreter_from_bytes
    from edgeface.runtime.manifest import load_manifest

    manifest = load_manifest(models_dir)

    def ops(variant: str, role: str) -> set[str]:
        entry = manifest.find(role, variant)
        interpreter = interpreter_from_bytes((models_dir / entry.file).read_bytes(), default_delegates=False)
        return {op["op_name"] for op in interpreter._get_ops_details()}

    for role in ("pnet", "rnet", "onet"):
        assert "PRELU" not in ops("int8", role)
        assert "PRELU" in ops("edgetpu", role)
        assert "split" in manifest.find(role, "int8").calibration


# --- per-stage variant choice -----------------------------------------------------------------------------
def test_each_stage_runs_the_fastest_variant_unless_one_is_asked_for(models_dir):
    from edgeface.runtime.pipeline import open_runtime
    from edgeface.runtime.stage_choice import MARGIN

    pipeline = open_runtime(models_dir)
    stages = pipeline.detector.nets.variants
    assert pipeline.description["detector"] == ", ".join(f"{s} {v}" for s, v in stages.items())
    from edgeface.runtime.manifest import load_manifest
    from edgeface.runtime.stage_choice import probe_stages

    probe = probe_stages(models_dir, load_manifest(models_dir), "int8", (480, 640), 20.0, 0.709)
    assert set(probe.probe_ms) == {"pnet", "rnet", "onet"}
    # P-Net stays float on the CPU (the int8 P-Net misses clear faces; runtime/stage_choice.py)
    assert set(probe.probe_ms["pnet"]) == {"fp32"} and probe.variants["pnet"] == "fp32"
    assert stages["pnet"] == "fp32"
    for stage in ("rnet", "onet"):
        times = probe.probe_ms[stage]
        assert set(times) == {"int8", "fp32"}  # edgetpu is not a CPU candidate
        chosen = probe.variants[stage]
        assert chosen == "int8" or times[chosen] < MARGIN * times["int8"]
    asked = open_runtime(models_dir, "int8")
    assert asked.detector.nets.variants == dict.fromkeys(("pnet", "rnet", "onet"), "int8")


def test_the_anti_spoofing_pair_runs_its_fastest_measured_variant_unless_one_is_asked_for(models_dir):
    from edgeface.runtime.manifest import load_manifest
    from edgeface.runtime.pipeline import open_runtime
    from edgeface.runtime.stage_choice import MARGIN, probe_liveness

    manifest = load_manifest(models_dir)
    variant, times = probe_liveness(models_dir, manifest, "int8")
    assert set(times) == {"int8", "fp32"}  # the two measured on NUAA's test split; never fp16/dynamic/edgetpu
    assert variant == "int8" or times[variant] < MARGIN * times["int8"]
    assert probe_liveness(models_dir, manifest, "edgetpu") == ("edgetpu", {})  # the Coral runs its int8 graph
    pipeline = open_runtime(models_dir)
    assert pipeline.description["liveness"] == pipeline.liveness.scorer.variant in ("int8", "fp32")
    asked = open_runtime(models_dir, "fp32")
    assert asked.liveness.scorer.variant == "fp32" and asked.description["liveness"] == "fp32"
    given = open_runtime(models_dir, "int8", stage_variants={"liveness": "fp32"})  # the benchmark's auto row
    assert given.liveness.scorer.variant == "fp32" and set(given.detector.nets.variants.values()) == {"int8"}


def test_a_candidate_must_beat_the_default_by_the_margin():
    from edgeface.runtime.stage_choice import MARGIN, _fastest

    assert _fastest({"int8": 10.0, "fp32": 3.0}, "int8") == "fp32"
    assert _fastest({"int8": 10.0, "fp32": 10.0 * MARGIN + 0.01}, "int8") == "int8"  # noise does not flip it
    assert _fastest({}, "int8") == "int8" and _fastest({"fp32": 1.0}, "int8") == "int8"


# --- door profile -----------------------------------------------------------------------------------------
def test_a_door_profile_uses_the_tail_of_the_converted_pyramid():
    levels = lambda size: [geometry.scaled_size(480, 640, s) for s in geometry.pyramid_scales(480, 640, size, 0.709)]  # noqa: E731
    converted = levels(20.0)
    for wanted in (30.0, 80.0, 100.0, 150.0):
        snapped = geometry.snap_min_face(wanted, 20.0, 0.709)
        assert snapped <= wanted < snapped / 0.709  # never skips a face as large as asked
        assert set(levels(snapped)) <= set(converted)
    assert len(levels(geometry.snap_min_face(80.0, 20.0, 0.709))) == 6 and len(converted) == 10
    assert geometry.snap_min_face(12.0, 20.0, 0.709) == 12.0


# --- detect-then-track ------------------------------------------------------------------------------------
def face_at(x: float, y: float, side: float) -> Face:
    return Face(box=np.array([x, y, x + side, y + side], np.float32), score=0.99, landmarks=np.zeros((5, 2)))


def test_seed_boxes_are_squares_centred_on_each_face():
    boxes = seed_boxes([face_at(100, 50, 80)])
    assert boxes.shape == (2, 4)
    np.testing.assert_allclose((boxes[:, 0] + boxes[:, 2]) / 2, 140)
    np.testing.assert_allclose(boxes[:, 2] - boxes[:, 0], [80, 112])


def test_tracking_follows_a_walking_face_and_runs_the_pyramid_every_n_frames(models_dir, lfw_root):
    from edgeface.runtime.images import read_rgb
    from edgeface.runtime.pipeline import open_runtime
    from edgeface.synthetic import walk_up

    pipeline = open_runtime(models_dir, "int8")
    face = read_rgb(lfw_root / "lfw-deepfunneled/Aaron_Peirsol/Aaron_Peirsol_0001.jpg")
    frames = walk_up(face, 25, np.random.default_rng(0))
    follow = TrackingDetector.for_pipeline(pipeline, full_every=5)
    for frame in frames:
        tracked = follow.detect(frame)
        full = pipeline.detect(frame)
        assert len(tracked) == 1 and len(full) == 1
        # the same face: boxes overlap almost entirely
        assert geometry.iou(tracked[0].box, full[0].box) > 0.8
    assert follow.counts.full == 5 and follow.counts.tracked == 20
    # a lost face sends the next frame back to the full pyramid
    follow.detect(np.full_like(frames[0], 90))
    assert follow.counts.full == 6
    with pytest.raises(ValueError):
        TrackingDetector(pipeline.detect, full_every=0)


def test_bench_tracking_reports_frames_per_second_and_the_same_decisions(models_dir, lfw_root, tmp_path):
    out = tmp_path / "bench_tracking.json"
    result = run_runtime_cli(tmp_path, "bench-tracking", "--models", str(models_dir), "--variant", "int8", "--frames", "120",
                             "--out", str(out), "--lfw", str(lfw_root))
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(out.read_text())
    every, tracked = report["runs"]["full_detect_every_1"], report["runs"]["full_detect_every_10"]
    assert every["full_detections"] == 120 and every["tracked_frames"] == 0
    assert tracked["tracked_frames"] > 40 and tracked["full_detections"] + tracked["tracked_frames"] == 120
    assert tracked["same_visits_unlocked_as_every_frame"]
    assert every["frames_per_s"] > 0 and tracked["speedup_vs_every_frame"] > 0
    assert "frames/s" in result.stdout


def test_the_lock_refuses_a_tracking_period_below_one_frame():
    from edgeface.runtime.lock import LockConfig

    for bad in (0, -3, 2.5):
        with pytest.raises(ValueError, match="full-detect-every"):
            LockConfig(full_detect_every=bad)
    assert LockConfig().full_detect_every == 1  # tracking is opt-in until the NUAA difference is explained


def test_the_cpu_default_per_stage_keeps_p_net_float_where_the_folder_has_it():
    from edgeface.runtime.stage_choice import stage_defaults

    assert stage_defaults({"pnet": ["fp32", "fp16"], "rnet": ["int8", "fp32"], "onet": ["int8"]}, "int8") == \
        {"pnet": "fp32", "rnet": "int8", "onet": "int8"}
    # a folder without a float P-Net still runs (its int8 one), rather than none
    assert stage_defaults({"pnet": [], "rnet": ["int8"], "onet": ["int8"]}, "int8")["pnet"] == "int8"
    assert stage_defaults({"pnet": ["fp32"], "rnet": ["fp32"], "onet": ["fp32"]}, "fp32") == dict.fromkeys(
        ("pnet", "rnet", "onet"), "fp32")
