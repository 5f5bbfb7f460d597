"""Keep a training run's candidate weights in the repository, so that a later session can warm-start from them
or ship them.

Usage: python scripts/keep_candidate.py RUN_DIR WEIGHTS_NAME DEST_DIR
  e.g. python scripts/keep_candidate.py WORK/v6run3 best_tail.weights.h5 training/candidates/v6run3

Why: a run folder is scratch on the training machine and can be gone by the next session (it was, once, with
two v6 runs in it). DEST_DIR receives what the next steps need and nothing more:
- `student.weights.h5`: the chosen weights (warm start: `edgeface train run --init-weights`; shipping:
  `scripts/ship_nns2.sh`);
- `checkpoint.npz`: only the teacher projection of the run's last checkpoint (`--init-projection`), not the
  optimiser state; it belongs to the checkpoint's step, which may be later than the chosen weights';
- `config.json`, `log.jsonl`, `removed_duplicates.txt`: what the model card reads (`write_model_card.py`);
- `SHA256SUMS` over all of them.
Training faces are never kept (their licences forbid committing them), only weights trained on them.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np

try:  # an installed edgeface (editable or not); else this checkout's sources
    import edgeface.runtime  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from edgeface.runtime.fileio import atomic_save_npz, atomic_write_text  # noqa: E402
from edgeface.weights import sha256_file  # noqa: E402


def keep(run: Path, weights_name: str, dest: Path) -> None:
    from edgeface.models.facenet import build_nns2

    projection_key = f"var_{len(build_nns2().trainable_variables)}"  # as train.checkpoint_projection reads it
    dest.mkdir(parents=True, exist_ok=True)
    for source, name in ((run / weights_name, "student.weights.h5"), (run / "config.json", "config.json"),
                         (run / "log.jsonl", "log.jsonl"), (run / "removed_duplicates.txt", "removed_duplicates.txt")):
        shutil.copyfile(source, dest / f"{name}.partial")
        (dest / f"{name}.partial").replace(dest / name)
    with np.load(run / "checkpoint.npz", allow_pickle=False) as state:
        atomic_save_npz(dest / "checkpoint.npz", **{projection_key: state[projection_key], "step": state["step"]})
    names = sorted(p.name for p in dest.iterdir() if p.name != "SHA256SUMS")
    sums = "".join(f"{sha256_file(dest / n)}  {n}\n" for n in names)
    atomic_write_text(dest / "SHA256SUMS", sums)
    print(sums, end="")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    keep(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))
