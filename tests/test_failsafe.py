"""The lock fails safe: each finding of the adversarial run, re-run.

Numbers refer to the findings of the issue "The lock fails safe": 1 live gallery changes, 2 relock on every
exit, 3 gallery and threshold authority, 4 enrolment that cannot be poisoned by accident, 5 one writer,
6 intent before action, 7 option values, 9 audit rotation and full disk, 10 file modes, 11 hostile files/names.
(8, decompression bombs: tests/test_images.py.)
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from edgeface import lfw
from edgeface.runtime import gallery as gallery_module
from edgeface.runtime.actions import AuditLog, Door
from edgeface.runtime.cascade import Face
from edgeface.runtime.frames import Frame
from edgeface.runtime.gallery import Gallery, GalleryError, GalleryWatcher, load_gallery, locked_gallery
from edgeface.runtime.lock import LockConfig, check_consistency, run_lock
from clirunner import run_runtime_cli
from vectors import unit_vectors


def signed_gallery(path: Path, **people: np.ndarray) -> bytes:
    book = Gallery(model="m")
    for name, vectors in people.items():
        book.add(name, vectors, [f"{name}{i}" for i in range(len(vectors))])
    key = gallery_module.create_key(path)
    book.save(path, key)
    return key


class RecordingAction:
    def __init__(self, unlock_s: float = 0.0, relock_failures: int = 0, audit_path: Path | None = None) -> None:
        self.events: list[str] = []
        self.unlock_s, self.relock_failures, self.audit_path = unlock_s, relock_failures, audit_path
        self.audit_at_unlock: str = ""

    def unlock(self, person: str) -> None:
        if self.audit_path is not None:
            self.audit_at_unlock = self.audit_path.read_text()
        time.sleep(self.unlock_s)
        self.events.append(f"unlock:{person}")

    def relock(self) -> None:
        if self.relock_failures > 0:
            self.relock_failures -= 1
            raise OSError("relay not answering")
        self.events.append("relock")

    def close(self) -> None:
        self.events.append("close")


class FakePipeline:
    """Every frame shows one face whose embedding is the frame's image[0, 0, 0]-th vector of `vectors`."""

    door_policy: dict = {}

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors, self.model_id = vectors, "m"
        self.embedder = type("E", (), {"dim": 128})()

    def detect(self, image):
        return [Face(box=np.array([0, 0, 100, 100], np.float32), score=0.99, landmarks=np.zeros((5, 2), np.float32))]

    def embed_faces(self, image, faces):
        return self.vectors[int(image[0, 0, 0])][None]

    def threshold(self, given=None, strict=False):
        return 1.0 if given is None else given


def frame(index: int, vector_index: int, fps: float = 5.0) -> Frame:
    image = np.random.default_rng(index).integers(0, 255, (48, 64, 3), dtype=np.uint8)  # not a dead frame
    image[0, 0, 0] = vector_index
    return Frame(index, index / fps, image, f"f{index}")


# --- 1: a removed person is refused while the loop runs ----------------------------------------------------
def test_removing_a_person_applies_to_the_running_loop(tmp_path):
    path = tmp_path / "g.json"
    ann = unit_vectors(1, 1)
    signed_gallery(path, ann=ann, bob=unit_vectors(1, 2))
    watcher = GalleryWatcher(path, "m", check_s=0.0)
    audit = AuditLog(tmp_path / "audit.jsonl")
    door = Door(RecordingAction(), audit)

    def frames():
        for index in range(60):
            if index == 20:
                from edgeface.runtime.lock import remove

                remove(path, "ann")
            yield frame(index, 0)  # always ann's face

    stats = run_lock(frames(), FakePipeline(ann), watcher, LockConfig(relock_s=0.5, threshold=1.0, liveness=False),
                     door, audit)
    door.close("test")
    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    unlock_frames = [r["frame"] for r in records if r["action"] == "unlock"]
    assert unlock_frames and max(unlock_frames) < 20, unlock_frames
    assert stats.gallery_reloads == 1 and any(r["action"] == "gallery" and r["people"] == 1 for r in records)


def test_a_gallery_that_stops_verifying_lets_nobody_in(tmp_path):
    path = tmp_path / "g.json"
    signed_gallery(path, ann=unit_vectors(1, 1))
    watcher = GalleryWatcher(path, "m", check_s=0.0)
    data = json.loads(path.read_text())
    data["people"][0]["sources"] = ["edited"]
    path.write_text(json.dumps(data))
    assert watcher.poll().startswith("refused") and not watcher.gallery.people


