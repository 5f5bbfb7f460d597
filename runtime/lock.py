"""The door lock: enrolment with quality checks, and the frame loop that decides when to unlock.

Decision rule (why): one frame can match by chance, so the lock opens only when the same enrolled person is
the nearest match, under the threshold, in `k` of the last `n` frames seen within `window_s` seconds. The
threshold is the model's LFW operating point at FAR = 1e-3 (one false accept in a thousand impostor pairs per
frame, then multiplied down by the k-of-n rule). After an unlock the door relocks after `relock_s` seconds,
and nobody can re-trigger it while it is open.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

import cv2
import numpy as np

from edgeface.runtime.cascade import Face
from edgeface.runtime.frames import Frame, is_dead_frame
from edgeface.runtime.gallery import Gallery
from edgeface.runtime.pipeline import FacePipeline
from edgeface.runtime.resources import rss_mb


# --- enrolment quality -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QualityConfig:
    min_face_px: float = 60.0  # shorter box side
    max_roll_deg: float = 20.0  # eye line tilt
    max_yaw: float = 0.3  # nose offset from the eye midpoint, in eye distances
    min_sharpness: float = 15.0  # variance of the Laplacian of the aligned grey crop


def face_quality(face: Face, crop: np.ndarray, config: QualityConfig) -> tuple[float, str | None]:
    """(sharpness, reason the face is not good enough for enrolment or None)."""
    left_eye, right_eye, nose = face.landmarks[0], face.landmarks[1], face.landmarks[2]
    eye_vector = right_eye - left_eye
    eye_distance = float(np.hypot(*eye_vector))
    sharpness = float(cv2.Laplacian(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())
    size = min(face.width, face.height)
    if size < config.min_face_px:
        return sharpness, f"face too small ({size:.0f} px < {config.min_face_px:.0f}); come closer"
    roll = float(np.degrees(np.arctan2(eye_vector[1], eye_vector[0])))
    if abs(roll) > config.max_roll_deg:
        return sharpness, f"head tilted {roll:.0f} degrees (limit {config.max_roll_deg:.0f})"
    yaw = float(np.dot(nose - (left_eye + right_eye) / 2, eye_vector) / max(eye_distance, 1e-6) ** 2)
    if abs(yaw) > config.max_yaw:
        return sharpness, f"face turned sideways (yaw {yaw:+.2f}, limit ±{config.max_yaw}); look at the camera"
    if sharpness < config.min_sharpness:
        return sharpness, f"image too blurred (sharpness {sharpness:.0f} < {config.min_sharpness:.0f})"
    return sharpness, None


@dataclass
class EnrolResult:
    embeddings: np.ndarray
    sources: list[str]
    rejected: list[tuple[str, str]] = field(default_factory=list)


def collect_enrolment(frames: Iterable[Frame], pipeline: FacePipeline, shots: int,
                      quality: QualityConfig = QualityConfig(), max_frames: int | None = None) -> EnrolResult:
    """The `shots` sharpest good single-face frames' embeddings; every refused frame with its reason."""
    good: list[tuple[float, str, np.ndarray]] = []
    rejected: list[tuple[str, str]] = []
    for count, frame in enumerate(frames):
        if max_frames is not None and count >= max_frames:
            break
        if frame.image is None:
            rejected.append((frame.label, frame.error or "unreadable"))
            continue
        faces = pipeline.detect(frame.image)
        if not faces:
            rejected.append((frame.label, "no face found"))
            continue
        if len(faces) > 1:
            rejected.append((frame.label, f"{len(faces)} faces; enrol one person at a time"))
            continue
        crop = pipeline.embedder.align(frame.image, faces[0])
        sharpness, reason = face_quality(faces[0], crop, quality)
        if reason:
            rejected.append((frame.label, reason))
            continue
        good.append((sharpness, frame.label, pipeline.embedder.embed(crop[None])[0]))
    good.sort(key=lambda item: -item[0])
    kept = good[:shots]
    dim = pipeline.embedder.dim
    return EnrolResult(np.stack([v for *_, v in kept]) if kept else np.zeros((0, dim), np.float32),
                       [label for _, label, _ in kept], rejected)


