"""Shared fixtures. LFW-dependent tests use the real data set (../shared/data/lfw or $EDGEFACE_LFW)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def pytest_sessionstart(session) -> None:
    """CI sets EDGEFACE_TEST_INSTALLED=1 after a non-editable install: then the package under test must be the
    installed one. Running from the checkout would hide a module or weights file the wheel forgot."""
    import os

    if os.environ.get("EDGEFACE_TEST_INSTALLED") == "1":
        try:
            import edgeface.runtime
        except ImportError as error:  # the checkout's edgeface/ has no runtime/ inside: `python -m` shadowing
            pytest.exit(f"EDGEFACE_TEST_INSTALLED=1 but the installed package is shadowed ({error}); run pytest, "
                        "not python -m pytest", returncode=3)

        for module, folder in ((sys.modules["edgeface"], "edgeface"), (edgeface.runtime, "runtime")):
            if (REPO / folder) in Path(module.__file__).resolve().parents:
                pytest.exit(f"EDGEFACE_TEST_INSTALLED=1 but {module.__name__} is imported from the checkout "
                            f"({module.__file__}); run pytest (not python -m pytest) after a non-editable install",
                            returncode=3)


@pytest.fixture(scope="session")
def lfw_root() -> Path:
    from edgeface.lfw import LfwError, locate_lfw

    try:
        return locate_lfw()
    except LfwError as error:  # the product's promise is about LFW: missing data is a failure, not a skip
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def float_detector():
    from edgeface.detector import FloatDetector

    return FloatDetector()


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory, lfw_root) -> Path:
    """A folder converted by this test session (about 8 minutes on CI's 2 cores).

    EDGEFACE_TEST_MODELS=DIR reuses a folder a developer converted earlier with these same settings, to iterate
    on runtime tests quickly; CI never sets it, so every CI run converts afresh.
    """
    import os

    if os.environ.get("EDGEFACE_TEST_MODELS"):
        return Path(os.environ["EDGEFACE_TEST_MODELS"])
    out = tmp_path_factory.mktemp("models")
    result = subprocess.run(
        [sys.executable, "-m", "edgeface.cli", "convert", "--int8", "--edgetpu", "--out", str(out), "--input-size",
         "250x250", "--input-size", "640x480", "--calibration-images", "120", "--agreement-images", "40",
         "--lfw", str(lfw_root)], capture_output=True, text=True, cwd=out.parent, timeout=3000)
    assert result.returncode == 0, result.stderr[-3000:]
    return out
