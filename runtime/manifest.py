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

MANIFEST_NAME = "manifest.json"
SCHEMA_VERSION = 1
VARIANTS = ("fp32", "fp16", "dynamic", "int8", "edgetpu")


class ManifestError(RuntimeError):
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
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ManifestError(f"{label}: schema version {data.get('schema_version')} is not {SCHEMA_VERSION}")
        models = []
        for item in data["models"]:
            item = dict(item)
            item["inputs"] = [_tensor(t) for t in item["inputs"]]
            item["outputs"] = {k: _tensor(t) for k, t in item["outputs"].items()}
            models.append(ModelEntry(**item))
        return Manifest(models=models, camera=data.get("camera", {}), operating_point=data.get("operating_point", {}),
                        created_by=data.get("created_by", ""), schema_version=data["schema_version"])
    except ManifestError:
        raise
    except (ValueError, KeyError, TypeError) as error:
        raise ManifestError(f"{label}: not a valid edgeface manifest ({error})") from None


def load_manifest(folder: str | Path, verify: bool = True) -> Manifest:
    """Read `folder/manifest.json`; with `verify`, check every listed file's size and sha256."""
    folder = Path(folder)
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise ManifestError(f"{path}: no manifest; is {folder} a folder written by `edgeface convert`?")
    manifest = parse_manifest(path.read_text(), str(path))
    if verify:
        for entry in manifest.models:
            model_path = folder / entry.file
            if not model_path.is_file():
                raise ManifestError(f"{model_path}: listed in the manifest but missing")
            data = model_path.read_bytes()
            if len(data) != entry.bytes or sha256_bytes(data) != entry.sha256:
                raise ManifestError(f"{model_path}: sha256/size differ from the manifest (tampered or corrupt)")
    return manifest
