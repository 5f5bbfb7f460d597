"""Record a door policy (`edgeface lock calibrate --policy-out`) with an embedder's operating point.

Usage: python scripts/record_door_policy.py reports/door_policy_<name>.json <name>
Adds it as `door_policy` to edgeface/weights/operating_points.json[<name>] (atomically) and refreshes SHA256SUMS;
`edgeface convert` copies the operating point, policy included, into every manifest it writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record_operating_point import update_sums  # noqa: E402

from edgeface.household import policy_rule  # noqa: E402
from edgeface.runtime.fileio import atomic_write_json  # noqa: E402
from edgeface.weights import WEIGHTS_DIR  # noqa: E402


def main(policy_path: str, name: str) -> None:
    policy = json.loads(Path(policy_path).read_text())
    path = WEIGHTS_DIR / "operating_points.json"
    points = json.loads(path.read_text())
    points[name]["door_policy"] = {"by_target": {target: {size: row["threshold"] if row else None
                                                          for size, row in sizes.items()}
                                                 for target, sizes in policy["by_target"].items()},
                                   "shots_per_resident": policy["shots_per_resident"], "lock": policy["lock"],
                                   "source": f"edgeface lock calibrate {policy['embeddings']} --half "
                                             f"{policy['config']['half']} --policy-out "
                                             f"({policy['config']['households']} households per size, "
                                             f"{policy['config']['stranger_visits_per_household']} stranger visits "
                                             f"each; {policy_rule(policy)})"}
    atomic_write_json(path, points)
    update_sums("operating_points.json")
    print(json.dumps(points[name]["door_policy"]))


if __name__ == "__main__":
    main(*sys.argv[1:])