# --- 2: relock on start and every way out; kill -9 then restart --------------------------------------------
def test_door_records_intent_before_acting_and_never_blocks(tmp_path):
    """6: the unlock is fsynced to the audit before the action runs; an 8 s action does not hold the loop; a
    failing relock is retried with an alarm until it works."""
    audit_path = tmp_path / "audit.jsonl"
    audit = AuditLog(audit_path)
    action = RecordingAction(unlock_s=1.0, relock_failures=2, audit_path=audit_path)
    door = Door(action, audit, retry_s=0.05)
    start = time.monotonic()
    assert door.unlock("ann", {"frame": 1})
    assert time.monotonic() - start < 0.2  # the loop goes on while the strike command runs
    door.relock(reason="timer")
    assert door.wait(10)
    assert '"action": "unlock"' in action.audit_at_unlock  # on record before the action ran
    door.close("exit")
    records = [json.loads(line) for line in audit_path.read_text().splitlines()]
    assert [r["action"] for r in records].count("alarm") == 2
    assert action.events == ["unlock:ann", "relock", "relock", "close"]


def lock_run_command(models_dir: Path, gallery: Path, frames: Path, audit: Path, events: Path) -> list[str]:
    return [sys.executable, "-m", "edgeface.cli", "lock", "run", "--images", str(frames), "--models", str(models_dir),
            "--gallery", str(gallery), "--audit", str(audit), "--relock", "1000", "--liveness", "off",
            "--action", f"command:sh -c 'echo $EDGEFACE_EVENT >> {events}'"]


def wait_for(predicate, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def enrolled(models_dir, lfw_root, tmp_path_factory):
    """Colin Powell enrolled from 4 photos, and a folder of 150 frames of his other photos."""
    folder = tmp_path_factory.mktemp("enrolled")
    photos = [lfw_root / lfw.IMAGES_SUBDIR / "Colin_Powell" / f"Colin_Powell_{n:04d}.jpg" for n in range(1, 40)]
    enrol = folder / "enrol"
    enrol.mkdir()
    for k, photo in enumerate(photos[:6]):
        (enrol / f"{k:04d}.jpg").write_bytes(photo.read_bytes())
    frames = folder / "frames"
    frames.mkdir()
    for k in range(150):
        (frames / f"{k:04d}.jpg").write_bytes(photos[10 + k % 29].read_bytes())
    result = run_runtime_cli(folder, "lock", "enroll", "Colin Powell", "--images", str(enrol), "--shots", "4",
                             "--models", str(models_dir), "--gallery", str(folder / "gallery.json"))
    assert result.returncode == 0, result.stderr[-2000:]
    return folder


def test_kill_while_open_then_restart_relocks_first(models_dir, enrolled, tmp_path):
    audit, events = tmp_path / "audit.jsonl", tmp_path / "events.txt"
    command = lock_run_command(models_dir, enrolled / "gallery.json", enrolled / "frames", audit, events)
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: events.exists() and "unlock" in events.read_text())
    process.kill()  # SIGKILL with the door open (relock is 1000 s away)
    process.wait()
    assert events.read_text().splitlines()[-1] == "unlock"
    before = len(events.read_text().splitlines())
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: len(events.read_text().splitlines()) > before)
    process.kill()
    process.wait()
    assert events.read_text().splitlines()[before] == "relock"  # the restart's first action
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    restart = [r for r in records if r["action"] == "relock" and r.get("reason") == "start"]
    assert len(restart) == 2  # one per start, on record


def test_sigterm_while_open_relocks_and_records_it(models_dir, enrolled, tmp_path):
    audit, events = tmp_path / "audit.jsonl", tmp_path / "events.txt"
    command = lock_run_command(models_dir, enrolled / "gallery.json", enrolled / "frames", audit, events)
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: events.exists() and "unlock" in events.read_text())
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143 and "relocked" in stderr and "Traceback" not in stderr
    assert events.read_text().splitlines()[-1] == "relock"
    last = json.loads(audit.read_text().splitlines()[-1])
    assert last["action"] == "relock" and last["reason"] == "signal SIGTERM"


# --- 3: authority over the gallery and the thresholds ------------------------------------------------------
def test_a_forged_gallery_is_refused(tmp_path):
    path = tmp_path / "g.json"
    signed_gallery(path, ann=unit_vectors(2, 1))
    data = json.loads(path.read_text())
    data.pop("signature")
    data["people"][0]["embeddings"].append([0.0] * 128)  # the vector at distance 1.0 from every face
    body = json.dumps(data, sort_keys=True, separators=(",", ":"))
    data["signature"] = "hmac-sha256:" + hashlib.sha256(body.encode()).hexdigest()  # what a forger can compute
    path.write_text(json.dumps(data))
    with pytest.raises(GalleryError, match="signature"):
        load_gallery(path)
    with pytest.raises(GalleryError, match="unit length"):
        Gallery(model="m").add("eve", np.zeros((1, 128), np.float32), [])
    with pytest.raises(GalleryError, match="finite"):
        Gallery(model="m").add("eve", np.full((1, 128), np.nan, np.float32), [])


