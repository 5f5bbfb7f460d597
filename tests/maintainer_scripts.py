"""Load a maintainer script of this checkout as a module (scripts/ is not installed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[1] / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
