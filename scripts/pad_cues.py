"""What each liveness cue adds, per attempt, from an `edgeface eval-pad` report (it keeps every frame's score and
landmarks): the per-frame nets alone (median score of the attempt), the planarity cue alone
(`edgeface.pad_motion`), and their product.

    python scripts/pad_cues.py reports/pad_dev_int8.json [--gap 3]

Prints each cue's attempt-level AUC (live above attack) and the attack attempts each cue ranks above the
lowest-ranked live attempt. Development data only: this chooses nothing on the test split.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from edgeface.pad import LIVE, PadFrame, frame_auc
from edgeface.pad_motion import attempt_planarity


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("--gap", type=int, default=3)
    args = parser.parse_args()
    report = json.loads(open(args.report).read())
    attempts: dict[str, list[dict]] = {}
    for frame in report["frames"]:
        attempts.setdefault(frame["attempt"], []).append(frame)
    rows = []
    for attempt, frames in attempts.items():
        scores = np.array([f["score"] if f["score"] is not None else 0.0 for f in frames])
        points = np.array([f["landmarks"] if f["landmarks"] is not None else np.full((5, 2), np.nan).tolist()
                           for f in frames], np.float64)
        rows.append((attempt, float(np.median(scores)), attempt_planarity(points, args.gap)))
    kinds = [a.split("/")[0] for a, _, _ in rows]
    cues = {"nets (median score)": np.array([r[1] for r in rows]),
            "planarity (residual)": np.nan_to_num(np.array([r[2] for r in rows]), nan=0.0)}
    cues["product"] = cues["nets (median score)"] * cues["planarity (residual)"]
    fake = [PadFrame(None, kind, a, 0) for kind, (a, _, _) in zip(kinds, rows)]
    for name, values in cues.items():
        live = values[[k == LIVE for k in kinds]]
        attack = values[[k != LIVE for k in kinds]]
        print(f"{name:22s} attempt AUC {frame_auc(fake, values):.4f}; live median {np.median(live):.4f}, "
              f"attack median {np.median(attack):.4f}; attacks above the lowest live: {(attack > live.min()).sum()}"
              f" of {len(attack)}")


if __name__ == "__main__":
    main()