# --- decisions ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LockConfig:
    k: int = 3  # matching frames needed ...
    n: int = 5  # ... among the last n frames seen
    window_s: float = 3.0  # ... all within this many seconds
    relock_s: float = 5.0  # door stays unlocked this long
    threshold: float | None = None  # Euclidean; default: the model's LFW threshold at FAR = 1e-3

    def __post_init__(self) -> None:
        if not 1 <= self.k <= self.n:
            raise ValueError(f"need 1 <= k <= n (got k={self.k}, n={self.n})")


class DecisionTracker:
    """k-of-n votes within a time window; returns the person to unlock for, when the rule is met."""

    def __init__(self, config: LockConfig) -> None:
        self.config = config
        self.votes: deque[tuple[float, str | None]] = deque(maxlen=config.n)

    def update(self, now: float, person: str | None) -> tuple[str | None, int]:
        self.votes.append((now, person))
        if person is None:
            return None, 0
        count = sum(1 for t, p in self.votes if p == person and now - t <= self.config.window_s)
        return (person if count >= self.config.k else None), count

    def reset(self) -> None:
        self.votes.clear()


@dataclass
class RunStats:
    frames: int = 0
    unreadable: int = 0
    dead: int = 0
    without_face: int = 0
    with_faces: int = 0
    several_faces: int = 0
    matches: int = 0
    unlocks: int = 0
    unlock_people: dict = field(default_factory=dict)
    action_errors: int = 0
    stage_ms: dict = field(default_factory=lambda: {"detect": [], "embed": []})
    rss_mb: dict = field(default_factory=dict)  # frame number -> resident memory, every `rss_every` frames


def run_lock(frames: Iterable[Frame], pipeline: FacePipeline, gallery: Gallery, config: LockConfig,
             action, audit, keep_stage_times: bool = False, rss_every: int = 1000) -> RunStats:
    """The lock loop. Never raises for a bad frame or a failing action: they are logged and counted."""
    threshold = pipeline.threshold(config.threshold, strict=True)
    tracker, stats = DecisionTracker(config), RunStats()
    unlocked_until: float | None = None
    for frame in frames:
        stats.frames += 1
        if stats.frames % rss_every == 0:
            stats.rss_mb[stats.frames] = rss_mb()
        now = frame.time
        if unlocked_until is not None and now >= unlocked_until:
            unlocked_until = None
            _act(action.relock, stats, audit, {"frame": frame.index, "time": round(now, 3), "action": "relock"})
        if frame.image is None:
            stats.unreadable += 1
            audit.write({"frame": frame.index, "time": round(now, 3), "source": frame.label,
                         "action": "skip", "error": frame.error})
            continue
        if is_dead_frame(frame.image):
            stats.dead += 1
            tracker.update(now, None)
            continue
        start = time.perf_counter()
        faces = pipeline.detect(frame.image)
        detect_ms = 1000 * (time.perf_counter() - start)
        if not faces:
            stats.without_face += 1
            tracker.update(now, None)
            continue
        stats.with_faces += 1
        stats.several_faces += len(faces) > 1
        start = time.perf_counter()
        vectors = pipeline.embed_faces(frame.image, faces)
        embed_ms = 1000 * (time.perf_counter() - start)
        if keep_stage_times:
            stats.stage_ms["detect"].append(detect_ms)
            stats.stage_ms["embed"].append(embed_ms)
        best_name, best_distance = None, float("inf")
        for vector in vectors:
            name, distance = gallery.nearest(vector)
            if distance < best_distance:
                best_name, best_distance = name, distance
        person = best_name if best_distance < threshold else None
        stats.matches += person is not None
        if unlocked_until is not None:
            tracker.update(now, None)  # open door: votes do not pile up for the next unlock
            decided, count = None, 0
        else:
            decided, count = tracker.update(now, person)
        record = {"frame": frame.index, "time": round(now, 3), "faces": len(faces), "person": person or "unknown",
                  "nearest": best_name, "distance": round(best_distance, 4), "votes": count,
                  "threshold": round(threshold, 4), "action": "none"}
        if decided is not None:
            record["action"] = "unlock"
            unlocked_until = now + config.relock_s
            stats.unlocks += 1
            stats.unlock_people[decided] = stats.unlock_people.get(decided, 0) + 1
            tracker.reset()
            _act(lambda: action.unlock(decided), stats, audit, record)
        else:
            audit.write(record)
    return stats


def _act(call, stats: RunStats, audit, record: dict) -> None:
    try:
        call()
    except Exception as error:  # an action failing (relay, script) must not stop the lock loop
        stats.action_errors += 1
        record = {**record, "action_error": str(error)}
    audit.write(record)
