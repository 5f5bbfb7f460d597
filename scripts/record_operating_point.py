"""Record an embedder's LFW operating point from an `edgeface eval` report into edgeface/weights.

Usage: python scripts/record_operating_point.py reports/eval_<name>.json <name> [--mirror-fusion]
Writes edgeface/weights/operating_points.json (atomically) and refreshes its line in SHA256SUMS.
--mirror-fusion: the embedder runs with mirror fusion (runtime/operating_point.py): the thresholds come from the
report's "<name> + flip" result. A door policy recorded for the other kind of embedding is dropped; calibrate it
again (`edgeface lock calibrate`, scripts/record_door_policy.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

try:  # an installed edgeface (editable or not); else this checkout's sources
    import edgeface.runtime  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from edgeface.runtime.fileio import atomic_write_json, atomic_write_text  # noqa: E402
from edgeface.runtime.operating_point import DOOR_POLICY, MIRROR_FUSION  # noqa: E402
from edgeface.weights import WEIGHTS_DIR, sha256_file  # noqa: E402


def update_sums(name: str) -> None:
    sums_path = WEIGHTS_DIR / "SHA256SUMS"
    lines = [line for line in sums_path.read_text().splitlines() if line.strip() and not line.endswith(f"  {name}")]
    lines.append(f"{sha256_file(WEIGHTS_DIR / name)}  {name}")
    atomic_write_text(sums_path, "\n".join(sorted(lines, key=lambda l: l.split()[1])) + "\n")


def main(report_path: str, name: str, mirror_fusion: bool = False) -> None:
    report = json.loads(Path(report_path).read_text())
    result = report["results"][f"{name} + flip" if mirror_fusion else name]
    path = WEIGHTS_DIR / "operating_points.json"
    points = json.loads(path.read_text()) if path.is_file() else {}
    previous = points.get(name, {})
    kept = {}  # the door policy (scripts/record_door_policy.py), while it was measured on this kind of embedding
    if DOOR_POLICY in previous and previous.get(MIRROR_FUSION, False) == mirror_fusion:
        kept[DOOR_POLICY] = previous[DOOR_POLICY]
    elif DOOR_POLICY in previous:
        print("door policy dropped: it was calibrated on the other kind of embedding; run `edgeface lock calibrate` "
              "and scripts/record_door_policy.py", file=sys.stderr)
    points[name] = {**kept,
        "euclidean_threshold_accuracy": round(result["euclidean_threshold_accuracy"], 4),
        "euclidean_threshold_far_1e-3": round(result["euclidean_threshold_val"], 4),
        "lfw_accuracy": round(result["accuracy_mean"], 5),
        "lfw_val_at_far_1e-3": round(result["val"], 5),
        "source": f"edgeface eval --embedder {report['embedder']} ({report['pairs']} LFW pairs, "
                  f"{'face + mirror image' if mirror_fusion else 'no flip'})",
    }
    if mirror_fusion:
        points[name][MIRROR_FUSION] = True
    atomic_write_json(path, points)
    update_sums("operating_points.json")
    print(json.dumps(points[name]))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--mirror-fusion"]
    main(*args, mirror_fusion="--mirror-fusion" in sys.argv[1:])
