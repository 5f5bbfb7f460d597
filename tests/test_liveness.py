"""Presentation-attack detection: the MiniFASNet port, its crops, the lock's liveness gate, and the PAD metrics."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgeface.runtime.cascade import Face
from edgeface.runtime.liveness import BoxMap, LivenessCheck, checked_liveness, context_box, live_probability
from maintainer_scripts import load_script

REFERENCE = Path(__file__).parent / "data" / "minifasnet_torch_reference.npz"


def synthetic_inputs(count: int, seed: int) -> np.ndarray:
    """The same inputs scripts/minifasnet_reference.py fed the original PyTorch nets."""
    return load_script("minifasnet_reference").synthetic_inputs(count, seed)


# --- the port ------------------------------------------------------------------------------------------
def test_keras_port_reproduces_the_original_pytorch_logits():
    from edgeface.models.minifasnet import NETS, KerasMiniFasNets

    reference = np.load(REFERENCE)
    nets = KerasMiniFasNets()
    inputs = synthetic_inputs(int(reference["count"]), int(reference["seed"]))
    for role, key in NETS.items():
        ours = nets.logits(role, inputs)
        theirs = reference[f"{key}/synthetic_logits"]
        assert np.abs(ours - theirs).max() < 1e-4, role
        assert np.abs(theirs).max() > 3  # the inputs reach the nets' working range, not a flat 0
        faces = reference[f"{key}/sample_crops"].astype(np.float32)
        assert np.abs(nets.logits(role, faces) - reference[f"{key}/sample_logits"]).max() < 1e-4, role
    # the original's own verdicts on its sample images (F1, F2 photos of photos; T1 a live face)
    assert list(reference["sample_names"]) == ["image_F1.jpg", "image_F2.jpg", "image_T1.jpg"]
    live = np.mean([live_probability(reference[f"{key}/sample_logits"]) for key in NETS.values()], axis=0)
    assert live[2] > 0.9 and live[0] < 0.5 and live[1] < 0.5


def test_weights_file_is_read_without_pickle_and_every_array_is_used():
    from edgeface.models.minifasnet import NETS, build, load_weight_arrays

    arrays = load_weight_arrays()
    for role in NETS:
        model = build(role, arrays)  # raises if any array of the net is left unused
        assert model.output.shape[-1] == 3
    arrays["v2_scale2.7/extra.weight"] = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match="does not use"):
        build("liveness_v2", arrays)


def test_pytorch_reader_refuses_anything_but_a_state_dict():
    import pickle

    read_legacy_state_dict = load_script("convert_minifasnet_weights").read_legacy_state_dict

    class Evil:
        def __reduce__(self):
            return (print, ("ran",))

    data = pickle.dumps(0x1950A86A20F9469CFC6C) + pickle.dumps(1001) + pickle.dumps({}) + pickle.dumps(Evil())
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        read_legacy_state_dict(data)
    with pytest.raises(ValueError, match="magic"):
        read_legacy_state_dict(pickle.dumps(12345))


# --- crops -----------------------------------------------------------------------------------------------
def test_context_box_follows_the_original_crop_rule():
    # inside the image: enlarged about the centre
    assert context_box((480, 640), (300, 200, 40, 50), 2.0) == (280, 175, 360, 275)
    # near the left/top edge: shifted inside, size kept
    assert context_box((480, 640), (0, 0, 40, 50), 2.0) == (0, 0, 80, 100)
    # too large for the image: the scale shrinks to fit (min((h-1)/bh, (w-1)/bw, scale))
    x1, y1, x2, y2 = context_box((100, 100), (20, 20, 60, 60), 4.0)
    assert (x1, y1) == (0, 0) and x2 - x1 == 99 and y2 - y1 == 99


def test_box_map_moves_and_scales_about_the_centre():
    left, top, width, height = BoxMap(0.1, -0.2, 1.5, 0.5)(np.array([100, 100, 200, 300], np.float32))
    assert (width, height) == (150, 100)
    assert (left + width / 2, top + height / 2) == (160, 160)


def test_live_probability_is_the_softmax_of_class_one():
    logits = np.array([[0.0, 0.0, 0.0], [-50.0, 50.0, 0.0], [1000.0, 0.0, 0.0]])
    assert np.allclose(live_probability(logits), [1 / 3, 1.0, 0.0])


# --- operating point ------------------------------------------------------------------------------------
def test_an_edited_liveness_threshold_is_refused():
    from edgeface.runtime.manifest import ManifestError
    from edgeface.weights import checked_path, recorded_sums

    shipped = json.loads(checked_path("operating_points.json").read_text())["minifasnet"]
    point = {**shipped, "weights_sha256": recorded_sums()["minifasnet.npz"]}
    assert checked_liveness(point) == point
    with pytest.raises(ManifestError, match="edited"):
        checked_liveness({**point, "live_threshold": 0.01})
    with pytest.raises(ManifestError, match="outside"):
        checked_liveness({**point, "live_threshold": 1.5})
    assert checked_liveness({"live_threshold": 0.3, "weights_sha256": "other nets"})["live_threshold"] == 0.3


# --- the lock's gate ------------------------------------------------------------------------------------
class PixelScorer:
    """Live score = green channel of pixel (0, 0) / 255: frames say whether they are live."""

    def score(self, image, face):
        return float(image[0, 0, 1]) / 255


class OneFacePipeline:
    door_policy: dict = {}

    def __init__(self, vector: np.ndarray, liveness) -> None:
        self.vector, self.model_id, self.liveness = vector, "m", liveness
        self.embedder = type("E", (), {"dim": len(vector)})()

    def detect(self, image):
        return [Face(box=np.array([0, 0, 100, 100], np.float32), score=0.99, landmarks=np.zeros((5, 2), np.float32))]

    def embed_faces(self, image, faces):
        return self.vector[None]

    def threshold(self, given=None, strict=False):
        return 1.0 if given is None else given


def run_frames(live_flags: list[bool], liveness, config_liveness: bool = True):
    from edgeface.door_scenario import MemoryAudit, SilentAction
    from edgeface.runtime.actions import Door
    from edgeface.runtime.frames import Frame
    from edgeface.runtime.gallery import Gallery
    from edgeface.runtime.lock import LockConfig, run_lock

    vector = np.zeros(8, np.float32)
    vector[0] = 1
    gallery = Gallery(model="m", dim=8)
    gallery.add("ann", vector[None], [])

    def frames():
        for i, live in enumerate(live_flags):
            image = np.random.default_rng(i).integers(0, 255, (48, 64, 3), dtype=np.uint8)
            image[0, 0, 1] = 230 if live else 20
            yield Frame(i, i * 0.2, image, f"f{i}")

    audit = MemoryAudit()
    door = Door(SilentAction(), audit)
    try:
        stats = run_lock(frames(), OneFacePipeline(vector, liveness), gallery,
                         LockConfig(threshold=0.5, relock_s=100.0, liveness=config_liveness), door, audit)
    finally:
        door.close("test end")
    return stats, audit.records


def test_a_matching_face_that_is_not_live_never_votes():
    check = LivenessCheck(PixelScorer(), threshold=0.5)
    stats, records = run_frames([False] * 20, check)  # a resident's photo held up for 4 s
    assert stats.matches == 20 and stats.unlocks == 0 and stats.suspected_attacks == 20
    attacks = [r for r in records if r.get("action") == "suspected_attack"]
    assert len(attacks) == 20 and attacks[0]["nearest"] == "ann" and attacks[0]["live_score"] < 0.5
    assert not any(r.get("action") == "unlock" for r in records)
    # two live frames among photo frames are not three votes
    stats, _ = run_frames([False, True, False, True, False, False], check)
    assert stats.unlocks == 0
    stats, records = run_frames([False, True, True, False, True], check)
    assert stats.unlocks == 1 and stats.suspected_attacks == 2
    assert [r for r in records if r.get("action") == "liveness"][0]["result"] == "on"


def test_liveness_on_needs_nets_and_a_threshold_and_off_is_recorded_as_a_risk():
    from edgeface.runtime.lock import LockError

    with pytest.raises(LockError, match="no anti-spoofing nets"):
        run_frames([True], None)
    with pytest.raises(LockError, match="no liveness threshold"):
        run_frames([True], LivenessCheck(PixelScorer(), threshold=None))
    stats, records = run_frames([False] * 3, None, config_liveness=False)
    assert stats.unlocks == 1  # off: the photo opens the door, as the warning says
    off = [r for r in records if r.get("action") == "liveness"][0]
    assert off["result"] == "off" and "photo" in off["warning"]


# --- PAD metrics ----------------------------------------------------------------------------------------
def test_attempt_passes_needs_k_live_frames_within_n_consecutive():
    from edgeface.pad import attempt_passes

    assert attempt_passes(np.array([1, 0, 1, 0, 1], bool), 3, 5)
    assert not attempt_passes(np.array([1, 0, 0, 1, 0, 0, 1, 0, 0, 1], bool), 3, 5)
    assert not attempt_passes(np.array([1, 1], bool), 3, 5)  # fewer frames than votes needed
    assert attempt_passes(np.array([1, 1, 1], bool), 3, 5)


def make_nuaa(root: Path) -> Path:
    """A tiny folder in NUAA's layout: 2 live attempts and 2 print attempts of subject 0001 (plus a listed file
    that is missing, as in the public copy)."""
    db = root / "db"
    rng = np.random.default_rng(0)
    lists = {"client_train_raw.txt": [], "imposter_train_raw.txt": [], "client_test_raw.txt": [],
             "imposter_test_raw.txt": []}
    for folder, listing, kinds in (("ClientRaw", "client_test_raw.txt", ("0001_00_00_01", "0001_00_00_02")),
                                   ("ImposterRaw", "imposter_test_raw.txt", ("0001_00_01_01", "0001_00_02_01"))):
        for attempt in kinds:
            for picture in range(6):
                name = f"0001/{attempt}_{picture}.jpg"
                (db / folder / "0001").mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(db / folder / name), rng.integers(0, 255, (20, 20, 3), dtype=np.uint8))
                lists[listing].append(name.replace("/", "\\"))
    lists["client_test_raw.txt"].append("0009\\0009_00_00_01_1.jpg")  # listed, not present
    for name, lines in lists.items():
        (db / name).write_text("\r\n".join(lines) + "\r\n")
    return db


def test_nuaa_layout_groups_frames_into_attempts_and_counts_missing_files(tmp_path):
    from edgeface.pad import load_frames

    frames, missing = load_frames(make_nuaa(tmp_path), "test", every=2)
    assert missing == 1
    assert len(frames) == 4 * 3
    assert {f.attempt for f in frames} == {"live/0001_00_00_01", "live/0001_00_00_02", "print/0001_00_01_01",
                                           "print/0001_00_02_01"}
    assert [f.order for f in frames if f.attempt == "live/0001_00_00_01"] == [0, 2, 4]


def test_pad_report_counts_attempts_frames_and_bounds(tmp_path):
    from edgeface.pad import PadFrame, dev_threshold, frame_auc, pad_report

    frames, scores = [], []
    for a in range(4):  # live attempts: the first has only 2 live frames of 6
        for i in range(6):
            frames.append(PadFrame(Path(f"l{a}_{i}"), "live", f"live/{a}", i))
            scores.append(0.9 if (a > 0 or i < 2) else 0.2)
    for a in range(3):  # print attempts: the last one fools 3 consecutive frames
        for i in range(6):
            frames.append(PadFrame(Path(f"p{a}_{i}"), "print", f"print/{a}", i))
            scores.append(0.8 if (a == 2 and i in (1, 2, 3)) else 0.1)
    frames.append(PadFrame(Path("s0"), "screen", "screen/0", 0))
    scores.append(np.nan)  # no face: never live
    scores = np.array(scores)
    report = pad_report(frames, scores, threshold=0.5, k=3, n=5)
    live, printed, screen = (report["by_type"][k] for k in ("live", "print", "screen"))
    assert live["bpcer_attempts"]["count"] == 1 and live["bpcer_attempts"]["of"] == 4
    assert live["bpcer_frames"]["count"] == 4 and live["bpcer_frames"]["of"] == 24
    assert printed["apcer_attempts"]["count"] == 1 and printed["apcer_frames"]["count"] == 3
    assert screen["frames_without_face"] == 1 and screen["apcer_attempts"]["count"] == 0
    assert report["worst_attack_type"] == "print"
    assert 0.25 < printed["apcer_attempts"]["upper_95"] < 1  # 1 of 3 is not a rate to trust
    # AUC against brute force over all (live, attack) pairs
    values = np.nan_to_num(scores, nan=-1.0)
    is_live = np.array([f.kind == "live" for f in frames])
    pairs = values[is_live][:, None] - values[~is_live][None, :]
    assert frame_auc(frames, scores) == pytest.approx(((pairs > 0) + 0.5 * (pairs == 0)).mean())
    # the development threshold refuses at most the asked share of live frames
    threshold = dev_threshold(frames, scores, 0.10)
    live_scores = values[is_live]
    assert (live_scores < threshold).mean() <= 0.10 and threshold == 0.2


def test_liveness_nets_are_exported_measured_and_run_from_the_models_folder(models_dir, lfw_root):
    from edgeface.models.minifasnet import KerasMiniFasNets
    from edgeface.runtime.cascade import pick_face
    from edgeface.runtime.images import read_rgb
    from edgeface.runtime.liveness import TfliteLiveness
    from edgeface.runtime.manifest import load_manifest
    from edgeface.runtime.pipeline import open_runtime

    manifest = load_manifest(models_dir)
    for role in ("liveness_v2", "liveness_v1se"):
        assert {"int8", "edgetpu"} <= set(manifest.variants(role))
        assert manifest.find(role, "int8").accuracy["live_score_vs_float"]["faces"] > 20
    assert manifest.liveness["live_threshold"] > 0.5
    pipeline = open_runtime(models_dir, "int8")
    assert pipeline.liveness is not None and pipeline.liveness.threshold == manifest.liveness["live_threshold"]
    image = read_rgb(lfw_root / "lfw-deepfunneled" / "Colin_Powell" / "Colin_Powell_0001.jpg")
    face = pick_face(pipeline.detect(image), image.shape)
    exported = TfliteLiveness(models_dir, "int8").net_scores(image, face)
    reference = KerasMiniFasNets().net_scores(image, face)
    assert set(exported) == set(reference)
    for role in exported:
        assert abs(exported[role] - reference[role]) < 0.25, (role, exported, reference)


def test_lock_run_with_liveness_on_lets_only_live_judged_frames_vote(models_dir, lfw_root, tmp_path):
    """Through the runtime-only CLI: every frame that matched the resident either voted with a live score at or
    above the models' threshold, or was recorded as a suspected attack with its (lower) score."""
    from clirunner import run_runtime_cli

    from edgeface.runtime.manifest import load_manifest

    threshold = load_manifest(models_dir).liveness["live_threshold"]
    person = lfw_root / "lfw-deepfunneled" / "Colin_Powell"
    enrol, frames = tmp_path / "enrol", tmp_path / "frames"
    enrol.mkdir()
    frames.mkdir()
    for n in range(1, 9):
        (enrol / f"{n:04d}.jpg").write_bytes((person / f"Colin_Powell_{n:04d}.jpg").read_bytes())
    for n in range(20, 40):
        (frames / f"{n:04d}.jpg").write_bytes((person / f"Colin_Powell_{n:04d}.jpg").read_bytes())
    common = ["--models", str(models_dir), "--gallery", str(tmp_path / "g.json")]
    result = run_runtime_cli(tmp_path, "lock", "enroll", "Colin Powell", "--images", str(enrol), *common)
    assert result.returncode == 0, result.stderr[-2000:]
    result = run_runtime_cli(tmp_path, "lock", "run", "--images", str(frames), "--relock", "0.5",
                             "--audit", str(tmp_path / "a.jsonl"), *common)
    assert result.returncode == 0, result.stderr[-2000:]
    first = next(line for line in result.stderr.splitlines() if line.startswith("threshold "))  # said before the loop
    assert f"liveness on, threshold {threshold}" in first
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    records = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert [r for r in records if r["action"] == "liveness"][0]["threshold"] == threshold
    voting = [r for r in records if r.get("person") == "Colin Powell"]
    attacks = [r for r in records if r["action"] == "suspected_attack"]
    assert voting or attacks  # the resident matched in some frames
    assert all(r["live_score"] >= threshold for r in voting)
    assert all(r["live_score"] < threshold and r["nearest"] == "Colin Powell" for r in attacks)
    assert summary["suspected_attacks"] == len(attacks)
    assert summary["matches"] == len(voting) + len(attacks)


