"""Record the anti-spoofing nets' live threshold, fixed on development data by `edgeface eval-pad --choose-frame-bpcer`.

Usage: python scripts/record_liveness_threshold.py reports/pad_dev_<...>.json
Writes `minifasnet` in edgeface/weights/operating_points.json (atomically) and refreshes SHA256SUMS;
`edgeface convert` copies it, with the sha256 of weights/minifasnet.npz, into every manifest it writes, and the
runtime refuses a manifest whose threshold differs from the shipped one for these weights.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record_operating_point import update_sums  # noqa: E402

from edgeface.runtime.fileio import atomic_write_json  # noqa: E402
from edgeface.weights import WEIGHTS_DIR  # noqa: E402


def main(report_path: str) -> None:
    report = json.loads(Path(report_path).read_text())
    if report["split"] != "train" or not report["threshold_how"].startswith("chosen here"):
        raise SystemExit(f"{report_path}: not a development-split run with --choose-frame-bpcer")
    live = report["by_type"]["live"]
    path = WEIGHTS_DIR / "operating_points.json"
    points = json.loads(path.read_text())
    points["minifasnet"] = {
        "live_threshold": round(float(report["threshold"]), 4),
        "source": (f"edgeface eval-pad NUAA --split train --every {report['every']} --choose-frame-bpcer "
                   f"({report['threshold_how']}; {live['frames']} live frames of {live['attempts']} attempts, "
                   f"{' '.join(str(v) for k, v in report['using'].items() if k in ('models', 'variant'))})"),
        "development": {kind: {k: v for k, v in row.items()} for kind, row in report["by_type"].items()},
        "development_frame_auc": report["frame_auc"]}
    atomic_write_json(path, points)
    update_sums("operating_points.json")
    print(json.dumps(points["minifasnet"]))


if __name__ == "__main__":
    main(*sys.argv[1:])
