"""The shipped door policy on LFW people it was never calibrated on (the odd half), from an all-of-LFW export.

Usage: python scripts/heldout_door_check.py E.npz [POLICY.json] [--target 1e-4]
  E.npz: `edgeface export-embeddings LFW/lfw-deepfunneled E.npz --models models` (every image, deployed int8).
  POLICY.json: `edgeface lock calibrate ... --policy-out` (default: reports/door_policy_nns2_int8.json).
Prints, per household size, the policy's threshold, stranger visits let in of 20,000 (tests/test_door_safety.py's
protocol, which CI runs at 1 and 4 residents on its own conversion), the people they were, the 95% upper bound
and resident visits refused.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from edgeface.household import held_out_check


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("embeddings", type=Path)
    parser.add_argument("policy", type=Path, nargs="?", default=Path("reports/door_policy_nns2_int8.json"))
    parser.add_argument("--target", default="1e-4", help="security target (stranger visits let in)")
    parser.add_argument("--residents", type=int, nargs="+", default=[1, 2, 3, 4, 8])
    args = parser.parse_args(argv)
    by_size = json.loads(args.policy.read_text())["by_target"][f"{float(args.target):g}"]
    with np.load(args.embeddings, allow_pickle=False) as data:
        embeddings, labels = data["embeddings"], data["labels"]
    print(f"{'residents':>9s} {'threshold':>9s} {'strangers let in':>16s} {'people':>6s} {'95% bound':>9s} "
          f"{'residents refused':>17s}")
    over = False
    for residents in args.residents:
        row = by_size.get(str(residents))
        if row is None:
            print(f"{residents:9d} {'none':>9s}")
            continue
        check = held_out_check(embeddings, labels, row["threshold"], residents)
        over |= check["far_per_visit"] > float(args.target)
        print(f"{residents:9d} {row['threshold']:9.3f} {check['stranger_visits_let_in']:>7d} / "
              f"{check['stranger_visits']:<6d} {check['stranger_people_let_in']:6d} "
              f"{check['far_per_visit_upper_95']:9.1e} {100 * check['frr_per_visit']:16.1f}%", flush=True)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
