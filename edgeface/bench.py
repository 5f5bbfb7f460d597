"""`edgeface bench`: per-stage latency of the converted models on a 640x480 frame with one face.

Stages: P-Net over all pyramid levels, R-Net and O-Net over the crops that frame produces, alignment, FaceNet,
the two anti-spoofing nets (liveness), and end to end (detect → align → embed → liveness). Each variant is timed
with 1 thread and with all threads; the median of `repeats` runs after a warm-up is reported. Model sizes come
from the manifest.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import cv2
import numpy as np

from edgeface.runtime.align import align_five_points
from edgeface.runtime.cascade import CascadeConfig, detect_faces, pick_face
from edgeface.runtime.manifest import load_manifest


class TimedNets:
    """Wraps MtcnnNets, adding up the seconds spent in each network."""

    def __init__(self, nets) -> None:
        self.nets = nets
        self.seconds = {"pnet": 0.0, "rnet": 0.0, "onet": 0.0}

    def _timed(self, name, *args):
        start = time.perf_counter()
        out = getattr(self.nets, name)(*args)
        self.seconds[name] += time.perf_counter() - start
        return out

    def pnet(self, image):
        return self._timed("pnet", image)

    def rnet(self, crops):
        return self._timed("rnet", crops)

    def onet(self, crops):
        return self._timed("onet", crops)


def one_face_frame(lfw_image: np.ndarray, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """A camera-like frame: the LFW photo at 1.6x, centred on a blurred, stretched copy of itself."""
    width, height = size
    frame = cv2.GaussianBlur(cv2.resize(lfw_image, (width, height)), (0, 0), 25)
    face = cv2.resize(lfw_image, (400, 400))
    y, x = (height - 400) // 2, (width - 400) // 2
    frame[y : y + 400, x : x + 400] = face
    return frame


def bench_variant(models_dir: Path, variant: str, frame: np.ndarray, threads: int, repeats: int,
                  config: CascadeConfig) -> dict:
    from edgeface.runtime.liveness import TfliteLiveness
    from edgeface.runtime.tflite_facenet import TfliteFaceNet
    from edgeface.runtime.tflite_mtcnn import TfliteMtcnnNets

    manifest = load_manifest(models_dir)
    nets = TimedNets(TfliteMtcnnNets(models_dir, variant, manifest, num_threads=threads))
    embedder = TfliteFaceNet(models_dir, variant, manifest, num_threads=threads) \
        if manifest.find("facenet", variant) else None
    liveness = TfliteLiveness(models_dir, variant, manifest, num_threads=threads) \
        if manifest.find("liveness_v2", variant) else None
    samples: dict[str, list[float]] = {k: [] for k in ("pnet_all_scales", "rnet", "onet", "detect", "align",
                                                       "facenet", "liveness", "end_to_end")}
    for run in range(repeats + 2):
        nets.seconds = dict.fromkeys(nets.seconds, 0.0)
        start = time.perf_counter()
        face = pick_face(detect_faces(frame, nets, config), frame.shape)
        detect = time.perf_counter() - start
        if face is None:
            raise RuntimeError(f"{variant}: no face found in the benchmark frame")
        start = time.perf_counter()
        crop = align_five_points(frame, face.landmarks, 112)
        align = time.perf_counter() - start
        start = time.perf_counter()
        if embedder is not None:
            embedder.embed(crop[None])
        embed = time.perf_counter() - start
        start = time.perf_counter()
        if liveness is not None:
            liveness.score(frame, face)
        live = time.perf_counter() - start
        if run < 2:
            continue  # warm-up
        samples["pnet_all_scales"].append(nets.seconds["pnet"])
        samples["rnet"].append(nets.seconds["rnet"])
        samples["onet"].append(nets.seconds["onet"])
        samples["detect"].append(detect)
        samples["align"].append(align)
        samples["facenet"].append(embed if embedder is not None else float("nan"))
        samples["liveness"].append(live if liveness is not None else float("nan"))
        samples["end_to_end"].append(detect + align + embed + live)
    return {k: round(1000 * float(np.median(v)), 3) for k, v in samples.items()}


def run_bench(models_dir: Path, lfw_image: np.ndarray, threads_list: list[int], repeats: int = 10) -> dict:
    manifest = load_manifest(models_dir)
    config = CascadeConfig(min_face_size=manifest.camera.get("min_face_size", 20.0))
    frame = one_face_frame(lfw_image)
    variants = [v for v in ("fp32", "fp16", "dynamic", "int8") if manifest.find("rnet", v)]
    results = {}
    for variant in variants:
        for threads in threads_list:
            results[f"{variant}/{threads}t"] = bench_variant(models_dir, variant, frame, threads, repeats, config)
    sizes: dict[str, dict[str, int]] = {}
    for entry in manifest.models:
        if entry.role == "pnet_dynamic":
            continue
        group = "mtcnn_640x480" if entry.role != "facenet" and (entry.role != "pnet" or
                                                                  _in_camera_set(entry, manifest)) else None
        if entry.role in ("facenet", "liveness_v2", "liveness_v1se"):
            group = "liveness" if entry.role.startswith("liveness") else "facenet"
        if group:
            sizes.setdefault(group, {}).setdefault(entry.variant, 0)
            sizes[group][entry.variant] += entry.bytes
    return {"frame": "640x480, one face", "cpu_count": os.cpu_count(), "repeats": repeats, "latency_ms": results,
            "model_bytes": sizes}


def _in_camera_set(entry, manifest) -> bool:
    """Is this P-Net one of the pyramid levels of a 640x480 frame?"""
    from edgeface.runtime import geometry

    config = manifest.camera
    levels = {geometry.scaled_size(480, 640, s)
              for s in geometry.pyramid_scales(480, 640, config.get("min_face_size", 20.0),
                                               config.get("scale_factor", 0.709))}
    return entry.input_hw in levels


def table(report: dict) -> str:
    stages = ["pnet_all_scales", "rnet", "onet", "detect", "align", "facenet", "liveness", "end_to_end"]
    lines = ["| variant/threads | " + " | ".join(stages) + " |", "|---" * (len(stages) + 1) + "|"]
    for key, row in report["latency_ms"].items():
        lines.append(f"| {key} | " + " | ".join(f"{row.get(s, float('nan')):.2f}" for s in stages) + " |")
    lines.append("")
    lines.append("| models | " + " | ".join(v for v in ("fp32", "fp16", "dynamic", "int8")) + " |")
    lines.append("|---|---|---|---|---|")
    for group, per_variant in report["model_bytes"].items():
        lines.append(f"| {group} | " + " | ".join(f"{per_variant.get(v, 0) / 1024:.1f} KiB"
                                                 for v in ("fp32", "fp16", "dynamic", "int8")) + " |")
    return "\n".join(lines)
