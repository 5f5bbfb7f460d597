"""The door lock's gallery: enrolled people and their embeddings in one versioned, checksummed JSON file.

Why JSON: a household's gallery is a few dozen vectors; a text file that a person can inspect, that a newer
edgeface can read (the `version` field says how), and that cannot run code when loaded. The checksum covers
everything else in the file, so a torn or hand-edited file is refused rather than half-trusted; writes are
atomic (temporary file, fsync, rename), so a crash or a full disk leaves the previous gallery in place.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgeface.runtime.fileio import atomic_write_text

FORMAT = "edgeface-gallery"
VERSION = 1


class GalleryError(ValueError):
    """A gallery file that is missing, torn, tampered with, or from an incompatible model."""


@dataclass
class Person:
    name: str
    embeddings: np.ndarray  # (K, dim) float32, L2-normalised
    enrolled: str = ""
    sources: list[str] = field(default_factory=list)


@dataclass
class Gallery:
    model: str  # sha256 of the float FaceNet export the embeddings came from (identifies the trained weights)
    dim: int = 128
    people: dict[str, Person] = field(default_factory=dict)

    def add(self, name: str, embeddings: np.ndarray, sources: list[str]) -> None:
        if not name.strip():
            raise GalleryError("a person needs a non-empty name")
        embeddings = np.asarray(embeddings, np.float32)
        if embeddings.ndim != 2 or embeddings.shape[1] != self.dim or len(embeddings) == 0:
            raise GalleryError(f"embeddings for {name!r} must be (K, {self.dim}), got {embeddings.shape}")
        self.people[name] = Person(name, embeddings, time.strftime("%Y-%m-%dT%H:%M:%S%z"), list(sources))

    def remove(self, name: str) -> None:
        if name not in self.people:
            raise GalleryError(f"{name!r} is not enrolled (enrolled: {', '.join(sorted(self.people)) or 'nobody'})")
        del self.people[name]

    def nearest(self, vector: np.ndarray) -> tuple[str | None, float]:
        """The enrolled person closest to an embedding (minimum over their shots) and the Euclidean distance."""
        best_name, best = None, float("inf")
        for person in self.people.values():
            distance = float(np.min(np.linalg.norm(person.embeddings - vector[None], axis=1)))
            if distance < best:
                best_name, best = person.name, distance
        return best_name, best

    # --- file format -------------------------------------------------------------------------------------
    def body(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "model": self.model, "dim": self.dim,
                "people": [{"name": p.name, "enrolled": p.enrolled, "sources": p.sources,
                            "embeddings": [[round(float(v), 7) for v in row] for row in p.embeddings]}
                           for p in sorted(self.people.values(), key=lambda p: p.name)]}

    def save(self, path: str | os.PathLike) -> None:
        body = self.body()
        atomic_write_text(path, json.dumps({"checksum": _checksum(body), **body}, indent=1) + "\n")


def _checksum(body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_gallery(path: str | os.PathLike) -> Gallery:
    path = Path(path)
    if not path.is_file():
        raise GalleryError(f"{path}: no gallery yet (enroll someone with `edgeface lock enroll`)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise GalleryError(f"{path}: not a complete gallery file (truncated or corrupt: {error})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise GalleryError(f"{path}: not an edgeface gallery")
    version = data.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise GalleryError(f"{path}: gallery version {version!r} is newer than this edgeface reads ({VERSION}); "
                           "upgrade edgeface")
    checksum = data.pop("checksum", None)
    if checksum != _checksum(data):
        raise GalleryError(f"{path}: checksum mismatch (the file was altered or torn); restore it or re-enroll")
    gallery = Gallery(model=str(data["model"]), dim=int(data["dim"]))
    for person in data["people"]:
        vectors = np.asarray(person["embeddings"], np.float32).reshape(-1, gallery.dim)
        gallery.people[person["name"]] = Person(person["name"], vectors, person.get("enrolled", ""),
                                                list(person.get("sources", [])))
    return gallery


def open_or_new(path: str | os.PathLike, model: str, dim: int) -> Gallery:
    """The gallery at `path` (checked against the model), or an empty one for this model if there is none."""
    if not Path(path).exists():
        return Gallery(model=model, dim=dim)
    gallery = load_gallery(path)
    check_model(gallery, model, path)
    return gallery


def check_model(gallery: Gallery, model: str, path: str | os.PathLike) -> None:
    if gallery.model != model:
        raise GalleryError(f"{path}: enrolled with another FaceNet (model {gallery.model[:12]}…, running "
                           f"{model[:12]}…); embeddings are not comparable — re-enroll")
