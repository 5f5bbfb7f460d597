"""The door lock's gallery: enrolled people and their embeddings in one versioned, authenticated JSON file.

Why JSON: a household's gallery is a few dozen vectors; a text file that a person can inspect, that a newer
edgeface can read (the `version` field says how), and that cannot run code when loaded.

Why an HMAC and not a checksum: anyone who can write the file can recompute a checksum, and one forged vector
(a stranger's, or an all-zero one at distance 1.0 from every face) opens the door. The gallery is signed with
a key (`<gallery>.key`, 32 random bytes, created 0600 with the first enrolment) that only the lock's service
user can read; a gallery that does not verify is refused. Vectors are also checked to be finite, unit length
and of the model's dimension, names to be printable NFC text.

Writes are atomic (temporary file, fsync, rename) and made under an exclusive lock (`<gallery>.lock`), so two
enrolments, or a removal during a slow enrolment, cannot lose each other's change; files are created 0600
(embeddings are biometric data) and keep their mode when rewritten.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import stat
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgeface.runtime.fileio import atomic_write_text
from edgeface.runtime.errors import EdgefaceError

FORMAT = "edgeface-gallery"
VERSION = 2  # 2: HMAC-SHA256 signature (1 had a plain checksum that anyone could recompute)
MAX_BYTES = 16 * 2**20  # about 10,000 shots; a larger file is refused before it is read
MAX_NAME_LENGTH = 64
RESERVED_NAMES = {"unknown"}  # what the audit log and `lock run` print for "nobody"
UNIT_NORM_TOLERANCE = 1e-3
KEY_BYTES = 32


class GalleryError(EdgefaceError, ValueError):
    """A gallery file that is missing, torn, forged, or from an incompatible model."""


def normalise_name(name: str) -> str:
    """NFC, trimmed, printable, not reserved: one way to spell a person, safe to print in a list or a log."""
    name = unicodedata.normalize("NFC", str(name)).strip()
    if not name:
        raise GalleryError("a person needs a non-empty name")
    if len(name) > MAX_NAME_LENGTH:
        raise GalleryError(f"name too long ({len(name)} characters; at most {MAX_NAME_LENGTH})")
    if not name.isprintable():
        raise GalleryError(f"name {name!r} has control characters (newlines, escapes); use printable text")
    if name.casefold() in RESERVED_NAMES:
        raise GalleryError(f"{name!r} is reserved (the lock uses it for faces nobody enrolled)")
    return name


def check_embeddings(vectors, dim: int, label: str) -> np.ndarray:
    """(K, dim) finite float32 rows of unit length, K >= 1; anything else is refused."""
    vectors = np.asarray(vectors, np.float32)
    if vectors.ndim != 2 or vectors.shape[1] != dim or len(vectors) == 0:
        raise GalleryError(f"embeddings for {label!r} must be (K, {dim}), got {vectors.shape}")
    if not np.all(np.isfinite(vectors)):
        raise GalleryError(f"embeddings for {label!r} are not finite")
    norms = np.linalg.norm(vectors, axis=1)
    if np.any(np.abs(norms - 1.0) > UNIT_NORM_TOLERANCE):
        raise GalleryError(f"embeddings for {label!r} are not unit length (norms {np.round(norms, 4).tolist()})")
    return vectors


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

    def add(self, name: str, embeddings: np.ndarray, sources: list[str], mode: str = "new") -> Person:
        """mode "new": refuse a name already enrolled; "add": append shots; "replace": drop the old shots."""
        name = normalise_name(name)
        embeddings = check_embeddings(embeddings, self.dim, name)
        existing = self.people.get(name)
        if existing is not None and mode == "new":
            raise GalleryError(f"{name!r} is already enrolled ({len(existing.embeddings)} shots): add --add to "
                               "add these shots, or --replace to replace them")
        if existing is not None and mode == "add":
            embeddings = np.concatenate([existing.embeddings, embeddings])
            sources = existing.sources + list(sources)
        person = Person(name, embeddings, time.strftime("%Y-%m-%dT%H:%M:%S%z"), list(sources))
        self.people[name] = person
        return person

    def remove(self, name: str) -> None:
        name = unicodedata.normalize("NFC", str(name)).strip()
        if name not in self.people:
            raise GalleryError(f"{name!r} is not enrolled (enrolled: {', '.join(sorted(self.people)) or 'nobody'})")
        del self.people[name]

    @property
    def shots(self) -> int:
        return sum(len(p.embeddings) for p in self.people.values())

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

    def save(self, path: str | os.PathLike, key: bytes) -> None:
        body = self.body()
        atomic_write_text(path, json.dumps({"signature": _signature(body, key), **body}, indent=1) + "\n", mode=0o600)


def _signature(body: dict, key: bytes) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return "hmac-sha256:" + hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


# --- the signing key ---------------------------------------------------------------------------------------
def key_path(gallery_path: str | os.PathLike) -> Path:
    """`$EDGEFACE_GALLERY_KEY`, else `<gallery>.key` beside the gallery."""
    return Path(os.environ.get("EDGEFACE_GALLERY_KEY") or f"{gallery_path}.key")


def read_key(gallery_path: str | os.PathLike) -> bytes:
    path = key_path(gallery_path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise GalleryError(f"{path}: the gallery's signing key is missing, so {gallery_path} cannot be trusted; "
                           "restore the key from a backup, or delete the gallery and enrol again") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise GalleryError(f"{path}: the signing key is readable or writable by other users (mode "
                           f"{stat.S_IMODE(info.st_mode):o}); run chmod 600 {path}")
    key = bytes.fromhex(path.read_text().strip()) if info.st_size < 1024 else b""
    if len(key) != KEY_BYTES:
        raise GalleryError(f"{path}: not an edgeface gallery key")
    return key


def create_key(gallery_path: str | os.PathLike) -> bytes:
    """A new random key, 0600, only when there is no gallery yet (a missing key never gets silently replaced)."""
    path = key_path(gallery_path)
    key = secrets.token_bytes(KEY_BYTES)
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_key(gallery_path)
    with os.fdopen(handle, "w") as out:
        out.write(key.hex() + "\n")
        out.flush()
        os.fsync(out.fileno())
    return key


# --- reading -----------------------------------------------------------------------------------------------
def load_gallery(path: str | os.PathLike, key: bytes | None = None) -> Gallery:
    """The gallery at `path`, verified with its key (read from `key_path(path)` unless given)."""
    path = Path(path)
    if not path.is_file():
        raise GalleryError(f"{path}: no gallery yet (enroll someone with `edgeface lock enroll`)")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise GalleryError(f"{path}: {size:,} bytes is too large for a gallery (limit {MAX_BYTES:,}); refused unread")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise GalleryError(f"{path}: not a complete gallery file (truncated or corrupt: {error})") from None
    except RecursionError:
        raise GalleryError(f"{path}: not a gallery (JSON nested too deeply)") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise GalleryError(f"{path}: not an edgeface gallery")
    version = data.get("version")
    if version == 1:
        raise GalleryError(f"{path}: an unsigned version-1 gallery (its checksum proves nothing about who wrote "
                           "it); delete it and enrol again with this edgeface")
    if version != VERSION:
        raise GalleryError(f"{path}: gallery version {version!r} is not one this edgeface reads ({VERSION})")
    signature = data.pop("signature", None)
    if not isinstance(signature, str) or not hmac.compare_digest(signature, _signature(data, key or read_key(path))):
        raise GalleryError(f"{path}: signature does not verify (the file was altered, torn, or signed with another "
                           "key); restore it or enrol again")
    try:
        gallery = Gallery(model=str(data["model"]), dim=int(data["dim"]))
        for person in data["people"]:
            name = normalise_name(person["name"])
            vectors = check_embeddings(person["embeddings"], gallery.dim, name)
            gallery.people[name] = Person(name, vectors, str(person.get("enrolled", "")),
                                          [str(s) for s in person.get("sources", [])])
    except (KeyError, TypeError, ValueError) as error:
        raise GalleryError(f"{path}: malformed gallery ({error})") from None
    return gallery


def check_model(gallery: Gallery, model: str, path: str | os.PathLike) -> None:
    if gallery.model != model:
        raise GalleryError(f"{path}: enrolled with another FaceNet (model {gallery.model[:12]}…, running "
                           f"{model[:12]}…); embeddings are not comparable — re-enroll")


# --- read-modify-write under one lock ----------------------------------------------------------------------
@contextlib.contextmanager
def locked_gallery(path: str | os.PathLike, model: str | None = None, dim: int = 128) -> Iterator[Gallery]:
    """The current gallery, held under an exclusive lock; saved, signed, when the block ends without an error.
    Another enrol/remove waits for the lock, then sees this change. With `model`, a gallery of another model is
    refused and a missing one is started (first enrolment: its key is created); without, it must exist."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if path.exists():
            key = read_key(path)
            gallery = load_gallery(path, key)
            if model is not None:
                check_model(gallery, model, path)
        elif model is not None:
            key, gallery = create_key(path), Gallery(model=model, dim=dim)
        else:
            raise GalleryError(f"{path}: no gallery yet (enroll someone with `edgeface lock enroll`)")
        yield gallery
        gallery.save(path, key)
    finally:
        os.close(handle)  # releases the lock


