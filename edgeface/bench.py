"""`edgeface bench`: per-stage latency of the converted models on a 640x480 frame with one face.

Stages: P-Net over all pyramid levels, R-Net and O-Net over the crops that frame produces, alignment, FaceNet
(the face, and its mirror image too where the operating point fuses them), the two anti-spoofing nets (liveness),
and end to end (detect → align → embed → liveness). Each variant is timed with 1 thread and with all threads;
the median of `repeats` runs after a warm-up is reported. Model sizes come from the manifest.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from edgeface.runtime.align import align_five_points
from edgeface.runtime.cascade import CascadeConfig, detect_faces, pick_face
from edgeface.runtime.cpu import describe_cpu
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
                  config: CascadeConfig, stages: dict[str, str] | None = None) -> dict:
    """One row: `variant` for every net, or per MTCNN stage and for the anti-spoofing pair as `stages` says (the
    runtime's own choice)."""
    from edgeface.runtime.pipeline import open_runtime

    pipeline = open_runtime(models_dir, variant, threads, config, use_edgetpu=False, stage_variants=stages)
    nets = TimedNets(pipeline.detector.nets)
    embedder, liveness = pipeline.embedder, pipeline.liveness
    samples: dict[str, list[float]] = {k: [] for k in ("pnet_all_scales", "rnet", "onet", "detect", "align",
                                                       "facenet", "liveness", "recognition", "end_to_end")}
    for run in range(repeats + 2):
        nets.seconds = dict.fromkeys(nets.seconds, 0.0)
        start = time.perf_counter()
        face = pick_face(detect_faces(frame, nets, config), frame.shape)
        detect = time.perf_counter() - start
        if face is None:
            raise RuntimeError(f"{variant}: no face found in the benchmark frame")
        start = time.perf_counter()
        crop = align_five_points(frame, face.landmarks)
        align = time.perf_counter() - start
        start = time.perf_counter()
        if embedder is not None:
            pipeline.embed_crops(crop[None])  # as deployed: with the mirror image too where the point says so
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
        samples["recognition"].append(detect + align + embed)  # what the peers do: no liveness
        samples["end_to_end"].append(detect + align + embed + live)
    return {k: round(1000 * float(np.median(v)), 3) for k, v in samples.items()}


DOOR_MIN_FACE = 80.0  # px: a visitor at the door in a 640x480 frame is at least this wide


def run_bench(models_dir: Path, lfw_image: np.ndarray, threads_list: list[int], repeats: int = 10,
              peers: bool = True) -> dict:
    """Every variant (1 thread and all threads), the runtime's per-stage choice, the door profile, and the peer
    pipelines, all on one frame in one process; ratios of the 1-thread detect → align → embed times."""
    from dataclasses import replace

    from edgeface.runtime import geometry
    from edgeface.runtime.pipeline import choose_variant
    from edgeface.runtime.stage_choice import probe_liveness, probe_stages

    manifest = load_manifest(models_dir)
    config = CascadeConfig(min_face_size=manifest.camera.get("min_face_size", 20.0))
    door = replace(config, min_face_size=geometry.snap_min_face(DOOR_MIN_FACE, config.min_face_size,
                                                                 config.scale_factor))
    frame = one_face_frame(lfw_image)
    variants = [v for v in ("fp32", "fp16", "dynamic", "int8") if manifest.find("rnet", v)]
    results = {}
    for variant in variants:
        for threads in threads_list:
            results[f"{variant}/{threads}t"] = bench_variant(models_dir, variant, frame, threads, repeats, config)
    choice = {}
    default = choose_variant(manifest, None, None)
    liveness = probe_liveness(models_dir, manifest, default)[0]  # per face: the same for both profiles
    for label, cascade in (("", config), ("door ", door)):
        probe = probe_stages(models_dir, manifest, default, frame.shape[:2], cascade.min_face_size,
                             cascade.scale_factor)
        auto = {**probe.variants, "liveness": liveness}
        choice[label.strip() or "default"] = auto
        results[f"{label}auto/1t"] = bench_variant(models_dir, default, frame, 1, repeats, cascade, auto)
        if label:
            for variant in variants:
                results[f"door {variant}/1t"] = bench_variant(models_dir, variant, frame, 1, repeats, cascade)
    peer_ms, missing = time_peers(frame, repeats) if peers else ({}, {})
    ratios = speed_ratios(results, peer_ms)
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
    return {"frame": "640x480, one face", "cpu": describe_cpu(), "repeats": repeats,
            "latency_ms": results,
            "auto_stages": choice, "door_min_face_size": round(door.min_face_size, 2),
            "peers_ms": peer_ms, "peers_missing": missing, "ratios": ratios, "model_bytes": sizes}


def hold_tensorflow_to_one_thread() -> None:
    """PyPI mtcnn runs on TensorFlow: hold it to one thread, as our 1-thread rows are (no-op without TF, or once
    TF has started)."""
    try:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except (ImportError, RuntimeError):
        pass


def time_peers(frame: np.ndarray, repeats: int) -> tuple[dict[str, float], dict[str, str]]:
    """Median ms of each installed peer pipeline on `frame` (after one warm-up), 1 thread where it can be set."""
    from edgeface.bench_peers import available_peers

    hold_tensorflow_to_one_thread()
    ready, missing = available_peers()
    out = {}
    for name, run in ready.items():
        if run(frame) is None:
            raise RuntimeError(f"{name} found no face in the benchmark frame")
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            run(frame)
            samples.append(time.perf_counter() - start)
        out[name] = round(1000 * float(np.median(samples)), 3)
    return out, missing


def speed_ratios(results: dict, peer_ms: dict[str, float]) -> dict[str, float]:
    """How many times faster (1 thread, detect → align → embed): int8 and the runtime's choice vs fp32, and each
    of ours vs each peer."""
    ours = {key.removesuffix("/1t"): row["recognition"] for key, row in results.items() if key.endswith("/1t")}
    ratios = {}
    if "fp32" in ours:
        for key in ("int8", "auto", "door auto"):
            if key in ours:
                ratios[f"{key} vs fp32"] = round(ours["fp32"] / ours[key], 2)
    for peer, ms in peer_ms.items():
        for key in ("int8", "auto", "door auto"):
            if key in ours:
                ratios[f"{key} vs {peer}"] = round(ms / ours[key], 2)
    return ratios


def _in_camera_set(entry, manifest) -> bool:
    """Is this P-Net one of the pyramid levels of a 640x480 frame?"""
    from edgeface.runtime import geometry

    config = manifest.camera
    levels = {geometry.scaled_size(480, 640, s)
              for s in geometry.pyramid_scales(480, 640, config.get("min_face_size", 20.0),
                                               config.get("scale_factor", 0.709))}
    return entry.input_hw in levels


def table(report: dict) -> str:
    stages = ["pnet_all_scales", "rnet", "onet", "detect", "align", "facenet", "liveness", "recognition", "end_to_end"]
    lines = ["| variant/threads | " + " | ".join(stages) + " |", "|---" * (len(stages) + 1) + "|"]
    for key, row in report["latency_ms"].items():
        lines.append(f"| {key} | " + " | ".join(f"{row.get(s, float('nan')):.2f}" for s in stages) + " |")
    for peer, ms in report.get("peers_ms", {}).items():
        lines.append(f"| {peer} / 1t |" + " |" * (len(stages) - 2) + f" {ms:.2f} | |")
    for peer, why in report.get("peers_missing", {}).items():
        lines.append(f"| {peer} | {why} |")
    lines.append("")
    lines.append("auto: " + "; ".join(f"{k}: {', '.join(f'{s} {v}' for s, v in c.items())}"
                                      for k, c in report.get("auto_stages", {}).items()))
    lines.append("ratios (1 thread, detect + align + embed): " + ", ".join(f"{k} {v}x"
                                                                          for k, v in report.get("ratios", {}).items()))
    lines.append("")
    lines.append("| models | " + " | ".join(v for v in ("fp32", "fp16", "dynamic", "int8")) + " |")
    lines.append("|---|---|---|---|---|")
    for group, per_variant in report["model_bytes"].items():
        lines.append(f"| {group} | " + " | ".join(f"{per_variant.get(v, 0) / 1024:.1f} KiB"
                                                 for v in ("fp32", "fp16", "dynamic", "int8")) + " |")
    return "\n".join(lines)
