"""Shipped weights. Every file is listed with its sha256 in SHA256SUMS and provenance in README.md."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from edgeface.runtime.errors import EdgefaceError

WEIGHTS_DIR = Path(__file__).resolve().parent


class WeightsError(EdgefaceError, RuntimeError):
    """A shipped weights file is missing or differs from its recorded sha256."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=None)
def recorded_sums() -> dict[str, str]:
    sums = {}
    for line in (WEIGHTS_DIR / "SHA256SUMS").read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.strip()] = digest
    return sums


@lru_cache(maxsize=None)
def checked_path(name: str) -> Path:
    """Path of a shipped weights file after checking it against SHA256SUMS (once per process)."""
    path = WEIGHTS_DIR / name
    expected = recorded_sums().get(name)
    if expected is None:
        raise WeightsError(f"{name} is not listed in {WEIGHTS_DIR / 'SHA256SUMS'}")
    if not path.is_file():
        raise WeightsError(f"shipped weights file {path} is missing (a broken install or checkout?)")
    try:
        actual = sha256_file(path)
    except OSError as error:
        raise WeightsError(f"shipped weights file {path} cannot be read ({error.strerror or error})") from None
    if actual != expected:
        raise WeightsError(f"{path}: sha256 {actual} does not match the recorded {expected}")
    return path


def shipped_operating_points() -> dict:
    """operating_points.json as shipped, sha256-checked: the thresholds recorded per embedder and net."""
    import json

    return json.loads(checked_path("operating_points.json").read_text())


WEIGHTS_FILES = {"nns2": "nns2_facenet.weights.h5", "mobilefacenet": "mobilefacenet.tflite",
                 "minifasnet": "minifasnet.npz"}  # the shipped weights each recorded operating point belongs to


def shipped_point(name: str) -> dict:
    """What operating_points.json records for `name` ({} when nothing), plus `weights_sha256`: the sha256 of
    the weights it was measured with, which is also the model id a gallery made with them carries."""
    from edgeface.runtime.operating_point import WEIGHTS_SHA256

    point = dict(shipped_operating_points().get(name, {}))
    weights = recorded_sums().get(WEIGHTS_FILES.get(name, ""))
    if point and weights:
        point[WEIGHTS_SHA256] = weights
    return point


def weights_id(name: str) -> str:
    """The id of the shipped embedder `name`'s weights: their sha256 (the name if none ship)."""
    return recorded_sums().get(WEIGHTS_FILES.get(name, ""), name)
