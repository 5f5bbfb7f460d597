"""The door lock: enrolment with quality and consistency checks, and the frame loop that decides when to unlock.

Decision rule (why): one frame can match by chance, so the lock opens only when the same enrolled person is
the nearest match, under the threshold, in `k` of the last `n` frames seen within `window_s` seconds. The
threshold comes from a security target per *visit* (default: 1 stranger visit in 10,000 let in) and the
gallery's size, through the models folder's door policy (measured by `edgeface lock calibrate`): a per-pair
operating point multiplies up over frames and enrolled shots, it does not describe a door. After an unlock the
door relocks after `relock_s` seconds, and nobody can re-trigger it while it is open.

Fail-safe behaviour (why): the loop relocks on start and on every way out, the gallery is re-read when it
changes (a removed person is refused within about a second), and the strike is driven through
`actions.Door`, which records every unlock before acting and never blocks the loop.
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
from edgeface.runtime.actions import Door
from edgeface.runtime.gallery import Gallery, GalleryError, GalleryWatcher
from edgeface.runtime.pipeline import FacePipeline
from edgeface.runtime.resources import rss_mb
from edgeface.runtime.tracking import TrackingDetector
from edgeface.runtime.errors import EdgefaceError, UsageError


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
        crop = pipeline.crops(frame.image, faces)[0]
        sharpness, reason = face_quality(faces[0], crop, quality)
        if reason:
            rejected.append((frame.label, reason))
            continue
        good.append((sharpness, frame.label, pipeline.embed_crops(crop[None])[0]))
    good.sort(key=lambda item: -item[0])
    kept = good[:shots]
    dim = pipeline.embedder.dim
    return EnrolResult(np.stack([v for *_, v in kept]) if kept else np.zeros((0, dim), np.float32),
                       [label for _, label, _ in kept], rejected)


def check_consistency(embeddings: np.ndarray, sources: list[str], threshold: float,
                      existing: np.ndarray | None = None) -> None:
    """Refuse an enrolment whose shots do not look like one person: a shot whose median distance to the other
    shots (and, when adding, to the person's enrolled shots) is at or over the lock's threshold is someone else
    (e.g. one photo of another person in the folder), and would let that person in."""
    reference = embeddings if existing is None or len(existing) == 0 else np.concatenate([embeddings, existing])
    if len(reference) < 2:
        return
    distances = np.linalg.norm(embeddings[:, None] - reference[None], axis=2)
    outliers = []
    for row, source in enumerate(sources):
        median = float(np.median(np.delete(distances[row], row)))  # column `row` is the shot itself
        if median >= threshold:
            outliers.append(f"{source} (median distance {median:.3f} to the other shots, threshold {threshold:.3f})")
    if outliers:
        raise GalleryError("these shots do not look like the same person as the others: " + "; ".join(outliers) +
                           ". Remove them (or check the folder) and enrol again")


# --- decisions ---------------------------------------------------------------------------------------------
def _finite_positive(name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
        raise UsageError(f"{name} must be a finite number > 0 (got {value!r})")


MAX_THRESHOLD = 2.0  # unit vectors are at most 2 apart: a threshold of 2 or more matches every face


def check_threshold(threshold: float, source: str = "--threshold") -> float:
    if not (np.isfinite(threshold) and 0.0 < threshold < MAX_THRESHOLD):
        raise UsageError(f"{source} must be between 0 and {MAX_THRESHOLD:g} (Euclidean distance of unit vectors; "
                         f"got {threshold!r})")
    return float(threshold)


@dataclass(frozen=True)
class Operating:
    """The threshold the lock uses now, and why (said on stderr at start and in every audit record)."""

    threshold: float | None  # None: the policy allows no threshold for this gallery: nobody is let in
    how: str


def operating_threshold(pipeline: FacePipeline, gallery: Gallery, config: LockConfig) -> Operating:
    """`--threshold` when given; else the door policy's threshold for the security target and this gallery's
    size (residents, or its shots counted in enrolments of `shots_per_resident`, whichever is more: more
    residents, stricter). The policy row used is the strictest target at or under the one asked for."""
    if config.threshold is not None:
        return Operating(check_threshold(config.threshold), f"--threshold {config.threshold:g} (no security target)")
    policy = pipeline.door_policy or {}
    targets = {float(t): sizes for t, sizes in policy.get("by_target", {}).items()}
    usable = [t for t in targets if t <= config.far_per_visit]
    if not usable:
        raise UsageError(f"the models folder has no door policy for stranger visits let in <= "
                         f"{config.far_per_visit:g} (it has: {', '.join(f'{t:g}' for t in sorted(targets)) or 'none'}); "
                         "pass --far-per-visit with one of those, or --threshold")
    target = max(usable)
    per_resident = int(policy.get("shots_per_resident", 5))
    size = max(len(gallery.people), -(-gallery.shots // per_resident), 1)
    sizes = targets[target]
    if str(size) not in sizes:
        return Operating(None, f"a gallery of {size} residents is beyond the door policy (measured up to "
                               f"{max(int(s) for s in sizes)}): nobody is let in")
    value = sizes[str(size)]
    if value is None:
        return Operating(None, f"no threshold keeps stranger visits under {target:g} for {size} residents: "
                               "nobody is let in")
    return Operating(check_threshold(value, "door policy threshold"),
                     f"door policy: stranger visits let in <= {target:g} (95% bound) for {size} residents")


@dataclass(frozen=True)
class LockConfig:
    k: int = 3  # matching frames needed ...
    n: int = 5  # ... among the last n frames seen
    window_s: float = 3.0  # ... all within this many seconds
    relock_s: float = 5.0  # door stays unlocked this long
    threshold: float | None = None  # Euclidean; given: used as it is (overrides the door policy)
    far_per_visit: float = 1e-4  # security target: stranger visits let in; picks the threshold per household size
    liveness: bool = True  # a matching frame counts only if the anti-spoofing nets judge its face live
    full_detect_every: int = 1  # > 1: whole pyramid every N frames, following the faces between (runtime/tracking.py)

    def __post_init__(self) -> None:
        if not (isinstance(self.k, int) and isinstance(self.n, int) and 1 <= self.k <= self.n):
            raise UsageError(f"need whole numbers 1 <= k <= n (got k={self.k}, n={self.n})")
        if not (np.isfinite(self.far_per_visit) and 0 < self.far_per_visit < 1):
            raise UsageError(f"--far-per-visit must be a rate between 0 and 1 (got {self.far_per_visit!r})")
        if not (isinstance(self.full_detect_every, int) and self.full_detect_every >= 1):
            raise UsageError(f"--full-detect-every takes a whole number of frames >= 1 (got {self.full_detect_every!r})")
        _finite_positive("--window", self.window_s)
        _finite_positive("--relock", self.relock_s)
        if self.threshold is not None:
            check_threshold(self.threshold)


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
    unlocks_refused_unrecorded: int = 0  # the rule was met but the audit could not record it: no unlock
    suspected_attacks: int = 0  # frames that matched a resident but were judged not live (no vote)
    unlock_people: dict = field(default_factory=dict)
    action_errors: int = 0  # unlock/relock actions that failed (relocks are retried until they work)
    gallery_reloads: int = 0
    threshold: float | None = None  # the operating threshold at the end of the run, and why
    threshold_how: str = ""
    stage_ms: dict = field(default_factory=lambda: {"detect": [], "embed": [], "liveness": []})
    full_detections: int = 0  # frames searched with the whole P-Net pyramid ...
    tracked_frames: int = 0  # ... and frames where R-Net/O-Net followed the previous faces
    rss_mb: dict = field(default_factory=dict)  # frame number -> resident memory, every `rss_every` frames


def run_report(stats: RunStats, pipeline: FacePipeline, seconds: float, rss_start: float,
               stage_times: bool = False) -> dict:
    """What `lock run` prints at the end (and writes with --report): the counts, frames/s, memory, the pipeline
    and the threshold; with `stage_times`, each stage's median ms."""
    from edgeface.runtime.fileio import portable_path
    from edgeface.runtime.resources import peak_rss_mb

    summary = {k: v for k, v in vars(stats).items() if k != "stage_ms"}
    summary["frames_per_s"] = round(stats.frames / max(1e-9, seconds), 2)
    summary.update({"rss_mb_start": rss_start, "rss_mb_end": rss_mb(), "rss_mb_peak": peak_rss_mb(),
                    "pipeline": {**pipeline.description, "models": portable_path(pipeline.description["models"])},
                    "threshold": stats.threshold, "threshold_how": stats.threshold_how})
    if stage_times:
        summary["stage_ms_median"] = {k: round(float(np.median(v)), 2) if v else None for k, v in stats.stage_ms.items()}
    return summary


def run_lock(frames: Iterable[Frame], pipeline: FacePipeline, gallery: Gallery | GalleryWatcher, config: LockConfig,
             door: Door, audit, keep_stage_times: bool = False, rss_every: int = 1000) -> RunStats:
    """The lock loop. Never raises for a bad frame or a failing action: they are logged and counted. A
    `GalleryWatcher` is polled every frame, so gallery changes apply while the loop runs. The caller relocks
    on start and exit (`Door.start` / `Door.close`)."""
    watcher = gallery if isinstance(gallery, GalleryWatcher) else None
    operating = operating_threshold(pipeline, watcher.gallery if watcher is not None else gallery, config)
    audit.write({"action": "operating_point", "threshold": operating.threshold, "how": operating.how}, sync=True)
    liveness = liveness_gate(pipeline, config)
    audit.write({"action": "liveness", "result": "on" if liveness else "off",
                 "threshold": liveness.threshold if liveness else None,
                 **({} if liveness else {"warning": LIVENESS_OFF_WARNING})}, sync=True)
    tracker, stats = DecisionTracker(config), RunStats()
    follow = TrackingDetector.for_pipeline(pipeline, config.full_detect_every)
    stats.threshold, stats.threshold_how = operating.threshold, operating.how
    unlocked_until: float | None = None
    for frame in frames:
        stats.frames += 1
        if stats.frames % rss_every == 0:
            stats.rss_mb[stats.frames] = rss_mb()
        now = frame.time
        if watcher is not None:
            change = watcher.poll()
            if change is not None:
                stats.gallery_reloads += 1
                tracker.reset()  # votes cast against the old gallery do not count
                operating = operating_threshold(pipeline, watcher.gallery, config)  # size may have changed
                stats.threshold, stats.threshold_how = operating.threshold, operating.how
                audit.write({"frame": frame.index, "time": round(now, 3), "action": "gallery",
                             "result": change, "people": len(watcher.gallery.people),
                             "threshold": operating.threshold, "how": operating.how}, sync=True)
        people = watcher.gallery if watcher is not None else gallery
        if unlocked_until is not None and now >= unlocked_until:
            unlocked_until = None
            door.relock(reason="timer", frame=frame.index, time=round(now, 3))
        if frame.image is None:
            follow.reset()
            stats.unreadable += 1
            audit.write({"frame": frame.index, "time": round(now, 3), "source": frame.label,
                         "action": "skip", "error": frame.error})
            continue
        if is_dead_frame(frame.image):
            follow.reset()
            stats.dead += 1
            tracker.update(now, None)
            continue
        start = time.perf_counter()
        faces = follow.detect(frame.image)
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
        best_name, best_distance, best_face = None, float("inf"), None
        for face, vector in zip(faces, vectors):
            name, distance = people.nearest(vector)
            if distance < best_distance:
                best_name, best_distance, best_face = name, distance, face
        threshold = operating.threshold
        person = best_name if threshold is not None and best_distance < threshold else None
        stats.matches += person is not None
        live_score = None
        if person is not None and liveness is not None:  # only a face that would vote needs the check
            start = time.perf_counter()
            live_score = liveness.score(frame.image, best_face)
            if keep_stage_times:
                stats.stage_ms["liveness"].append(1000 * (time.perf_counter() - start))
            if not liveness.is_live(live_score):
                stats.suspected_attacks += 1
                audit.write({"frame": frame.index, "time": round(now, 3), "action": "suspected_attack",
                             "nearest": person, "distance": round(best_distance, 4), "live_score": round(live_score, 4),
                             "live_threshold": liveness.threshold})
                person = None
        if unlocked_until is not None:
            tracker.update(now, None)  # open door: votes do not pile up for the next unlock
            decided, count = None, 0
        else:
            decided, count = tracker.update(now, person)
        record = {"frame": frame.index, "time": round(now, 3), "faces": len(faces), "person": person or "unknown",
                  "nearest": best_name, "distance": round(best_distance, 4), "votes": count,
                  "threshold": threshold, "action": "none",
                  **({} if live_score is None else {"live_score": round(live_score, 4)})}
        if decided is None:
            audit.write(record)
            continue
        tracker.reset()
        if door.unlock(decided, record):
            unlocked_until = now + config.relock_s
            stats.unlocks += 1
            stats.unlock_people[decided] = stats.unlock_people.get(decided, 0) + 1
        else:
            stats.unlocks_refused_unrecorded += 1
    stats.full_detections, stats.tracked_frames = follow.counts.full, follow.counts.tracked
    return stats


class LockError(EdgefaceError, ValueError):
    """The lock cannot run as asked (a user error: the message says what to do)."""


LIVENESS_OFF_WARNING = ("liveness detection is off: a printed photo or a screen showing a resident's face can open "
                        "this door")


def liveness_gate(pipeline: FacePipeline, config: LockConfig):
    """The pipeline's liveness check when the lock uses one; refuses to run "on" without nets or a threshold."""
    if not config.liveness:
        return None
    check = pipeline.liveness
    if check is None:
        raise LockError("these models have no anti-spoofing nets (a folder converted before liveness detection): "
                        "run `edgeface convert` again, or run with --liveness off and accept that a photo opens the door")
    if check.threshold is None:
        raise LockError("these models record no liveness threshold: run `edgeface convert` again, or run with "
                        "--liveness off and accept that a photo opens the door")
    return check


class Stopped(Exception):
    """SIGTERM (e.g. `systemctl stop`): end the loop through the same relocking exit as every other way out."""


def serve(frames: Iterable[Frame], pipeline: FacePipeline, gallery_path, config: LockConfig, action, audit,
          keep_stage_times: bool = False) -> RunStats:
    """`lock run`: relock on start (the last run may have died with the door open), watch the gallery (SIGHUP
    reloads it at once), run the loop, and relock on every way out — end of input, camera loss, SIGTERM,
    Ctrl-C, an exception — recording each relock with its reason."""
    import signal

    watcher = GalleryWatcher(gallery_path, pipeline.model_id)
    door = Door(action, audit)
    door.start()

    def stop(signum, _frame):
        raise Stopped(signal.Signals(signum).name)

    previous = {signal.SIGTERM: signal.signal(signal.SIGTERM, stop),
                signal.SIGHUP: signal.signal(signal.SIGHUP, watcher.request_reload)}
    reason = "exit"
    try:
        stats = run_lock(frames, pipeline, watcher, config, door, audit, keep_stage_times)
    except Stopped as signal_name:
        reason = f"signal {signal_name}"
        raise
    except KeyboardInterrupt:
        reason = "signal SIGINT"
        raise
    except BaseException as error:
        reason = f"error: {error}"
        raise
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        door.close(reason)
    stats.action_errors = door.errors
    return stats


def enrol(gallery_path, name: str, result: EnrolResult, pipeline: FacePipeline, mode: str = "new",
          threshold: float | None = None, far_per_visit: float = LockConfig.far_per_visit):
    """Add an enrolment to the gallery file under its lock: the shots must agree with each other (and with the
    person's enrolled shots when adding); a name already enrolled needs mode "add" or "replace"; a gallery that
    would grow past what the door policy allows at `far_per_visit` is refused with the reason."""
    from edgeface.runtime.gallery import locked_gallery, normalise_name

    name = normalise_name(name)
    limit = check_threshold(pipeline.threshold(threshold, strict=True), "the operating threshold")
    with locked_gallery(gallery_path, pipeline.model_id, pipeline.embedder.dim) as gallery:
        existing = gallery.people.get(name)
        check_consistency(result.embeddings, result.sources, limit,
                          existing.embeddings if existing is not None and mode == "add" else None)
        person = gallery.add(name, result.embeddings, result.sources, mode)
        if pipeline.door_policy and threshold is None:
            operating = operating_threshold(pipeline, gallery, LockConfig(far_per_visit=far_per_visit))
            if operating.threshold is None:
                raise GalleryError(f"not enrolled: {operating.how} (security target {far_per_visit:g}); remove "
                                   "someone, or run the lock with a looser --far-per-visit")
    return person


def remove(gallery_path, name: str) -> int:
    """Remove a person under the gallery lock; the number of people left."""
    from edgeface.runtime.gallery import locked_gallery

    with locked_gallery(gallery_path) as gallery:
        gallery.remove(name)
        return len(gallery.people)
