"""scripts/runtime_fingerprint.py, the arm64 check's comparison (scripts/arm64_check.sh runs it on both machines):
a replay on the same machine agrees, and a changed int8 embedding value is caught."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "runtime_fingerprint.py"


def fingerprint(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=600)


def test_a_replay_agrees_and_a_changed_int8_embedding_is_caught(models_dir, lfw_root, tmp_path):
    first, replay, changed = tmp_path / "first.npz", tmp_path / "replay.npz", tmp_path / "changed.npz"
    common = ["--models", str(models_dir), "--lfw", str(lfw_root), "--images", "2"]
    for out, extra in ((first, []), (replay, ["--crops", str(first)])):
        result = fingerprint("dump", str(out), *common, *extra)
        assert result.returncode == 0, result.stderr[-2000:]
    same = fingerprint("compare", str(first), str(replay))
    assert same.returncode == 0, same.stdout + same.stderr[-2000:]
    assert same.stdout.count("-> OK") == 2, same.stdout

    data = dict(np.load(replay))
    data["int8_embeddings"] = data["int8_embeddings"].copy()
    data["int8_embeddings"][0, 0] += 1e-3
    np.savez(changed, **data)
    different = fingerprint("compare", str(first), str(changed))
    assert different.returncode == 1, different.stdout
    assert "int8: max |embedding difference| 0.001" in different.stdout and "DIFFERENT" in different.stdout
