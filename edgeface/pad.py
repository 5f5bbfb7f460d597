"""Presentation-attack detection measured as ISO/IEC 30107-3 asks: per attack type, per attempt, at a fixed threshold.

- APCER (per attack type): attack presentations accepted as live. The worst type is the headline.
- BPCER: live presentations refused.
- An *attempt* is one presentation: one person (or one photo) in front of the camera for a sequence of frames.
  The door decides per attempt the way the lock does: the attempt passes when some `n` consecutive frames hold
  `k` frames judged live (`attempt_passes`). A frame without a face is never live.
- Every rate comes with its count and a one-sided 95% Clopper-Pearson upper bound.

Data layouts read by `load_frames`:
- NUAA Photograph Imposter Database (`db/` with `client_*_raw.txt`, `imposter_*_raw.txt`): split `train`
  (development: thresholds are chosen here) or `test`. Attempt = subject_glasses_position_session; one attack
  type, `print`. Listed files missing from a copy are skipped and counted.
- Any other folder: `ROOT/live/<attempt>/<frames>` and `ROOT/<attack type>/<attempt>/<frames>` (e.g. `print`,
  `screen`); frames in file-name order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from edgeface.household import upper_bound
from edgeface.runtime.errors import EdgefaceError
from edgeface.runtime.frames import IMAGE_SUFFIXES

LIVE = "live"
NUAA_LISTS = {"live": "client_{split}_raw.txt", "print": "imposter_{split}_raw.txt"}
NUAA_FOLDERS = {"live": "ClientRaw", "print": "ImposterRaw"}


class PadDataError(EdgefaceError, ValueError):
    """A presentation-attack data folder that cannot be read as NUAA or as ROOT/<kind>/<attempt>/<frames>."""


@dataclass(frozen=True)
class PadFrame:
    path: Path
    kind: str  # "live" or an attack type
    attempt: str
    order: int  # position in the attempt's sequence


def _number(text: str) -> int:
    digits = re.findall(r"\d+", text)
    return int(digits[-1]) if digits else 0


def nuaa_frames(db: Path, split: str) -> tuple[list[PadFrame], int]:
    """NUAA's listed frames of one split, and how many listed files are missing from this copy."""
    frames, missing = [], 0
    for kind, listing in NUAA_LISTS.items():
        path = db / listing.format(split=split)
        if not path.is_file():
            raise PadDataError(f"{path}: missing (a NUAA db/ folder has client_{split}_raw.txt and "
                               f"imposter_{split}_raw.txt)")
        for line in path.read_text(errors="replace").splitlines():
            name = line.strip().replace("\\", "/")
            if not name:
                continue
            file = db / NUAA_FOLDERS[kind] / name
            if not file.is_file():
                missing += 1
                continue
            stem = Path(name).stem  # ID_glasses_position_session_picture
            attempt, _, picture = stem.rpartition("_")
            frames.append(PadFrame(file, kind, f"{kind}/{attempt}", _number(picture)))
    return frames, missing


