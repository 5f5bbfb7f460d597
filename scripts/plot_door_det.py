"""One per-visit DET plot from several `edgeface lock calibrate` reports (the README's door plot).

Usage: python scripts/plot_door_det.py OUT.png LABEL=reports/household_a.json [LABEL=...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from edgeface.household import plot_det


def main(out: str, *labelled: str) -> None:
    reports = {label: json.loads(Path(path).read_text()) for label, _, path in (a.partition("=") for a in labelled)}
    plot_det(reports, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
