"""The model manifest: the one description of a models folder written by `edgeface convert`.

`manifest.json` lists every exported file with its sha256, size, tensors (shape, dtype, quantization) and
preprocessing, so the runtime can check a folder before trusting it and can find the right P-Net for each
pyramid level. Writer (converter) and reader (runtime) both use this module; it needs no TensorFlow.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from edgeface.runtime.errors import EdgefaceError
from edgeface.runtime.operating_point import DOOR_POLICY, MIRROR_FUSION, WEIGHTS_SHA256

MANIFEST_NAME = "manifest.json"
MAX_MANIFEST_BYTES = 4 * 2**20  # a default conversion's manifest is about 80 KB; a larger file is refused unread
SCHEMA_VERSION = 1
VARIANTS = ("fp32", "fp16", "dynamic", "int8", "edgetpu")


class ManifestError(EdgefaceError, RuntimeError):
    """A models folder that is incomplete, tampered with, or not what the runtime expects."""


@dataclass
class TensorInfo:
    name: str
    shape: list[int]
    dtype: str
    scale: float = 0.0
    zero_point: int = 0


@dataclass
class ModelEntry:
    role: str  # pnet | rnet | onet | facenet
    variant: str  # one of VARIANTS
    file: str
    sha256: str
    bytes: int
    inputs: list[TensorInfo]
    outputs: dict[str, TensorInfo]  # by meaning: prob, offsets, landmarks, embedding
    preprocessing: str
    calibration: str | None = None
    accuracy: dict = field(default_factory=dict)
    edgetpu: dict | None = None
    source: str = ""  # what the float model was: e.g. "edgeface NNS2 weights sha256 …" or "ONNX file sha256 …"

    @property
    def input_hw(self) -> tuple[int, int]:
        shape = self.inputs[0].shape
        return int(shape[1]), int(shape[2])


@dataclass
class Manifest:
    models: list[ModelEntry]
    camera: dict = field(default_factory=dict)  # width, height, min_face_size, scale_factor for the P-Net set
    operating_point: dict = field(default_factory=dict)  # LFW thresholds of the embedder
    liveness: dict = field(default_factory=dict)  # the anti-spoofing nets' live threshold (development data)
    created_by: str = ""
    schema_version: int = SCHEMA_VERSION

    def find(self, role: str, variant: str, input_hw: tuple[int, int] | None = None) -> ModelEntry | None:
        for entry in self.models:
            if entry.role == role and entry.variant == variant and (input_hw is None or entry.input_hw == input_hw):
                return entry
        return None

    def variants(self, role: str) -> list[str]:
        return sorted({e.variant for e in self.models if e.role == role}, key=VARIANTS.index)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _tensor(data: dict) -> TensorInfo:
    return TensorInfo(**data)


def parse_manifest(text: str, label: str = MANIFEST_NAME) -> Manifest:
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ManifestError(f"{label}: not an edgeface manifest (a JSON {type(data).__name__}, not an object)")
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ManifestError(f"{label}: schema version {data.get('schema_version')} is not {SCHEMA_VERSION}")
        models = []
        for item in data["models"]:
            item = dict(item)
            item["inputs"] = [_tensor(t) for t in item["inputs"]]
            item["outputs"] = {k: _tensor(t) for k, t in item["outputs"].items()}
            models.append(ModelEntry(**item))
        return Manifest(models=models, camera=data.get("camera", {}), operating_point=data.get("operating_point", {}),
                        liveness=data.get("liveness", {}), created_by=data.get("created_by", ""),
                        schema_version=data["schema_version"])
    except ManifestError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ManifestError(f"{label}: not a valid edgeface manifest ({error})") from None
    except RecursionError:
        raise ManifestError(f"{label}: not an edgeface manifest (JSON nested too deeply)") from None


def load_manifest(folder: str | Path, verify: bool = True) -> Manifest:
    """Read `folder/manifest.json`; with `verify`, check every listed file's size and sha256."""
    folder = Path(folder)
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise ManifestError(f"{path}: no manifest; is {folder} a folder written by `edgeface convert`?")
    size = path.stat().st_size
    if size > MAX_MANIFEST_BYTES:
        raise ManifestError(f"{path}: {size:,} bytes is too large for a manifest (limit {MAX_MANIFEST_BYTES:,}); "
                            "refused unread")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ManifestError(f"{path}: not a text manifest ({error})") from None
    manifest = parse_manifest(text, str(path))
    if verify:
        for entry in manifest.models:
            model_path = folder / entry.file
            if not model_path.is_file():
                raise ManifestError(f"{model_path}: listed in the manifest but missing")
            data = model_path.read_bytes()
            if len(data) != entry.bytes or sha256_bytes(data) != entry.sha256:
                raise ManifestError(f"{model_path}: sha256/size differ from the manifest (tampered or corrupt)")
    return manifest


def checked_operating_point(point: dict, label: str = MANIFEST_NAME) -> dict:
    """The manifest's operating point, trusted only as far as it can be checked.

    Anyone who can write the models folder can edit manifest.json (the sha256 checks cover the model files, not
    the thresholds): a threshold of 2.0 would let every stranger in, silently. So every threshold must lie in
    (0, 2), and when the point names the shipped NNS2 weights (`weights_sha256`), its thresholds must be the
    ones shipped with those weights in the installed package (edgeface/weights/operating_points.json), and so
    must its mirror fusion: the thresholds hold for one kind of embedding only."""
    thresholds = {k: v for k, v in point.items() if k.startswith("euclidean_threshold")}
    for key, value in thresholds.items():
        if not isinstance(value, (int, float)) or not 0.0 < float(value) < 2.0:
            raise ManifestError(f"{label}: operating point {key} = {value!r} is outside (0, 2); refused")
    policy = point.get(DOOR_POLICY, {})
    for target, sizes in (policy.get("by_target", {}) if isinstance(policy, dict) else {}).items():
        for size, value in sizes.items():
            if value is not None and not (isinstance(value, (int, float)) and 0.0 < float(value) < 2.0):
                raise ManifestError(f"{label}: door policy threshold {value!r} ({size} residents, target {target}) "
                                    "is outside (0, 2); refused")
    weights = point.get(WEIGHTS_SHA256)
    if weights:
        from edgeface.weights import shipped_point

        shipped = shipped_point("nns2")
        if weights == shipped.get(WEIGHTS_SHA256):
            edited = {k: v for k, v in thresholds.items() if shipped.get(k) != v}
            if DOOR_POLICY not in point and DOOR_POLICY in shipped:
                raise ManifestError(f"{label}: written by an older edgeface convert (no door policy); convert again")
            if MIRROR_FUSION not in point and MIRROR_FUSION in shipped:
                raise ManifestError(f"{label}: written by an older edgeface convert (its thresholds are for "
                                    "single embeddings, these weights ship with mirror fusion); convert again")
            if point.get(DOOR_POLICY) != shipped.get(DOOR_POLICY):
                edited[DOOR_POLICY] = "(edited)"
            if point.get(MIRROR_FUSION) != shipped.get(MIRROR_FUSION):
                edited[MIRROR_FUSION] = point.get(MIRROR_FUSION)
            if edited:
                raise ManifestError(f"{label}: operating point {edited} differs from the one shipped with these "
                                    f"weights ({ {k: shipped.get(k) for k in edited} }); the manifest was edited — "
                                    "convert again")
    return point
