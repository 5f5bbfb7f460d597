"""Which converted variant runs each MTCNN stage on this machine: probed once when a pipeline opens.

The fastest variant differs per stage and per CPU. On x86-64 with XNNPACK, for example, the int8 R-Net and O-Net
(PReLU split, see converters/split_prelu.py) beat fp32, while the int8 P-Net loses to fp32 because XNNPACK's
int8 convolutions with 3 to 16 channels are slow there; on an ARM core with dot-product instructions the order
can be the other way round. So instead of one variant for the whole detector, each stage is timed in every
variant of `STAGE_CPU_VARIANTS` the folder has and the fastest runs; the default is kept unless another takes
less than `MARGIN` of its time, so noise does not flip the choice between runs.

Only variants that hold the MTCNN gates on all 7,701 LFW pair images are candidates. The int8 P-Net does not:
with it the cascade misses 24 of the 8,527 clear float faces (score >= 0.9, >= 40 px; 99.72%, gate 99.8%), and
17 of those 24 come back when P-Net alone runs in float. With a float P-Net and int8 R-Net/O-Net the cascade
misses 10 (99.88%); with the dynamic-range P-Net (int8 weights, float activations) and a default conversion's int8
R-Net/O-Net, 9 (99.89%). So on the CPU P-Net runs with float activations (on x86 it is also the faster there);
R-Net and O-Net may run int8. `--variant` still pins one variant for every stage, and the Edge TPU runs every
stage in int8.

The anti-spoofing nets are probed the same way, between the two variants their threshold is measured with on
NUAA (`LIVENESS_CPU_VARIANTS`): it was fixed on float (the training split), and both float and int8 keep every
printed photo out of NUAA's test split at it (README, "A photo is not a person"). On x86 the int8 nets are about 3x
slower than float (PReLU has no int8 XNNPACK kernel, and these nets keep it). The embedder is not probed: the
door's thresholds were measured on its default variant, and it stays on it.
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
# the variants each stage may run on a CPU: P-Net only with float activations (see the docstring)
STAGE_CPU_VARIANTS = {"pnet": ("fp32", "fp16", "dynamic"), "rnet": CPU_VARIANTS, "onet": CPU_VARIANTS}
MARGIN = 0.9
LIVENESS_CPU_VARIANTS = ("int8", "fp32")  # the variants measured on NUAA's test split at the shipped threshold
REPEATS = 5


@dataclass
class StageChoice:
    """The variant per MTCNN stage, with the milliseconds each candidate took in the probe (one frame's P-Net
    pyramid; one R-Net and one O-Net crop)."""

    variants: dict[str, str]
    probe_ms: dict[str, dict[str, float]] = field(default_factory=dict)

    def describe(self) -> str:
        return ", ".join(f"{stage} {variant}" for stage, variant in self.variants.items())


def stage_candidates(manifest: Manifest, levels: list[tuple[int, int]]) -> dict[str, list[str]]:
    """Per stage, the CPU variants it may run that the folder has (for P-Net: at every level of the frame)."""
    def has(stage: str, variant: str) -> bool:
        if stage == "pnet":
            return all(manifest.find("pnet", variant, hw) for hw in levels)
        return manifest.find(stage, variant) is not None

    return {stage: [v for v in STAGE_CPU_VARIANTS[stage] if has(stage, v)] for stage in STAGES}


def stage_defaults(candidates: dict[str, list[str]], default: str) -> dict[str, str]:
    """`default` for each stage that may run it, else that stage's first candidate; `default` where a stage has
    no candidate at all (a folder without a float P-Net runs its int8 one rather than none)."""
    return {stage: default if default in found or not found else found[0] for stage, found in candidates.items()}


def pyramid_levels(frame_hw: tuple[int, int], min_face_size: float, scale_factor: float) -> list[tuple[int, int]]:
    height, width = frame_hw
    return [geometry.scaled_size(height, width, s)
            for s in geometry.pyramid_scales(height, width, min_face_size, scale_factor)]


def probe_stages(folder: Path, manifest: Manifest, default: str, frame_hw: tuple[int, int], min_face_size: float,
                 scale_factor: float, num_threads: int | None = 1, repeats: int = REPEATS) -> StageChoice:
    """Time every candidate variant of each stage on zeros of its input shape (TFLite's work does not depend on
    the values) and choose per stage as the module docstring says."""
    from edgeface.runtime.interpreter import TfliteModel

    if default not in CPU_VARIANTS:  # the Edge TPU graph runs whole
        return StageChoice(dict.fromkeys(STAGES, default))
    levels = pyramid_levels(frame_hw, min_face_size, scale_factor)
    candidates = stage_candidates(manifest, levels)
    defaults = stage_defaults(candidates, default)
    probe: dict[str, dict[str, float]] = {stage: {} for stage in STAGES}
    for stage, variants in candidates.items():
        for variant in variants:
            entries = [manifest.find("pnet", variant, hw) for hw in levels] if stage == "pnet" \
                else [manifest.find(stage, variant)]
            models = [TfliteModel(folder, entry, num_threads) for entry in entries]
            probe[stage][variant] = round(1000 * _median_seconds(models, repeats), 3)
    chosen = {stage: _fastest(times, defaults[stage]) for stage, times in probe.items()}
    return StageChoice(chosen, probe)


def probe_liveness(folder: Path, manifest: Manifest, default: str, num_threads: int | None = 1,
                   repeats: int = REPEATS) -> tuple[str, dict[str, float]]:
    """The variant the two anti-spoofing nets run (both nets in one variant) and the milliseconds each candidate
    took for one face; `default` where it is not a CPU variant or is the only candidate."""
    from edgeface.runtime.interpreter import TfliteModel
    from edgeface.runtime.liveness import NET_SCALES

    if default not in CPU_VARIANTS:
        return default, {}
    candidates = [v for v in LIVENESS_CPU_VARIANTS if all(manifest.find(role, v) for role in NET_SCALES)]
    if default not in candidates or len(candidates) < 2:
        return default, {}
    times = {}
    for variant in candidates:
        models = [TfliteModel(folder, manifest.find(role, variant), num_threads) for role in NET_SCALES]
        times[variant] = round(1000 * _median_seconds(models, repeats), 3)
    return _fastest(times, default), times


def _fastest(times: dict[str, float], default: str) -> str:
    """The fastest candidate, unless it takes `MARGIN` of the default's time or more (then the default)."""
    if not times or default not in times:
        return default
    fastest = min(times, key=times.get)
    return fastest if times[fastest] < MARGIN * times[default] else default


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