def test_the_key_must_be_private_and_present(tmp_path):
    path = tmp_path / "g.json"
    signed_gallery(path, ann=unit_vectors(1, 1))
    key = gallery_module.key_path(path)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    key.chmod(0o644)
    with pytest.raises(GalleryError, match="chmod 600"):
        load_gallery(path)
    key.unlink()
    with pytest.raises(GalleryError, match="key is missing"):
        load_gallery(path)


def test_an_edited_operating_point_is_refused(models_dir, tmp_path):
    import shutil

    from edgeface.runtime.manifest import ManifestError
    from edgeface.runtime.pipeline import open_runtime

    edited = tmp_path / "models"
    shutil.copytree(models_dir, edited)
    manifest = json.loads((edited / "manifest.json").read_text())
    for threshold, message in ((2.0, "outside"), (1.2, "differs from the one shipped")):
        manifest["operating_point"]["euclidean_threshold_far_1e-3"] = threshold
        (edited / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(ManifestError, match=message):
            open_runtime(edited, "int8")


# --- 4: enrolment that cannot be poisoned by accident ------------------------------------------------------
def test_shots_of_another_person_are_refused():
    ann = unit_vectors(1, 1) + 0.05 * unit_vectors(4, 2)
    ann /= np.linalg.norm(ann, axis=1, keepdims=True)
    bob = unit_vectors(1, 3)
    with pytest.raises(GalleryError, match="b.jpg"):
        check_consistency(np.concatenate([ann, bob]), ["a1", "a2", "a3", "a4", "b.jpg"], threshold=1.0)
    check_consistency(ann, ["a1", "a2", "a3", "a4"], threshold=1.0)
    with pytest.raises(GalleryError, match="new.jpg"):  # adding: the new shot must look like the enrolled ones
        check_consistency(bob, ["new.jpg"], threshold=1.0, existing=ann)


def test_enrol_cli_refuses_a_mixed_folder_and_a_silent_re_enrolment(models_dir, lfw_root, enrolled, tmp_path):
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for n in range(1, 5):
        (mixed / f"a{n}.jpg").write_bytes((lfw_root / lfw.IMAGES_SUBDIR / "Colin_Powell" /
                                           f"Colin_Powell_{n:04d}.jpg").read_bytes())
    (mixed / "z_other.jpg").write_bytes((lfw_root / lfw.IMAGES_SUBDIR / "Gloria_Macapagal_Arroyo" /
                                         "Gloria_Macapagal_Arroyo_0001.jpg").read_bytes())
    common = ["--models", str(models_dir), "--gallery", str(tmp_path / "g.json")]
    result = run_runtime_cli(tmp_path, "lock", "enroll", "Someone", "--images", str(mixed), *common)
    assert result.returncode == 2 and "z_other.jpg" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "g.json").exists()
    gallery = ["--models", str(models_dir), "--gallery", str(enrolled / "gallery.json")]
    before = (enrolled / "gallery.json").read_bytes()
    result = run_runtime_cli(tmp_path, "lock", "enroll", "Colin Powell", "--images", str(enrolled / "enrol"), *gallery)
    assert result.returncode == 2 and "--add" in result.stderr and "--replace" in result.stderr
    assert (enrolled / "gallery.json").read_bytes() == before


# --- 5: one writer at a time -------------------------------------------------------------------------------
def _enrol_slowly(path: str, name: str, seed: int) -> None:
    with locked_gallery(path, "m") as book:
        time.sleep(0.5)
        book.add(name, unit_vectors(2, seed), [])


def test_concurrent_enrolments_both_survive(tmp_path):
    path = str(tmp_path / "g.json")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_enrol_slowly, args=(path, name, seed)) for seed, name in enumerate("ab")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert sorted(load_gallery(path).people) == ["a", "b"]


# --- 7: option values --------------------------------------------------------------------------------------
@pytest.mark.parametrize("option", [("--threshold", "0"), ("--threshold", "2.5"), ("--threshold", "inf"),
                                    ("--relock", "nan"), ("--relock", "inf"), ("--window", "0"),
                                    ("--window", "nan"), ("--fps", "0"), ("--action-timeout", "0"),
                                    ("--far-per-visit", "0"), ("--far-per-visit", "1.5"), ("--liveness", "maybe")])
def test_option_values_that_break_the_rule_are_refused(tmp_path, option):
    result = run_runtime_cli(tmp_path, "lock", "run", "--images", str(tmp_path), "--gallery", str(tmp_path / "g.json"),
                             *option)
    assert result.returncode == 2 and option[0] in result.stderr and "Traceback" not in result.stderr, result.stderr


