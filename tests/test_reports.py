"""Committed reports are portable: they record no absolute path of the machine that made them."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def test_reports_hold_no_absolute_paths():
    reports = sorted((REPO / "reports").glob("*.json"))
    assert reports
    found = {path.name: s for path in reports for s in strings(json.loads(path.read_text())) if s.startswith("/")}
    assert not found, f"absolute paths in committed reports: {found}"


def test_portable_path(tmp_path, monkeypatch):
    from edgeface.runtime.fileio import portable_path

    monkeypatch.chdir(tmp_path)
    (tmp_path / "reports").mkdir()
    assert portable_path(tmp_path / "reports" / "a.png") == "reports/a.png"
    assert portable_path("/somewhere/else/lfw") == "lfw"
