"""The layering the README's Architecture section describes: runtime ← float reference / converters /
calibration ← CLI. Read from the installed package's sources, so a new import that breaks it fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import edgeface
import edgeface.calibration
import edgeface.converters
import edgeface.runtime

PACKAGES = (edgeface, edgeface.runtime, edgeface.converters, edgeface.calibration)  # each may sit in its own folder


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name for name in names if name == "edgeface" or name.startswith("edgeface.")}


def package_files(package) -> list[Path]:
    files = sorted(Path(package.__file__).parent.rglob("*.py"))
    assert files, package
    return files


def test_the_runtime_imports_nothing_above_it():
    allowed = ("edgeface.runtime", "edgeface.weights")  # shipped data and its sha256 checks: no TensorFlow
    for path in package_files(edgeface.runtime):
        above = {m for m in imported_modules(path) if not m.startswith(allowed)}
        assert not above, f"{path.name} imports {sorted(above)}"


def test_nothing_but_the_cli_imports_the_cli():
    cli = Path(edgeface.__file__).parent / "cli"
    for path in {f for package in PACKAGES for f in package_files(package)}:
        if cli in path.parents:
            continue
        assert not {m for m in imported_modules(path) if m.startswith("edgeface.cli")}, path
