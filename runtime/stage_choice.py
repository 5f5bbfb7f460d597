"""Which converted variant runs each MTCNN stage on this machine: probed once when a pipeline opens.

The fastest variant differs per stage and per CPU. On x86-64 with XNNPACK, for example, the int8 R-Net and O-Net
(PReLU split, see converters/split_prelu.py) beat fp32, while the int8 P-Net loses to fp32 because XNNPACK's
int8 convolutions with 3 to 16 channels are slow there; on an ARM core with dot-product instructions the order
can be the other way round. So instead of one variant for the whole detector, each stage is timed in every
variant the folder has and the fastest runs. Every exported variant passed the converter's agreement
measurement against float (recorded in the manifest), so each is a correct choice; the default variant is kept
unless another takes less than `MARGIN` of its time, so noise does not flip the choice between runs.

The embedder and the anti-spoofing nets are not probed: the door's thresholds were measured on their default
variant, and they stay on it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgeface.runtime import geometry
from edgeface.runtime.manifest import Manifest

STAGES = ("pnet", "rnet", "onet")
CPU_VARIANTS = ("int8", "fp32", "dynamic", "fp16")  # edgetpu: the same int8 graph with uint8 I/O, for the Coral
MARGIN = 0.9
REPEATS = 5


@dataclass
class StageChoice:
    """The variant per MTCNN stage, with the milliseconds each candidate took in the probe (one frame's P-Net
    pyramid; one R-Net and one O-Net crop)."""

    variants: dict[str, str]
    probe_ms: dict[str, dict[str, float]] = field(default_factory=dict)

    def describe(self) -> str:
        return ", ".join(f"{stage} {variant}" for stage, variant in self.variants.items())


def detector_candidates(manifest: Manifest, levels: list[tuple[int, int]]) -> list[str]:
    """CPU variants that have every P-Net level of the frame, an R-Net and an O-Net."""
    have = []
    for variant in CPU_VARIANTS:
        if all(manifest.find(role, variant) for role in ("rnet", "onet")) and \
                all(manifest.find("pnet", variant, hw) for hw in levels):
            have.append(variant)
    return have


def pyramid_levels(frame_hw: tuple[int, int], min_face_size: float, scale_factor: float) -> list[tuple[int, int]]:
    height, width = frame_hw
    return [geometry.scaled_size(height, width, s)
            for s in geometry.pyramid_scales(height, width, min_face_size, scale_factor)]


def probe_stages(folder: Path, manifest: Manifest, default: str, frame_hw: tuple[int, int], min_face_size: float,
                 scale_factor: float, num_threads: int | None = 1, repeats: int = REPEATS) -> StageChoice:
    """Time every candidate variant of each stage on zeros of its input shape (TFLite's work does not depend on
    the values) and choose per stage as the module docstring says."""
    from edgeface.runtime.interpreter import TfliteModel

    levels = pyramid_levels(frame_hw, min_face_size, scale_factor)
    candidates = detector_candidates(manifest, levels)
    if default not in candidates:
        return StageChoice(dict.fromkeys(STAGES, default))
    probe: dict[str, dict[str, float]] = {stage: {} for stage in STAGES}
    for variant in candidates:
        for stage in STAGES:
            entries = [manifest.find("pnet", variant, hw) for hw in levels] if stage == "pnet" \
                else [manifest.find(stage, variant)]
            models = [TfliteModel(folder, entry, num_threads) for entry in entries]
            probe[stage][variant] = round(1000 * _median_seconds(models, repeats), 3)
    chosen = {}
    for stage, times in probe.items():
        fastest = min(times, key=times.get)
        chosen[stage] = fastest if times[fastest] < MARGIN * times[default] else default
    return StageChoice(chosen, probe)


def _median_seconds(models: list, repeats: int) -> float:
    """Median over `repeats` of running each model once (after one warm-up)."""
    inputs = [np.zeros(model.entry.inputs[0].shape, np.float32) for model in models]
    samples = []
    for run in range(repeats + 1):
        start = time.perf_counter()
        for model, batch in zip(models, inputs):
            model(batch)
        if run:
            samples.append(time.perf_counter() - start)
    return float(np.median(samples))
