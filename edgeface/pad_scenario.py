"""The photo attack at the door, on NUAA: a resident's printed photo held up to the lock's camera.

Each NUAA subject with printed-photo attempts in the test split becomes a one-person household, enrolled from
`shots` of their live frames (training split; a subject with none there gives up its first live test attempt
for enrolment, which is then not replayed). Each attempt is cut into visits of `visit_frames` replayed frames
(2 s at the lock's 5 fps; NUAA attempts run 25 to 160 frames), replayed through the production lock loop
(`run_lock`) `1 / fps` apart, visits 10 s apart (every visit starts locked with an empty vote window):
- resident visits: the subject's own live test attempts (what liveness costs: visits refused),
- attack visits: printed photos of the same, enrolled, subject (what liveness buys: attacks let in).
Run it with liveness on and off to see both sides. Counts come with their 95% upper bounds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from edgeface.door_scenario import replay
from edgeface.household import upper_bound
from edgeface.pad import LIVE, PadFrame, load_frames
from edgeface.runtime.fileio import portable_path
from edgeface.runtime.frames import Frame
from edgeface.runtime.gallery import Gallery
from edgeface.runtime.images import read_rgb
from edgeface.runtime.lock import LockConfig, collect_enrolment
from edgeface.runtime.pipeline import FacePipeline


@dataclass(frozen=True)
class AttackScenarioConfig:
    every: int = 3  # replay every N-th frame of each attempt
    visit_frames: int = 10  # an attempt is cut into visits of this many replayed frames (2 s at 5 fps)
    shots: int = 5
    enrol_every: int = 10  # enrolment frames offered: every N-th live training frame of the subject
    fps: float = 5.0


def subject_of(frame: PadFrame) -> str:
    return frame.attempt.split("/", 1)[1].split("_", 1)[0]


def attempts_of(frames: list[PadFrame]) -> dict[str, list[PadFrame]]:
    grouped: dict[str, list[PadFrame]] = {}
    for frame in frames:
        grouped.setdefault(frame.attempt, []).append(frame)
    return grouped


def visits_of(attempt: list[PadFrame], length: int) -> list[list[PadFrame]]:
    """An attempt cut into door visits of `length` frames; a shorter tail of at least half that is a visit too."""
    visits = [attempt[i : i + length] for i in range(0, len(attempt), length)]
    return [v for v in visits if len(v) >= max(1, length // 2)]


def run_subject(subject: str, enrol_frames: list[PadFrame], visits: list[tuple[str, list[PadFrame]]],
                pipeline: FacePipeline, lock: LockConfig, config: AttackScenarioConfig) -> dict:
    gallery = Gallery(model=pipeline.model_id, dim=pipeline.embedder.dim)
    offered = (Frame(i, float(i), read_rgb(f.path), f.path.name) for i, f in enumerate(enrol_frames))
    result = collect_enrolment(offered, pipeline, config.shots)
    if len(result.embeddings) == 0:
        return {"subject": subject, "enrolled_shots": 0, "visits": []}
    gallery.add(subject, result.embeddings, result.sources)
    frame_visit: dict[int, int] = {}

    def frames():
        index = 0
        for v, (_, attempt) in enumerate(visits):
            for j, frame in enumerate(attempt):
                frame_visit[index] = v
                yield Frame(index, 10.0 * v + j / config.fps, read_rgb(frame.path), frame.path.name)
                index += 1

    stats, records = replay(frames(), pipeline, gallery, lock)
    unlocked = {frame_visit[r["frame"]] for r in records if r.get("action") == "unlock"}
    return {"subject": subject, "enrolled_shots": len(result.embeddings), "threshold": stats.threshold,
            "suspected_attack_frames": stats.suspected_attacks, "frames": stats.frames,
            "visits": [{"attempt": shown[0].attempt, "kind": kind, "frames": len(shown), "unlocked": v in unlocked}
                       for v, (kind, shown) in enumerate(visits)]}


def run_attack_scenario(db: Path, pipeline: FacePipeline, lock: LockConfig,
                        config: AttackScenarioConfig = AttackScenarioConfig()) -> dict:
    training, _ = load_frames(db, "train", 1)
    test, missing = load_frames(db, "test", config.every)
    test_attempts = attempts_of(test)
    subjects = sorted({subject_of(f) for f in test if f.kind != LIVE})
    households, skipped = [], []
    for subject in subjects:
        enrol = [f for f in training if f.kind == LIVE and subject_of(f) == subject][:: config.enrol_every]
        own = {a: fs for a, fs in test_attempts.items() if subject_of(fs[0]) == subject}
        live = [fs for _, fs in sorted(own.items()) if fs[0].kind == LIVE]
        attacks = [fs for _, fs in sorted(own.items()) if fs[0].kind != LIVE]
        if not enrol and live:  # no training frames: the first live test attempt enrols, and is not replayed
            enrol, live = live[0], live[1:]
        if not enrol:
            skipped.append(subject)
            continue
        visits = [(attempt[0].kind, visit) for attempt in live + attacks
                  for visit in visits_of(attempt, config.visit_frames)]
        households.append(run_subject(subject, enrol, visits, pipeline, lock, config))
    visits = [v for h in households for v in h["visits"]]
    resident = [v for v in visits if v["kind"] == LIVE]
    attack = [v for v in visits if v["kind"] != LIVE]
    let_in = sum(v["unlocked"] for v in attack)
    admitted = sum(v["unlocked"] for v in resident)
    return {
        "data": portable_path(db), "config": asdict(config), "lock": asdict(lock), "listed_missing": missing,
        "pipeline": {**pipeline.description, "models": portable_path(pipeline.description.get("models", ""))},
        "liveness_threshold": pipeline.liveness.threshold if (lock.liveness and pipeline.liveness) else None,
        "subjects": len(households), "subjects_without_live_frames": skipped,
        "resident_visits": len(resident), "resident_visits_let_in": admitted,
        "resident_visits_refused": len(resident) - admitted,
        "attack_visits": len(attack), "attack_visits_let_in": let_in,
        "attack_visits_let_in_rate": let_in / len(attack) if attack else None,
        "attack_visits_let_in_upper_95": upper_bound(let_in, len(attack)) if attack else None,
        "suspected_attack_frames": sum(h.get("suspected_attack_frames", 0) for h in households),
        "households": households,
    }