class GalleryWatcher:
    """The running lock's view of the gallery file: reloaded when the file changes (checked at most every
    `check_s` seconds of wall time, or at once after `request_reload`, e.g. on SIGHUP), so a removed person is
    refused within about a second. A file that no longer verifies empties the view (nobody is let in) until a
    good one is back: the lock fails closed."""

    def __init__(self, path: str | os.PathLike, model: str, check_s: float = 1.0) -> None:
        self.path, self.model, self.check_s = Path(path), model, check_s
        self.gallery = load_gallery(self.path)
        check_model(self.gallery, model, self.path)
        self._signature = self._stat()
        self._checked = time.monotonic()
        self._forced = False

    def _stat(self) -> tuple | None:
        try:
            info = self.path.stat()
        except OSError:
            return None
        return info.st_ino, info.st_size, info.st_mtime_ns

    def request_reload(self, *_) -> None:
        self._forced = True

    def poll(self) -> str | None:
        """Reload if due and changed; returns what happened ("reloaded", "refused: ...") or None."""
        now = time.monotonic()
        if not self._forced and now - self._checked < self.check_s:
            return None
        self._checked, forced, self._forced = now, self._forced, False
        signature = self._stat()
        if signature == self._signature and not forced:
            return None
        self._signature = signature
        try:
            gallery = load_gallery(self.path)
            check_model(gallery, self.model, self.path)
        except (GalleryError, OSError) as error:
            self.gallery = Gallery(model=self.model, dim=self.gallery.dim)
            return f"refused: {error}"
        self.gallery = gallery
        return "reloaded"
