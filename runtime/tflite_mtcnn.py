"""MTCNN on TFLite: the networks of a converted models folder behind the shared cascade interface.

P-Net comes as one static-shape model per pyramid level size (what int8 and the Edge TPU need); a level size
with no model of its own falls back to the dynamic-shape float P-Net when the folder has one. R-Net and
O-Net take one crop per call (batch 1, static), as the Edge TPU requires.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeface.runtime.interpreter import TfliteModel
from edgeface.runtime.manifest import Manifest, ManifestError, ModelEntry, load_manifest


def face_probability(outputs: dict[str, np.ndarray]) -> np.ndarray:
    """P(face) from a net's outputs: the softmax of its (non-face, face) logits, taken here in float so that
    quantized scores keep their order instead of saturating at the int8 softmax's 255/256. Folders converted
    before the logits export carry a "prob" output, which is used as it is."""
    if "prob" in outputs:
        return outputs["prob"][..., 1]
    logits = outputs["logits"].astype(np.float64)
    return (1.0 / (1.0 + np.exp(logits[..., 0] - logits[..., 1]))).astype(np.float32)


class TfliteMtcnnNets:
    """`MtcnnNets` over a models folder: one variant (fp32, fp16, dynamic, int8, edgetpu) for every stage, or per
    stage through `stage_variants` (see runtime/stage_choice.py); `delegates` apply to edgetpu stages only."""

    def __init__(self, folder: str | Path, variant: str = "int8", manifest: Manifest | None = None,
                 num_threads: int | None = 1, delegates: list | None = None,
                 stage_variants: dict[str, str] | None = None) -> None:
        self.folder = Path(folder)
        self.manifest = manifest or load_manifest(self.folder)
        self.variants = {"pnet": variant, "rnet": variant, "onet": variant, **(stage_variants or {})}
        self.variant = self.variants["pnet"]

        def load(entry: ModelEntry) -> TfliteModel:
            return TfliteModel(self.folder, entry, num_threads, delegates if entry.variant == "edgetpu" else None)

        self.pnets: dict[tuple[int, int], TfliteModel] = {}
        for entry in self.manifest.models:
            if entry.role == "pnet" and entry.variant == self.variants["pnet"]:
                self.pnets[entry.input_hw] = load(entry)
        dynamic = self.manifest.find("pnet_dynamic", "fp32")
        self.pnet_dynamic = TfliteModel(self.folder, dynamic, num_threads) if dynamic else None
        stages = {}
        for role in ("rnet", "onet"):
            entry = self.manifest.find(role, self.variants[role])
            if entry is None:
                raise ManifestError(f"{self.folder}: no {self.variants[role]} {role} in the manifest")
            stages[role] = load(entry)
        self._rnet, self._onet = stages["rnet"], stages["onet"]

    def pnet(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        model = self.pnets.get(image.shape[:2]) or self.pnet_dynamic
        if model is None:
            sizes = ", ".join(f"{h}x{w}" for h, w in sorted(self.pnets))
            raise ManifestError(f"no {self.variant} P-Net for a {image.shape[0]}x{image.shape[1]} pyramid level "
                                f"(have {sizes}); convert with --input-size for this frame size")
        out = model(image[None].astype(np.float32))
        return face_probability(out)[0], out["offsets"][0]

    def _per_crop(self, model: TfliteModel, crops: np.ndarray) -> dict[str, np.ndarray]:
        results = [model(crop[None].astype(np.float32)) for crop in crops]
        return {k: np.concatenate([r[k] for r in results]) for k in model.positions}

    def rnet(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if len(crops) == 0:
            return np.zeros((0,)), np.zeros((0, 4))
        out = self._per_crop(self._rnet, crops)
        return face_probability(out), out["offsets"]

    def onet(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if len(crops) == 0:
            return np.zeros((0,)), np.zeros((0, 4)), np.zeros((0, 10))
        out = self._per_crop(self._onet, crops)
        return face_probability(out), out["offsets"], out["landmarks"]
