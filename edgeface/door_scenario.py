"""The door-lock scenario on LFW: households enrol a few people from some of their photos, then replay visits.

Scale (why): a door must keep stranger visits let in near 1e-4; 50 strangers cannot see even 1e-2. By default
5 households each get a visit from every LFW person with >= 5 photos who does not live there (about 2,100
stranger visits in all), and false accepts are reported with their 95% upper bound. A visit is
`frames_per_visit` distinct held-out photos of one person, each pasted into a 640x480 door-camera frame, 0.2 s apart; visits are 10 s apart, so every visit starts with a locked door and an empty vote window.
Enrolled people come back with photos not used for enrolment; strangers are LFW people never enrolled. The lock
loop is the production one (`run_lock`); its audit records are read back to score each visit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from edgeface import lfw
from edgeface.console import progress
from edgeface.runtime.frames import Frame
from edgeface.runtime.actions import Door
from edgeface.runtime.gallery import Gallery
from edgeface.runtime.fileio import portable_path
from edgeface.runtime.images import read_rgb
from edgeface.runtime.lock import LockConfig, RunStats, collect_enrolment, run_lock
from edgeface.runtime.pipeline import FacePipeline
from edgeface.synthetic import door_frame


@dataclass(frozen=True)
class ScenarioConfig:
    households: int = 5
    enrolled_people: int = 3  # per household
    enrol_images: int = 8  # photos offered at enrolment (the lock keeps `shots` of them)
    shots: int = 5
    visits_per_person: int = 10
    strangers: int = 500  # stranger visits per household, each by a different person (at most all ~420 eligible)
    frames_per_visit: int = 5
    min_images_enrolled: int = 58  # 8 to enrol + 10 visits x 5 held-out photos
    min_images_stranger: int = 5
    seed: int = 7


class MemoryAudit:
    def __init__(self) -> None:
        self.records: list[dict] = []

    def write(self, record: dict, sync: bool = False) -> bool:
        self.records.append(record)
        return True


class SilentAction:
    def unlock(self, person: str) -> None:
        pass

    def relock(self) -> None:
        pass

    def close(self) -> None:
        pass


def replay(frames: Iterable[Frame], pipeline: FacePipeline, gallery: Gallery,
           lock: LockConfig) -> tuple[RunStats, list[dict]]:
    """The production lock loop over scripted frames, with a silent strike and an in-memory audit log."""
    audit = MemoryAudit()
    door = Door(SilentAction(), audit)
    try:
        stats = run_lock(frames, pipeline, gallery, lock, door, audit)
    finally:
        door.close("scenario end")
    return stats, audit.records


def run_household(root: Path, pipeline: FacePipeline, people: dict[str, list[str]], config: ScenarioConfig,
                  lock: LockConfig, rng: np.random.Generator) -> dict:
    candidates = [n for n, files in people.items() if len(files) >= config.min_images_enrolled]
    enrolled = [candidates[i] for i in rng.choice(len(candidates), config.enrolled_people, replace=False)]
    others = [n for n, files in people.items() if len(files) >= config.min_images_stranger and n not in enrolled]
    strangers = [others[i] for i in rng.choice(len(others), min(config.strangers, len(others)), replace=False)]

    def image(name: str, file: str) -> np.ndarray:
        return read_rgb(root / lfw.IMAGES_SUBDIR / name / file)

    gallery = Gallery(model=pipeline.model_id, dim=pipeline.embedder.dim)
    enrolment = {}
    for name in enrolled:
        files = people[name][: config.enrol_images]
        frames = (Frame(i, float(i), image(name, f), f) for i, f in enumerate(files))
        result = collect_enrolment(frames, pipeline, config.shots)
        gallery.add(name, result.embeddings, result.sources)
        enrolment[name] = {"offered": len(files), "kept": len(result.embeddings), "refused": result.rejected}

    visits = []  # (person, enrolled?, files)
    for name in enrolled:
        held_out = people[name][config.enrol_images :]
        chosen = rng.permutation(held_out)[: config.visits_per_person * config.frames_per_visit]
        for v in range(len(chosen) // config.frames_per_visit):
            visits.append((name, True, list(chosen[v * config.frames_per_visit : (v + 1) * config.frames_per_visit])))
    for name in strangers:
        visits.append((name, False, list(rng.permutation(people[name])[: config.frames_per_visit])))

    frame_visit: dict[int, int] = {}

    def frames():
        index = 0
        for v, (name, _, files) in enumerate(visits):
            for j, file in enumerate(files):
                frame_visit[index] = v
                yield Frame(index, 10.0 * v + 0.2 * j, door_frame([image(name, file)], rng), f"{name}/{file}")
                index += 1

    stats, records = replay(frames(), pipeline, gallery, lock)
    unlocked = {}
    for record in records:
        if record.get("action") == "unlock":
            unlocked.setdefault(frame_visit[record["frame"]], record["person"])
    outcome = [{"person": name, "enrolled": is_enrolled, "frames": len(files), "unlocked_for": unlocked.get(v)}
               for v, (name, is_enrolled, files) in enumerate(visits)]
    matched = [r for r in records if "faces" in r]
    truth = {r["frame"]: visits[frame_visit[r["frame"]]] for r in matched}
    return {"enrolled": enrolment, "threshold": stats.threshold, "threshold_how": stats.threshold_how,
            "frames": stats.frames, "frames_without_face": stats.without_face, "visits": outcome,
            "suspected_attack_frames": stats.suspected_attacks,
            "genuine_frames": sum(len(v[2]) for v in visits if v[1]),
            "frames_matched_to_right_person": sum(r["person"] == truth[r["frame"]][0] for r in matched
                                                  if truth[r["frame"]][1]),
            "frames_matched_to_wrong_person": sum(r["person"] not in ("unknown", truth[r["frame"]][0])
                                                  for r in matched)}


def run_scenario(root: Path, pipeline: FacePipeline, config: ScenarioConfig = ScenarioConfig(),
                 lock: LockConfig = LockConfig()) -> dict:
    from edgeface.household import upper_bound

    rng = np.random.default_rng(config.seed)
    people = {name: [f.name for f in files] for name, files in lfw.people_images(root).items()}
    households = [run_household(root, pipeline, people, config, lock, rng)  # minutes each: say where it is
                  for _ in progress(range(config.households), "door scenario", unit="households")]
    outcome = [visit for household in households for visit in household["visits"]]
    genuine = [o for o in outcome if o["enrolled"]]
    impostor = [o for o in outcome if not o["enrolled"]]
    true_accepts = sum(o["unlocked_for"] == o["person"] for o in genuine)
    false_accepts = sum(o["unlocked_for"] is not None for o in impostor) + sum(
        o["unlocked_for"] not in (None, o["person"]) for o in genuine)
    total = lambda key: sum(h[key] for h in households)  # noqa: E731
    return {
        "config": asdict(config), "lock": asdict(lock),
        "pipeline": {**pipeline.description, "models": portable_path(pipeline.description.get("models", ""))},
        "threshold": households[0]["threshold"], "threshold_how": households[0]["threshold_how"],
        "genuine_visits": len(genuine), "true_accepts": true_accepts,
        "resident_visits_refused": len(genuine) - true_accepts,
        "impostor_visits": len(impostor), "false_accepts": false_accepts,
        "false_accepts_per_visit": false_accepts / max(1, len(impostor) + len(genuine)),
        "false_accepts_upper_95": upper_bound(false_accepts, len(impostor) + len(genuine)),
        "genuine_frames": total("genuine_frames"),
        "frames_matched_to_right_person": total("frames_matched_to_right_person"),
        "frames_matched_to_wrong_person": total("frames_matched_to_wrong_person"),
        "frames": total("frames"), "frames_without_face": total("frames_without_face"),
        "suspected_attack_frames": total("suspected_attack_frames"),
        "households": [{k: v for k, v in h.items() if k != "visits"} for h in households],
        "visits": outcome,
    }
