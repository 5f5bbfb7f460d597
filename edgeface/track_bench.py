"""`edgeface bench-tracking`: the lock's frames per second on a walk-up video, full detection vs detect-then-track.

The video (made here, in memory, from LFW) is a run of visits: a resident or a stranger walks up to the camera
over `frames_per_visit` frames (edgeface.synthetic.walk_up), then the doorway is empty for `gap_frames`.
One resident is enrolled from photos not used in the video. The production lock loop (`run_lock`) replays the
same frames once per setting of `full_detect_every`, and the report gives frames/s of the whole loop (detect,
align, embed) and whether the decisions changed: which visits were let in, for whom (an unlock may come a frame
earlier or later), and how many frames voted differently.
Liveness is off: the walk-ups are photos, and this measures detection and recognition. The peer pipelines
(edgeface.bench_peers: detect → align → embed, no decision logic) run on every `peer_every`-th frame of the same
video in the same process, so the speed-ups against them are ratios from one run.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from edgeface import lfw
from edgeface.runtime.cpu import describe_cpu
from edgeface.runtime.fileio import portable_path
from edgeface.runtime.frames import Frame
from edgeface.runtime.gallery import Gallery
from edgeface.runtime.images import read_rgb
from edgeface.runtime.lock import LockConfig, collect_enrolment
from edgeface.runtime.pipeline import FacePipeline
from edgeface.synthetic import background, walk_up


@dataclass(frozen=True)
class TrackBenchConfig:
    frames: int = 1000
    frames_per_visit: int = 30
    gap_frames: int = 10
    fps: float = 10.0  # the video's frame rate (times the k-of-n window)
    enrol_photos: int = 8  # offered; the lock keeps its 5 sharpest (`shots`)
    shots: int = 5
    settings: tuple[int, ...] = (1, 10)  # full_detect_every values compared (1: the whole cascade every frame)
    peer_every: int = 10  # the peer pipelines run on every 10th frame of the same video (0: not at all)
    seed: int = 11


def walkup_video(root: Path, config: TrackBenchConfig) -> tuple[str, list[np.ndarray], list[np.ndarray], list[str]]:
    """(resident, enrolment photos, frames, who is at the door in each frame ('' when nobody))."""
    rng = np.random.default_rng(config.seed)
    people = {name: files for name, files in lfw.people_images(root).items()}
    regulars = sorted(name for name, files in people.items() if len(files) >= 30)
    resident = regulars[int(rng.integers(len(regulars)))]
    strangers = sorted(name for name in people if name != resident)
    photos = [read_rgb(path) for path in people[resident]]
    enrol, visits = photos[: config.enrol_photos], photos[config.enrol_photos :]
    frames, who = [], []
    visit = 0
    while len(frames) < config.frames:
        if visit % 2 == 0:
            name, face = resident, visits[(visit // 2) % len(visits)]
        else:
            name = strangers[int(rng.integers(len(strangers)))]
            face = read_rgb(people[name][0])
        frames += walk_up(face, config.frames_per_visit, rng)
        who += [name] * config.frames_per_visit
        empty = background((640, 480), rng)
        frames += [empty] * config.gap_frames
        who += [""] * config.gap_frames
        visit += 1
    return resident, enrol, frames[: config.frames], who[: config.frames]


def run_track_bench(root: Path, pipeline: FacePipeline, config: TrackBenchConfig = TrackBenchConfig(),
                    log=print) -> dict:
    from edgeface.door_scenario import replay

    resident, enrol, frames, who = walkup_video(root, config)
    result = collect_enrolment((Frame(i, float(i), image, f"enrol {i}") for i, image in enumerate(enrol)), pipeline,
                               config.shots)
    gallery = Gallery(model=pipeline.model_id, dim=pipeline.embedder.dim)
    gallery.add(resident, result.embeddings, result.sources)
    runs = {}
    for every in config.settings:
        lock = LockConfig(liveness=False, full_detect_every=every)
        stream = (Frame(i, i / config.fps, image, f"frame {i}") for i, image in enumerate(frames))
        start = time.perf_counter()
        stats, records = replay(stream, pipeline, gallery, lock)
        seconds = time.perf_counter() - start
        votes = {r["frame"]: r["person"] for r in records if "faces" in r}
        runs[every] = {"seconds": round(seconds, 2), "frames_per_s": round(len(frames) / seconds, 2),
                       "full_detections": stats.full_detections, "tracked_frames": stats.tracked_frames,
                       "frames_with_face": stats.with_faces,
                       "resident_frames_matched": sum(votes.get(i) == resident for i, name in enumerate(who)
                                                      if name == resident),
                       "stranger_frames_matched": sum(votes.get(i) not in (None, "unknown")
                                                      for i, name in enumerate(who) if name not in ("", resident)),
                       "unlocks": [(r["frame"], r["person"]) for r in records if r.get("action") == "unlock"],
                       "_votes": votes}
        per_visit = config.frames_per_visit + config.gap_frames
        runs[every]["visits_unlocked"] = {str(frame // per_visit): person for frame, person in runs[every]["unlocks"]}
        log(f"full detection every {every} frame(s): {runs[every]['frames_per_s']} frames/s, "
            f"{stats.full_detections} full / {stats.tracked_frames} tracked, {len(runs[every]['unlocks'])} unlocks")
    base = runs[config.settings[0]]
    for every, run in runs.items():
        run["same_visits_unlocked_as_every_frame"] = run["visits_unlocked"] == base["visits_unlocked"]
        run["frames_voting_differently"] = sum(run["_votes"].get(i) != base["_votes"].get(i) for i in range(len(frames)))
        run["speedup_vs_every_frame"] = round(base["seconds"] / run["seconds"], 2)
    for run in runs.values():
        del run["_votes"]
    peers = {}
    if config.peer_every:
        from edgeface.bench import hold_tensorflow_to_one_thread
        from edgeface.bench_peers import available_peers, peer_frames_per_s

        hold_tensorflow_to_one_thread()
        ready, missing = available_peers()
        sample = frames[:: config.peer_every]
        for name, peer in ready.items():
            fps = peer_frames_per_s(peer, sample)
            peers[name] = {"frames": len(sample), "frames_per_s": round(fps, 2),
                           **{f"full_detect_every_{every}_speedup": round(run["frames_per_s"] / fps, 2)
                              for every, run in runs.items()}}
            log(f"{name}: {fps:.2f} frames/s on every {config.peer_every}th frame")
        peers.update({name: {"missing": why} for name, why in missing.items()})

    return {"config": asdict(config), "cpu": describe_cpu(), "resident": resident,
            "resident_frames": who.count(resident),
            "stranger_frames": sum(1 for name in who if name not in ("", resident)),
            "pipeline": {**pipeline.description, "models": portable_path(pipeline.description.get("models", ""))},
            "runs": {f"full_detect_every_{every}": run for every, run in runs.items()}, "peers": peers}
