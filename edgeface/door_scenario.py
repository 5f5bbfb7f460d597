"""The door-lock scenario on LFW: enrol a few people from some of their photos, then replay visits.

A visit is `frames_per_visit` distinct held-out photos of one person, each pasted into a 640x480 door-camera
frame, 0.2 s apart; visits are 10 s apart, so every visit starts with a locked door and an empty vote window.
Enrolled people come back with photos not used for enrolment; strangers are LFW people never enrolled. The lock
loop is the production one (`run_lock`); its audit records are read back to score each visit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from edgeface import lfw
from edgeface.runtime.frames import Frame
from edgeface.runtime.actions import Door
from edgeface.runtime.gallery import Gallery
from edgeface.runtime.images import read_rgb
from edgeface.runtime.lock import LockConfig, collect_enrolment, run_lock
from edgeface.runtime.pipeline import FacePipeline
from edgeface.synthetic import door_frame


@dataclass(frozen=True)
class ScenarioConfig:
    enrolled_people: int = 3
    enrol_images: int = 8  # photos offered at enrolment (the lock keeps `shots` of them)
    shots: int = 5
    visits_per_person: int = 10
    strangers: int = 50
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


def run_scenario(root: Path, pipeline: FacePipeline, config: ScenarioConfig = ScenarioConfig(),
                 lock: LockConfig = LockConfig()) -> dict:
    rng = np.random.default_rng(config.seed)
    people = {name: [f.name for f in files] for name, files in lfw.people_images(root).items()}
    candidates = [n for n, files in people.items() if len(files) >= config.min_images_enrolled]
    enrolled = [candidates[i] for i in rng.choice(len(candidates), config.enrolled_people, replace=False)]
    others = [n for n, files in people.items() if len(files) >= config.min_images_stranger and n not in enrolled]
    strangers = [others[i] for i in rng.choice(len(others), config.strangers, replace=False)]

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

    frames, frame_visit = [], {}
    for v, (name, _, files) in enumerate(visits):
        for j, file in enumerate(files):
            index = len(frames)
            frame_visit[index] = v
            frames.append(Frame(index, 10.0 * v + 0.2 * j, door_frame([image(name, file)], rng), f"{name}/{file}"))
    audit = MemoryAudit()
    door = Door(SilentAction(), audit)
    try:
        stats = run_lock(frames, pipeline, gallery, lock, door, audit)
    finally:
        door.close("scenario end")

    unlocked = {}
    for record in audit.records:
        if record.get("action") == "unlock":
            unlocked.setdefault(frame_visit[record["frame"]], record["person"])
    outcome = []
    for v, (name, is_enrolled, files) in enumerate(visits):
        outcome.append({"person": name, "enrolled": is_enrolled, "frames": len(files), "unlocked_for": unlocked.get(v)})
    genuine = [o for o in outcome if o["enrolled"]]
    impostor = [o for o in outcome if not o["enrolled"]]
    true_accepts = sum(o["unlocked_for"] == o["person"] for o in genuine)
    false_accepts = sum(o["unlocked_for"] is not None for o in impostor) + sum(
        o["unlocked_for"] not in (None, o["person"]) for o in genuine)
    matched = [r for r in audit.records if "faces" in r]
    frame_true = sum(r["person"] == visits[frame_visit[r["frame"]]][0] for r in matched if visits[frame_visit[r["frame"]]][1])
    frame_false = sum(r["person"] not in ("unknown", visits[frame_visit[r["frame"]]][0]) for r in matched)
    return {
        "config": asdict(config), "lock": asdict(lock), "pipeline": pipeline.description,
        "threshold": pipeline.threshold(lock.threshold, strict=True),
        "enrolled": enrolment,
        "genuine_visits": len(genuine), "true_accepts": true_accepts,
        "impostor_visits": len(impostor), "false_accepts": false_accepts,
        "genuine_frames": sum(len(v[2]) for v in visits if v[1]), "frames_matched_to_right_person": frame_true,
        "frames_matched_to_wrong_person": frame_false,
        "frames": stats.frames, "frames_without_face": stats.without_face,
        "visits": outcome,
    }