# --- 9: audit log: rotation, logrotate, full disk ----------------------------------------------------------
def test_audit_rotates_and_follows_logrotate(tmp_path):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, max_bytes=2000, keep=2)
    for index in range(100):
        log.write({"frame": index, "action": "none"})
    assert path.stat().st_size <= 2200 and (tmp_path / "audit.jsonl.1").exists()
    assert (tmp_path / "audit.jsonl.2").exists() and not (tmp_path / "audit.jsonl.3").exists()
    os.rename(path, tmp_path / "rotated-away")  # what logrotate's default (create) mode does
    log.write({"frame": 100, "action": "unlock"})
    assert json.loads(path.read_text())["frame"] == 100
    log.close()


def test_a_full_disk_refuses_unlocks_but_keeps_relocking(tmp_path):
    audit = AuditLog("/dev/full")  # every write fails with ENOSPC
    action = RecordingAction()
    door = Door(action, audit)
    assert not door.unlock("ann", {"frame": 1})
    door.close("exit")
    assert action.events == ["relock", "close"]
    null = AuditLog("/dev/null")  # not a regular file: no fsync error
    assert null.write({"action": "unlock"}, sync=True)


# --- 10: file modes ----------------------------------------------------------------------------------------
def test_gallery_audit_and_key_are_private_and_modes_are_kept(tmp_path):
    path = tmp_path / "g.json"
    with locked_gallery(path, "m") as book:
        book.add("ann", unit_vectors(1, 1), [])
    AuditLog(tmp_path / "audit.jsonl").close()
    for name in ("g.json", "g.json.key", "audit.jsonl"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    path.chmod(0o640)
    with locked_gallery(path) as book:
        book.add("bob", unit_vectors(1, 2), [])
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


# --- 11: hostile files and names ---------------------------------------------------------------------------
def test_deeply_nested_or_odd_json_is_a_one_line_error(tmp_path):
    from edgeface.runtime.manifest import ManifestError, parse_manifest

    nested = "[" * 100000 + "]" * 100000
    with pytest.raises(ManifestError, match="nested"):
        parse_manifest(nested)
    with pytest.raises(ManifestError, match="list"):
        parse_manifest("[]")
    path = tmp_path / "g.json"
    signed_gallery(path, ann=unit_vectors(1, 1))
    path.write_text(nested)
    with pytest.raises(GalleryError, match="nested"):
        load_gallery(path)


@pytest.mark.parametrize("name,message", [("Eve\nann\t5 shots", "control"), ("\x1b[2Jann", "control"),
                                          ("Unknown", "reserved"), ("x" * 65, "too long"), ("  ", "non-empty")])
def test_names_that_would_forge_output_are_refused(name, message):
    with pytest.raises(GalleryError, match=message):
        Gallery(model="m").add(name, unit_vectors(1, 1), [])


def test_one_name_in_two_unicode_forms_is_one_person():
    book = Gallery(model="m")
    book.add("Zo\u00eb", unit_vectors(1, 1), [])  # precomposed
    with pytest.raises(GalleryError, match="already enrolled"):
        book.add("Zoe\u0308", unit_vectors(1, 2), [])  # e + combining diaeresis


# --- 8: a big photo is searched on a downscaled copy (memory), faces in full-image coordinates -------------
def test_a_12_megapixel_photo_is_detected_in_full_image_coordinates(models_dir, lfw_root):
    import cv2

    from edgeface.runtime.geometry import iou
    from edgeface.runtime.images import read_rgb
    from edgeface.runtime.pipeline import MAX_DETECT_PIXELS, open_runtime

    pipeline = open_runtime(models_dir, "int8")
    image = read_rgb(lfw_root / lfw.IMAGES_SUBDIR / "Colin_Powell" / "Colin_Powell_0001.jpg")
    big = cv2.resize(image, (4000, 3000), interpolation=cv2.INTER_CUBIC)
    assert big.shape[0] * big.shape[1] > MAX_DETECT_PIXELS
    (small_face,) = pipeline.detect(image)
    faces = pipeline.detect(big)
    scale = np.array([4000 / 250, 3000 / 250] * 2, np.float32)
    assert max(iou(face.box, small_face.box * scale) for face in faces) > 0.8


def test_a_corrupt_video_is_an_error_not_a_clean_end(tmp_path):
    import cv2

    from edgeface.runtime.frames import open_frames
    from edgeface.runtime.images import ImageError

    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    for k in range(40):
        writer.write(np.random.default_rng(k).integers(0, 255, (48, 64, 3), dtype=np.uint8))
    writer.release()
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 2000] = bytes(2000)  # a damaged stretch in the middle
    path.write_bytes(bytes(data))
    seen = []
    with pytest.raises(ImageError, match="corrupt video"):
        for frame in open_frames(video=path):
            seen.append(frame.index)
    assert 0 < len(seen) < 40
