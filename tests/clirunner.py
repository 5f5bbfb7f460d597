"""Run the `edgeface` CLI in a subprocess, optionally in a process where `import tensorflow` fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, block_tensorflow: bool = False, tmp_path: Path | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if block_tensorflow:
        blocker = tmp_path / "blocker" / "tensorflow"
        blocker.mkdir(parents=True, exist_ok=True)
        (blocker / "__init__.py").write_text("raise ImportError('TensorFlow must not be imported here')\n")
        env["PYTHONPATH"] = f"{blocker.parent}{os.pathsep}{env.get('PYTHONPATH', '')}"
    return subprocess.run([sys.executable, "-m", "edgeface.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd or REPO, timeout=600)


def run_runtime_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """The CLI as the runtime-only install runs it: TensorFlow cannot be imported."""
    return run_cli(*args, block_tensorflow=True, tmp_path=tmp_path, cwd=tmp_path)