def folder_frames(root: Path) -> list[PadFrame]:
    frames = []
    for kind_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for attempt_dir in sorted(p for p in kind_dir.iterdir() if p.is_dir()):
            files = sorted(p for p in attempt_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            frames += [PadFrame(f, kind_dir.name, f"{kind_dir.name}/{attempt_dir.name}", i) for i, f in enumerate(files)]
    if not any(f.kind == LIVE for f in frames) or not any(f.kind != LIVE for f in frames):
        raise PadDataError(f"{root}: need ROOT/live/<attempt>/<frames> and ROOT/<attack type>/<attempt>/<frames> "
                           "(or a NUAA db/ folder)")
    return frames


def load_frames(root: Path, split: str = "test", every: int = 1) -> tuple[list[PadFrame], int]:
    """The frames to score (every `every`-th of each attempt, in order) and the count of listed-but-missing files."""
    if every < 1:
        raise PadDataError(f"--every must be at least 1 (got {every})")
    root = Path(root)
    if not root.is_dir():
        raise PadDataError(f"{root}: not a folder")
    if (root / NUAA_LISTS["live"].format(split="train")).is_file():
        frames, missing = nuaa_frames(root, split)
    else:
        frames, missing = folder_frames(root), 0
    by_attempt: dict[str, list[PadFrame]] = {}
    for frame in sorted(frames, key=lambda f: (f.attempt, f.order, f.path.name)):
        by_attempt.setdefault(frame.attempt, []).append(frame)
    return [f for attempt in by_attempt.values() for f in attempt[::every]], missing


def score_frames(frames: list[PadFrame], score: Callable[[Path], tuple[float, np.ndarray] | None],
                 progress: Callable[[Iterable, str], Iterable] = lambda it, _: it) -> tuple[np.ndarray, np.ndarray]:
    """Live score per frame (NaN where `score` found no face) and the face's 5 landmarks (NaN likewise)."""
    values, landmarks = [], []
    for frame in progress(frames, "liveness"):
        result = score(frame.path)
        values.append(np.nan if result is None else float(result[0]))
        landmarks.append(np.full((5, 2), np.nan) if result is None else np.asarray(result[1], np.float64))
    return np.array(values, np.float64), np.array(landmarks).reshape(len(frames), 5, 2)


def attempt_passes(live: np.ndarray, k: int, n: int) -> bool:
    """Whether some n consecutive frames (fewer if the attempt is shorter) hold k frames judged live."""
    live = np.asarray(live, bool)
    if len(live) < k:
        return False
    window = np.convolve(live.astype(int), np.ones(min(n, len(live)), int), mode="valid")
    return bool((window >= k).any())


def _rate(events: int, trials: int) -> dict:
    return {"count": events, "of": trials, "rate": events / trials if trials else None,
            "upper_95": upper_bound(events, trials) if trials else None}


def pad_report(frames: list[PadFrame], scores: np.ndarray, threshold: float, k: int = 3, n: int = 5) -> dict:
    """APCER per attack type and BPCER, per frame and per attempt, at `threshold` (live if score >= threshold)."""
    live = np.nan_to_num(scores, nan=-1.0) >= threshold
    kinds = sorted({f.kind for f in frames}, key=lambda kind: (kind != LIVE, kind))
    report: dict = {"threshold": threshold, "k": k, "n": n, "by_type": {}}
    for kind in kinds:
        index = [i for i, f in enumerate(frames) if f.kind == kind]
        attempts: dict[str, list[int]] = {}
        for i in index:
            attempts.setdefault(frames[i].attempt, []).append(i)
        passed = sum(attempt_passes(live[ids], k, n) for ids in attempts.values())
        frames_live = int(live[index].sum())
        row = {"frames": len(index), "frames_without_face": int(np.isnan(scores[index]).sum()),
               "attempts": len(attempts)}
        if kind == LIVE:
            row["bpcer_frames"] = _rate(len(index) - frames_live, len(index))
            row["bpcer_attempts"] = _rate(len(attempts) - passed, len(attempts))
        else:
            row["apcer_frames"] = _rate(frames_live, len(index))
            row["apcer_attempts"] = _rate(passed, len(attempts))
        report["by_type"][kind] = row
    attacks = {kind: row for kind, row in report["by_type"].items() if kind != LIVE}
    if attacks:
        worst = max(attacks, key=lambda kind: (attacks[kind]["apcer_attempts"]["rate"],
                                               attacks[kind]["apcer_frames"]["rate"]))
        report["worst_attack_type"] = worst
    report["frame_auc"] = frame_auc(frames, scores)
    return report


def frame_auc(frames: list[PadFrame], scores: np.ndarray) -> float | None:
    """Probability that a live frame scores above an attack frame (ties count half; no face scores lowest)."""
    values = np.nan_to_num(scores, nan=-1.0)
    is_live = np.array([f.kind == LIVE for f in frames])
    live, attack = values[is_live], values[~is_live]
    if not len(live) or not len(attack):
        return None
    ranks = _average_ranks(np.concatenate([live, attack]))
    return float((ranks[: len(live)].sum() - len(live) * (len(live) + 1) / 2) / (len(live) * len(attack)))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), np.float64)
    sorted_values = values[order]
    start = 0
    for end in range(1, len(values) + 1):
        if end == len(values) or sorted_values[end] != sorted_values[start]:
            ranks[order[start:end]] = (start + end + 1) / 2
            start = end
    return ranks


def dev_threshold(frames: list[PadFrame], scores: np.ndarray, frame_bpcer: float) -> float:
    """The strictest threshold that refuses at most `frame_bpcer` of the live frames (faces found) of development
    data. Strict on purpose: on a camera the nets never saw, attacks score higher than on NUAA while live faces
    stay high, so the margin above the attacks of the development set is what carries to a new door."""
    live = np.sort(np.array([s for f, s in zip(frames, scores) if f.kind == LIVE and np.isfinite(s)]))
    if not len(live):
        raise PadDataError("no live frame with a face in the development data")
    refused = int(np.floor(frame_bpcer * len(live)))
    return float(live[refused])


def sweep(frames: list[PadFrame], scores: np.ndarray, thresholds: np.ndarray) -> list[dict]:
    """Frame-level APCER per attack type and BPCER over thresholds (the DET curve's points)."""
    values = np.nan_to_num(scores, nan=-1.0)
    kinds = sorted({f.kind for f in frames})
    masks = {kind: np.array([f.kind == kind for f in frames]) for kind in kinds}
    rows = []
    for threshold in thresholds:
        accepted = values >= threshold
        row = {"threshold": round(float(threshold), 5)}
        for kind, mask in masks.items():
            rate = float(accepted[mask].mean()) if mask.any() else None
            row[f"bpcer_{kind}" if kind == LIVE else f"apcer_{kind}"] = None if rate is None else (
                1 - rate if kind == LIVE else rate)
        rows.append(row)
    return rows


