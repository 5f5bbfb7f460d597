"""The door lock: decision rule, gallery file, enrolment quality, actions, and the CLI on real LFW faces."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgeface import lfw
from edgeface.runtime import gallery as gallery_module
from edgeface.runtime.actions import ActionError, AuditLog, make_action
from edgeface.runtime.cascade import Face
from edgeface.runtime.gallery import Gallery, GalleryError, load_gallery
from edgeface.runtime.lock import DecisionTracker, LockConfig, QualityConfig, face_quality
from clirunner import run_runtime_cli
from vectors import unit_vectors



# --- decision rule -----------------------------------------------------------------------------------------
def feed(tracker: DecisionTracker, events: list[tuple[float, str | None]]) -> list[str | None]:
    return [tracker.update(t, p)[0] for t, p in events]


def test_unlocks_on_k_of_last_n_matches():
    tracker = DecisionTracker(LockConfig(k=3, n=5, window_s=3.0))
    assert feed(tracker, [(0.0, "ann"), (0.2, "ann"), (0.4, None), (0.6, "ann")]) == [None, None, None, "ann"]


def test_interleaved_people_need_k_each():
    tracker = DecisionTracker(LockConfig(k=3, n=5, window_s=10.0))
    decisions = feed(tracker, [(0, "ann"), (1, "bob"), (2, "ann"), (3, "bob"), (4, "ann")])
    assert decisions == [None, None, None, None, "ann"]


def test_old_votes_fall_out_of_the_window_and_out_of_n():
    tracker = DecisionTracker(LockConfig(k=3, n=5, window_s=3.0))
    assert feed(tracker, [(0.0, "ann"), (1.0, "ann"), (5.0, "ann")]) == [None, None, None]
    tracker = DecisionTracker(LockConfig(k=3, n=3, window_s=100.0))
    assert feed(tracker, [(0, "ann"), (1, "ann"), (2, None), (3, "ann")]) == [None, None, None, None]


def test_k_larger_than_n_is_refused():
    with pytest.raises(ValueError):
        LockConfig(k=4, n=3)


# --- gallery file ------------------------------------------------------------------------------------------
def save_signed(book: Gallery, path: Path) -> bytes:
    """Save as the first enrolment does: the key is created (0600) beside the gallery."""
    key = gallery_module.create_key(path)
    book.save(path, key)
    return key


def test_gallery_round_trip_and_nearest(tmp_path):
    book = Gallery(model="abc")
    ann, bob = unit_vectors(3, 1), unit_vectors(2, 2)
    book.add("ann", ann, ["a1", "a2", "a3"])
    book.add("bob", bob, ["b1", "b2"])
    path = tmp_path / "gallery.json"
    save_signed(book, path)
    loaded = load_gallery(path)
    assert sorted(loaded.people) == ["ann", "bob"]
    np.testing.assert_allclose(loaded.people["ann"].embeddings, ann, atol=1e-6)
    assert loaded.nearest(bob[1])[0] == "bob" and loaded.nearest(bob[1])[1] < 1e-5
    loaded.remove("ann")
    with pytest.raises(GalleryError, match="not enrolled"):
        loaded.remove("ann")


def test_truncated_tampered_and_newer_galleries_are_refused(tmp_path):
    book = Gallery(model="abc")
    book.add("ann", unit_vectors(2, 1), [])
    path = tmp_path / "gallery.json"
    key = save_signed(book, path)
    text = path.read_text()
    (tmp_path / "torn.json").write_text(text[: len(text) // 2])
    with pytest.raises(GalleryError, match="truncated"):
        load_gallery(tmp_path / "torn.json", key)
    data = json.loads(text)
    data["people"][0]["embeddings"][0][0] += 0.5
    (tmp_path / "edited.json").write_text(json.dumps(data))
    with pytest.raises(GalleryError, match="signature"):
        load_gallery(tmp_path / "edited.json", key)
    data = json.loads(text)
    data["version"] = gallery_module.VERSION + 1
    (tmp_path / "newer.json").write_text(json.dumps(data))
    with pytest.raises(GalleryError, match="version"):
        load_gallery(tmp_path / "newer.json", key)
    with pytest.raises(GalleryError, match="another FaceNet"):
        with gallery_module.locked_gallery(path, "other-model"):
            pass


def test_a_failed_save_leaves_the_previous_gallery_intact(tmp_path, monkeypatch):
    path = tmp_path / "gallery.json"
    book = Gallery(model="abc")
    book.add("ann", unit_vectors(2, 1), [])
    key = save_signed(book, path)
    before = path.read_bytes()
    book.add("bob", unit_vectors(2, 2), [])

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError):
        book.save(path, key)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gallery.json", "gallery.json.key"]  # no temporary file


# --- enrolment quality -------------------------------------------------------------------------------------
def frontal_face(size: float = 120.0, roll_deg: float = 0.0, yaw: float = 0.0) -> Face:
    eye_distance = 0.4 * size
    landmarks = np.array([[-0.5, 0.0], [0.5, 0.0], [yaw, 0.5], [-0.4, 1.0], [0.4, 1.0]]) * eye_distance
    angle = np.radians(roll_deg)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    landmarks = landmarks @ rotation.T + 200
    return Face(np.array([200 - size / 2, 180, 200 + size / 2, 180 + size]), 0.99, landmarks)


def sharp_crop() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (112, 112, 3), dtype=np.uint8)


def test_quality_accepts_a_good_face_and_names_each_problem():
    config = QualityConfig()
    assert face_quality(frontal_face(), sharp_crop(), config)[1] is None
    assert "too small" in face_quality(frontal_face(size=40), sharp_crop(), config)[1]
    assert "tilted" in face_quality(frontal_face(roll_deg=35), sharp_crop(), config)[1]
    assert "sideways" in face_quality(frontal_face(yaw=0.5), sharp_crop(), config)[1]
    blurred = cv2.GaussianBlur(np.full((112, 112, 3), 128, np.uint8), (9, 9), 5)
    assert "blurred" in face_quality(frontal_face(), blurred, config)[1]


# --- actions and audit -------------------------------------------------------------------------------------
def test_command_action_gets_event_and_person(tmp_path):
    out = tmp_path / "events.txt"
    action = make_action(f"command:sh -c 'echo $EDGEFACE_EVENT:$EDGEFACE_PERSON >> {out}'")
    action.unlock("ann")
    action.relock()
    assert out.read_text().split() == ["unlock:ann", "relock:"]
    with pytest.raises(ActionError, match="exited 3"):
        make_action("command:sh -c 'exit 3'").unlock("ann")


def test_bad_action_specs_are_refused():
    for spec in ("door", "gpio:seventeen", "command:"):
        with pytest.raises(ActionError):
            make_action(spec)


def test_audit_log_only_appends(tmp_path):
    path = tmp_path / "audit.jsonl"
    for run in range(2):
        log = AuditLog(path)
        log.write({"run": run, "action": "unlock"})
        log.close()
    assert [json.loads(line)["run"] for line in path.read_text().splitlines()] == [0, 1]


# --- the CLI on LFW, runtime only (TensorFlow import blocked) -----------------------------------------------
def lfw_files(root: Path, person: str, numbers) -> list[Path]:
    return [root / lfw.IMAGES_SUBDIR / person / f"{person}_{n:04d}.jpg" for n in numbers]


def copy_frames(paths: list[Path], folder: Path, start: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for k, path in enumerate(paths):
        (folder / f"{start + k:04d}.jpg").write_bytes(path.read_bytes())


def test_lock_enrol_run_remove_without_tensorflow(models_dir, lfw_root, tmp_path):
    common = ["--models", str(models_dir), "--gallery", str(tmp_path / "gallery.json")]
    off = ["--liveness", "off"]  # the frames are LFW photos: this test is about recognition (see test_liveness)
    enrol = tmp_path / "enrol"
    copy_frames(lfw_files(lfw_root, "Colin_Powell", range(1, 9)), enrol)
    (enrol / "9998.jpg").write_bytes(b"")  # an empty file is refused with a reason, not a crash
    cv2.imwrite(str(enrol / "9999.png"), np.full((200, 200), 90, np.uint8))  # no face
    result = run_runtime_cli(tmp_path, "lock", "enroll", "Colin Powell", "--images", str(enrol), "--shots", "4", *common)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "enrolled Colin Powell: 4 shots" in result.stdout
    assert "9998.jpg: " in result.stderr and "no face found" in result.stderr

    frames = tmp_path / "frames"
    copy_frames(lfw_files(lfw_root, "Colin_Powell", range(20, 25)), frames)  # held-out photos: should unlock
    copy_frames(lfw_files(lfw_root, "Gloria_Macapagal_Arroyo", range(1, 6)), frames, 5)  # a stranger: no unlock
    (frames / "0010.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    cv2.imwrite(str(frames / "0011.png"), np.zeros((480, 640, 3), np.uint8))  # dead camera frame
    events = tmp_path / "events.txt"
    result = run_runtime_cli(tmp_path, "lock", "run", "--images", str(frames), "--fps", "5", "--relock", "1.0",
                             "--audit", str(tmp_path / "audit.jsonl"), *off,
                             "--action", f"command:sh -c 'echo $EDGEFACE_EVENT:$EDGEFACE_PERSON >> {events}'", *common)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    # one resident: the shipped door policy's threshold for the default target, said before the loop starts
    from edgeface.runtime.operating_point import DOOR_POLICY
    from edgeface.weights import shipped_point

    one_resident = shipped_point("nns2")[DOOR_POLICY]["by_target"]["0.0001"]["1"]
    assert any(line.startswith(f"threshold {one_resident} (door policy: stranger visits let in <= 0.0001")
               and "WARNING: liveness detection is off" in line for line in result.stderr.splitlines()), result.stderr[-2000:]
    assert summary["threshold"] == one_resident and "door policy" in summary["threshold_how"]
    assert summary["unlock_people"] == {"Colin Powell": 1}
    assert summary["unreadable"] == 1 and summary["dead"] == 1
    # relock on start (fail safe), the unlock, its timed relock, relock on exit
    assert events.read_text().splitlines() == ["relock:", "unlock:Colin Powell", "relock:", "relock:"]
    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [r["action"] for r in records].count("unlock") == 1
    assert [r["reason"] for r in records if r["action"] == "relock"] == ["start", "timer", "exit"]
    stranger = [r for r in records if r.get("frame") in range(5, 10) and "faces" in r]
    assert stranger and all(r["person"] == "unknown" for r in stranger)

    result = run_runtime_cli(tmp_path, "lock", "list", "--gallery", str(tmp_path / "gallery.json"))
    assert result.returncode == 0 and "Colin Powell\t4 shots" in result.stdout
    gallery_text = (tmp_path / "gallery.json").read_text()
    (tmp_path / "gallery.json").write_text(gallery_text[:300])
    result = run_runtime_cli(tmp_path, "lock", "run", "--images", str(frames), *common)
    assert result.returncode == 2 and "truncated" in result.stderr
    (tmp_path / "gallery.json").write_text(gallery_text)
    result = run_runtime_cli(tmp_path, "lock", "remove", "Colin Powell", "--gallery", str(tmp_path / "gallery.json"))
    assert result.returncode == 0 and "0 people left" in result.stdout


def test_bad_frames_are_logged_and_the_loop_goes_on(models_dir, lfw_root, tmp_path):
    from PIL import Image

    frames = tmp_path / "frames"
    copy_frames(lfw_files(lfw_root, "Colin_Powell", range(1, 3)), frames)
    (frames / "0100_empty.jpg").write_bytes(b"")
    (frames / "0101_junk.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    cv2.imwrite(str(frames / "0102_huge.png"), np.zeros((8200, 8000), np.uint8))
    face = cv2.imread(str(lfw_files(lfw_root, "Colin_Powell", [3])[0]))
    cv2.imwrite(str(frames / "0103_grey.png"), cv2.cvtColor(face, cv2.COLOR_BGR2GRAY))
    cv2.imwrite(str(frames / "0104_alpha.png"), cv2.cvtColor(face, cv2.COLOR_BGR2BGRA))
    Image.fromarray(face[:, :, ::-1]).convert("CMYK").save(frames / "0105_cmyk.jpg")
    book = Gallery(model="whatever")
    book.add("someone", unit_vectors(1, 3), [])
    key = save_signed(book, tmp_path / "g.json")
    common = ["--models", str(models_dir), "--gallery", str(tmp_path / "g.json"), "--audit", str(tmp_path / "a.jsonl")]
    result = run_runtime_cli(tmp_path, "lock", "run", "--images", str(frames), *common)
    assert result.returncode == 2 and "another FaceNet" in result.stderr  # a gallery from another model
    from edgeface.runtime.pipeline import open_runtime

    book.model = open_runtime(models_dir, "int8").model_id
    book.save(tmp_path / "g.json", key)
    result = run_runtime_cli(tmp_path, "lock", "run", "--images", str(frames), *common)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["frames"] == 8 and summary["unreadable"] == 3 and summary["with_faces"] == 5
    skipped = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    reasons = " ".join(r.get("error", "") for r in skipped if r["action"] == "skip")
    assert "empty" in reasons and "not a readable image" in reasons and "too large" in reasons

    broken = tmp_path / "broken_models"
    shutil.copytree(models_dir, broken)
    (broken / "manifest.json").write_text('{"models": [')
    result = run_runtime_cli(tmp_path, "lock", "run", "--images", str(frames), "--models", str(broken),
                             "--gallery", str(tmp_path / "g.json"))
    assert result.returncode == 2 and "manifest" in result.stderr and "Traceback" not in result.stderr


def test_enrol_refuses_a_folder_without_a_usable_face(models_dir, tmp_path):
    folder = tmp_path / "nobody"
    folder.mkdir()
    cv2.imwrite(str(folder / "wall.png"), np.full((240, 320, 3), 200, np.uint8))
    result = run_runtime_cli(tmp_path, "lock", "enroll", "Nobody", "--images", str(folder), "--models", str(models_dir),
                             "--gallery", str(tmp_path / "g.json"))
    assert result.returncode == 1 and "nothing enrolled" in result.stderr
    assert not (tmp_path / "g.json").exists()


def test_detect_embed_compare_run_on_the_runtime_alone(models_dir, lfw_root, tmp_path):
    a1, a2 = lfw_files(lfw_root, "Colin_Powell", (1, 2))
    (other,) = lfw_files(lfw_root, "Gloria_Macapagal_Arroyo", (1,))
    result = run_runtime_cli(tmp_path, "detect", str(a1), "--models", str(models_dir))
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.splitlines()[0])["score"] > 0.9
    assert "accelerator cpu" in result.stderr  # says which it uses
    result = run_runtime_cli(tmp_path, "embed", str(a1), "--models", str(models_dir), "--out", str(tmp_path / "e.npy"))
    assert result.returncode == 0, result.stderr[-2000:]
    vector = np.load(tmp_path / "e.npy")
    assert vector.shape == (1, 128) and abs(np.linalg.norm(vector) - 1) < 1e-4
    result = run_runtime_cli(tmp_path, "compare", str(a1), str(a2), str(other), "--models", str(models_dir))
    assert result.returncode == 0, result.stderr[-2000:]
    lines = {line.split(":")[0]: line for line in result.stdout.splitlines() if " vs " in line}
    assert lines[f"{a1.name} vs {a2.name}"].endswith("same person")
    assert lines[f"{a1.name} vs {other.name}"].endswith("different people")
    result = run_runtime_cli(tmp_path, "detect", str(a1))  # no --models and no TensorFlow: say what to do
    assert result.returncode == 2 and "--models" in result.stderr


def test_door_scenario_accepts_enrolled_people_and_refuses_strangers(models_dir, lfw_root):
    from edgeface.door_scenario import ScenarioConfig, run_scenario
    from edgeface.runtime.pipeline import open_runtime

    from edgeface.runtime.lock import LockConfig

    report = run_scenario(lfw_root, open_runtime(models_dir, "int8"),
                          ScenarioConfig(households=1, enrolled_people=2, visits_per_person=3, strangers=8),
                          LockConfig(liveness=False))  # LFW photos: recognition only (test_liveness has the gate)
    assert report["genuine_visits"] == 6 and report["impostor_visits"] == 8
    assert report["true_accepts"] >= 5
    assert report["false_accepts"] == 0


# --- frame sources -----------------------------------------------------------------------------------------
class FakeCamera:
    """A cv2.VideoCapture stand-in: some good frames, then a camera that stops answering."""

    def __init__(self, good: int) -> None:
        self.good, self.released = good, False

    def isOpened(self) -> bool:  # noqa: N802 (OpenCV's name)
        return True

    def get(self, prop) -> float:
        return 0.0

    def read(self):
        if self.good > 0:
            self.good -= 1
            return True, np.full((48, 64, 3), 100, np.uint8)
        return False, None

    def release(self) -> None:
        self.released = True


def test_a_camera_that_stops_answering_ends_the_stream_with_a_message(monkeypatch):
    from edgeface.runtime import frames as frames_module
    from edgeface.runtime.images import ImageError

    monkeypatch.setattr(frames_module.time, "sleep", lambda s: None)
    camera = FakeCamera(good=3)
    stream = frames_module.capture_frames(camera, "camera 0", live=True, max_failures=5)
    got = [next(stream) for _ in range(3)]
    assert [f.image.shape for f in got] == [(48, 64, 3)] * 3 and got[0].image[0, 0].tolist() == [100, 100, 100]
    with pytest.raises(ImageError, match="stopped delivering frames"):
        next(stream)
    assert camera.released


def test_a_video_file_is_timed_by_frame_number_and_ends_cleanly(tmp_path):
    from edgeface.runtime.frames import open_frames

    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 4.0, (64, 48))
    for k in range(6):
        writer.write(np.full((48, 64, 3), 40 * k, np.uint8))
    writer.release()
    frames = list(open_frames(video=path))
    assert len(frames) == 6 and [f.time for f in frames] == [k / 4.0 for k in range(6)]
    with pytest.raises(ValueError, match="exactly one"):
        open_frames(video=path, images=tmp_path)
