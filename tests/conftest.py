"""Shared fixtures. LFW-dependent tests use the real data set (../shared/data/lfw or $EDGEFACE_LFW)."""

from __future__ import annotations

from pathlib import Path

import pytest


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