def plot_det(rows: list[dict], threshold: float, path: Path, title: str) -> None:
    """APCER per attack type against BPCER over thresholds (frames), the chosen threshold marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 5))
    for key in [k for k in rows[0] if k.startswith("apcer_")]:
        axis.plot([r["bpcer_live"] for r in rows], [r[key] for r in rows], marker=".", label=key[6:])
        chosen = min(rows, key=lambda r: abs(r["threshold"] - threshold))
        axis.plot([chosen["bpcer_live"]], [chosen[key]], "o", color="k")
    axis.set_xscale("symlog", linthresh=1e-3)
    axis.set_yscale("symlog", linthresh=1e-3)
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1)
    axis.set_xlabel("BPCER (live frames refused)")
    axis.set_ylabel("APCER (attack frames accepted)")
    axis.set_title(f"{title}\nthreshold {threshold:.3f} marked", fontsize=9)
    axis.grid(True, which="both", alpha=0.3)
    axis.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def frame_scorer(pipeline) -> Callable[[Path], tuple[float, np.ndarray] | None]:
    """Path → (live score, landmarks) of the frame's central face (None: no face), with the pipeline's nets."""
    from edgeface.runtime.cascade import detect_one
    from edgeface.runtime.images import read_rgb

    if pipeline.liveness is None:
        raise PadDataError("these models have no anti-spoofing nets (a folder converted before liveness detection): "
                           "run `edgeface convert` again")

    def score(path: Path) -> float | None:
        image = read_rgb(path)
        face = detect_one(pipeline, image)
        return None if face is None else (pipeline.liveness.score(image, face), face.landmarks)

    return score


@dataclass
class PadEvaluation:
    """What `edgeface eval-pad` runs: which data, and how the threshold is set."""

    data: Path
    split: str = "test"
    every: int = 1
    threshold: float | None = None  # None: the models' recorded one, unless choose_frame_bpcer is given
    choose_frame_bpcer: float | None = None  # development data: fix the threshold here at this frame BPCER
    k: int = 3
    n: int = 5


def evaluate(config: PadEvaluation, pipeline, progress=lambda it, _: it) -> tuple[dict, list[PadFrame], np.ndarray]:
    frames, missing = load_frames(config.data, config.split, config.every)
    if not frames:
        raise PadDataError(f"{config.data}: no frames for split {config.split!r}")
    scores, landmarks = score_frames(frames, frame_scorer(pipeline), progress)
    if config.choose_frame_bpcer is not None:
        threshold = dev_threshold(frames, scores, config.choose_frame_bpcer)
        how = f"chosen here: the strictest refusing at most {config.choose_frame_bpcer:g} of live frames"
    elif config.threshold is not None:
        threshold, how = float(config.threshold), "given"
    elif pipeline.liveness.threshold is not None:
        threshold, how = float(pipeline.liveness.threshold), f"the models' recorded one ({pipeline.liveness.how})"
    else:
        raise PadDataError("no liveness threshold recorded for these models: pass --threshold, or fix one on "
                           "development data with --choose-frame-bpcer")
    from edgeface.runtime.fileio import portable_path

    report = {"data": portable_path(config.data), "split": config.split, "every": config.every,
              "listed_missing": missing,
              "threshold_how": how, **pad_report(frames, scores, threshold, config.k, config.n),
              "sweep": sweep(frames, scores, np.round(np.linspace(0, 1, 201), 4)),
              "frames": [{"file": f.path.name, "attempt": f.attempt,
                          "score": None if np.isnan(s) else round(float(s), 5),
                          "landmarks": None if np.isnan(s) else np.round(points, 2).tolist()}
                         for f, s, points in zip(frames, scores, landmarks)]}
    return report, frames, scores


def summary_lines(report: dict) -> list[str]:
    def rate(row: dict) -> str:
        if row["of"] == 0:
            return "n/a"
        return f"{row['count']}/{row['of']} = {100 * row['rate']:.2f}% (95% bound {100 * row['upper_95']:.2f}%)"

    lines = [f"threshold {report['threshold']:.4f} ({report['threshold_how']}); an attempt passes with "
             f"{report['k']} live frames among {report['n']} consecutive"]
    for kind, row in report["by_type"].items():
        what = "BPCER" if kind == LIVE else "APCER"
        key = "bpcer" if kind == LIVE else "apcer"
        lines.append(f"{kind:8s} {what} attempts {rate(row[key + '_attempts'])}; frames {rate(row[key + '_frames'])}"
                     f"; {row['frames_without_face']} frames without a face")
    if "worst_attack_type" in report:
        lines.append(f"worst attack type: {report['worst_attack_type']}; frame AUC {report['frame_auc']:.4f}")
    return lines