def lfw_nuaa(lfw_root: Path, tmp_path: Path) -> Path:
    """A NUAA-layout folder made of one LFW person's photos: 8 'live' training frames, a 10-frame 'live' test
    attempt and two 10-frame 'print' test attempts (photos of the same kind: the layout is what is tested)."""
    person = lfw_root / "lfw-deepfunneled" / "Tony_Blair"
    photos = sorted(person.glob("*.jpg"))
    db = tmp_path / "db"
    lists = {}
    layout = {("ClientRaw", "client_train_raw.txt"): [("0001_00_00_01", photos[0:8])],
              ("ClientRaw", "client_test_raw.txt"): [("0001_00_00_02", photos[8:18])],
              ("ImposterRaw", "imposter_train_raw.txt"): [],
              ("ImposterRaw", "imposter_test_raw.txt"): [("0001_00_01_01", photos[18:28]),
                                                         ("0001_00_02_01", photos[28:38])]}
    for (folder, listing), attempts in layout.items():
        lines = lists.setdefault(listing, [])
        for attempt, files in attempts:
            for picture, file in enumerate(files):
                (db / folder / "0001").mkdir(parents=True, exist_ok=True)
                (db / folder / "0001" / f"{attempt}_{picture}.jpg").write_bytes(file.read_bytes())
                lines.append(f"0001\\{attempt}_{picture}.jpg")
    for listing, lines in lists.items():
        (db / listing).write_text("\n".join(lines) + "\n")
    return db


