"""Run the `edgeface` CLI in a subprocess, optionally in a process where `import tensorflow` fails."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

def run_cli(*args: str, block_tensorflow: bool = False, tmp_path: Path | None = None,
            cwd: Path | None = None, block: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """`edgeface ARGS` in a subprocess; the packages in `block` (and TensorFlow with `block_tensorflow`) fail
    to import there, as they would where they are not installed."""
    env = dict(os.environ)
    block = (*block, "tensorflow") if block_tensorflow else block
    for package in block:
        blocker = tmp_path / "blocker" / package
        blocker.mkdir(parents=True, exist_ok=True)
        (blocker / "__init__.py").write_text(f"raise ImportError('{package} must not be imported here')\n")
    if block:
        env["PYTHONPATH"] = f"{tmp_path / 'blocker'}{os.pathsep}{env.get('PYTHONPATH', '')}"
    # Never the checkout as working folder: `python -m` puts it first on sys.path, where it would shadow the
    # installed package the tests are meant to exercise.
    return subprocess.run([sys.executable, "-m", "edgeface.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd or tempfile.gettempdir(), timeout=600)


def run_runtime_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """The CLI as the runtime-only install runs it: TensorFlow cannot be imported."""
    return run_cli(*args, block_tensorflow=True, tmp_path=tmp_path, cwd=tmp_path)
