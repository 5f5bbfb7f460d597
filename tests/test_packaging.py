"""The wheel users install holds every module and every shipped weights file.

An editable install (or running inside the checkout) reads the checkout's own files and hides what the wheel
forgets; this test builds the wheel from a clean copy of the tree, offline, and reads its file list.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# checkout folder -> import name (setup.py's FOLDERS)
FOLDERS = {"edgeface": "edgeface", "runtime": "edgeface/runtime", "converters": "edgeface/converters",
           "calibration": "edgeface/calibration"}
NOT_SOURCE = {".venv", ".git", "build", "dist", "__pycache__", ".pytest_cache"}
LOCAL_OUTPUTS = {"models", "runs", "out", "models_out"}  # top-level folders a developer's runs leave behind


def expected_files() -> set[str]:
    """Every Python module of the tree and every file SHA256SUMS names, by their path inside the wheel."""
    files = set()
    for folder, installed in FOLDERS.items():
        for path in (REPO / folder).rglob("*.py"):
            if "__pycache__" not in path.parts:
                files.add(f"{installed}/{path.relative_to(REPO / folder).as_posix()}")
    sums = (REPO / "edgeface" / "weights" / "SHA256SUMS").read_text().splitlines()
    files |= {f"edgeface/weights/{line.split(maxsplit=1)[1].strip()}" for line in sums if line.strip()}
    return files | {"edgeface/weights/SHA256SUMS"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    shutil.copytree(REPO, source, dirs_exist_ok=True,
                    ignore=lambda folder, names: [n for n in names if n in NOT_SOURCE or n.endswith(".egg-info")
                                                   or (Path(folder) == REPO and n in LOCAL_OUTPUTS)])
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                             "-w", str(out), str(source)], capture_output=True, text=True, timeout=600,
                            env=dict(os.environ, PIP_NO_INDEX="1"))
    assert result.returncode == 0, result.stderr[-3000:]
    (path,) = out.glob("edgeface-*.whl")
    return path


def test_wheel_holds_every_module_and_weights_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(expected_files() - names)
    assert not missing, f"the wheel lacks {missing}"


def test_wheel_declares_the_cli(wheel):
    archive = zipfile.ZipFile(wheel)
    (entry_points,) = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
    assert "edgeface = edgeface.cli:app" in archive.read(entry_points).decode()