def test_eval_pad_runs_from_the_runtime_only_install(models_dir, lfw_root, tmp_path):
    from clirunner import run_runtime_cli

    db = lfw_nuaa(lfw_root, tmp_path)
    out = tmp_path / "pad.json"
    result = run_runtime_cli(tmp_path, "eval-pad", str(db), "--models", str(models_dir), "--out", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["by_type"]["live"]["attempts"] == 1 and report["by_type"]["print"]["attempts"] == 2
    assert report["by_type"]["print"]["apcer_frames"]["of"] == 20 and len(report["frames"]) == 30
    assert report["threshold"] == models_dir_threshold(models_dir) and report["data"] == "db"
    assert "APCER" in result.stdout and "BPCER" in result.stdout
    result = run_runtime_cli(tmp_path, "eval-pad", str(tmp_path / "nowhere"), "--models", str(models_dir))
    assert result.returncode == 2 and "not a folder" in result.stderr


def models_dir_threshold(models_dir: Path) -> float:
    from edgeface.runtime.manifest import load_manifest

    return load_manifest(models_dir).liveness["live_threshold"]


def test_attack_scenario_replays_nuaa_style_visits_through_the_lock(models_dir, lfw_root, tmp_path):
    """A NUAA-layout folder made of one LFW person's photos: enrolled from the 'live' training frames, visited by
    'live' test attempts and 'print' test attempts (the same kind of photos). With liveness off, recognition alone
    decides and the photos open the door; the report's counts add up either way."""
    from edgeface.pad_scenario import AttackScenarioConfig, run_attack_scenario
    from edgeface.runtime.lock import LockConfig
    from edgeface.runtime.pipeline import open_runtime

    db = lfw_nuaa(lfw_root, tmp_path)
    pipeline = open_runtime(models_dir, "int8")
    config = AttackScenarioConfig(every=1, visit_frames=5, enrol_every=1)
    off = run_attack_scenario(db, pipeline, LockConfig(liveness=False), config)
    assert off["subjects"] == 1 and off["resident_visits"] == 2 and off["attack_visits"] == 4
    assert off["attack_visits_let_in"] >= 3  # the resident's own photos: recognition alone lets them in
    assert off["liveness_threshold"] is None and off["suspected_attack_frames"] == 0
    on = run_attack_scenario(db, pipeline, LockConfig(), config)
    assert on["liveness_threshold"] == pipeline.liveness.threshold
    assert on["attack_visits_let_in"] <= off["attack_visits_let_in"]
    assert on["resident_visits_let_in"] + on["resident_visits_refused"] == 2
