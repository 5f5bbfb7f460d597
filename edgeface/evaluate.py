"""`edgeface eval`: detect → align → embed → LFW protocol, with a JSON report and a ROC curve PNG."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgeface import lfw, protocol
from edgeface.runtime.embedder import FaceEmbedder, fuse_mirror, mirror_images
from edgeface.runtime.cascade import pick_face
from edgeface.runtime.fileio import portable_path
from edgeface.runtime.images import ImageError, read_rgb

MISSING_DISTANCE = 4.0  # squared distance given to a pair whose image had no face: the farthest possible


@dataclass
class EmbeddedImages:
    """Embeddings of a list of images; rows of images with no face stay NaN and are listed in `missing`."""

    names: list[str]
    plain: np.ndarray
    flipped: np.ndarray | None
    missing: list[str] = field(default_factory=list)
    detect_seconds: list[float] = field(default_factory=list)
    embed_seconds: float = 0.0

    def vectors(self, flip: bool) -> np.ndarray:
        if flip and self.flipped is not None:
            return fuse_mirror(self.plain, self.flipped)
        return self.plain


@dataclass
class Detections:
    """Every face found in each image, the face the pipeline picks, and the detection time per image."""

    all_faces: list[list] = field(default_factory=list)
    picked: list = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def detect_all(root: Path, names: list[str], detector, progress: bool = True) -> Detections:
    from tqdm import tqdm

    result = Detections()
    for name in tqdm(names, desc="detect", disable=not progress, mininterval=5):
        try:
            image = read_rgb(root / lfw.IMAGES_SUBDIR / name)
        except ImageError:
            result.all_faces.append([])
            result.picked.append(None)
            continue
        start = time.perf_counter()
        faces = detector.detect(image)
        result.seconds.append(time.perf_counter() - start)
        result.all_faces.append(faces)
        result.picked.append(pick_face(faces, image.shape))
    return result


def embed_detected(root: Path, names: list[str], faces: list, embedder: FaceEmbedder, flip: bool = True,
                   batch: int = 64, progress: bool = True) -> EmbeddedImages:
    """Align and embed each detected face (and its mirror image when `flip`); images without a face stay NaN."""
    from tqdm import tqdm

    plain = np.full((len(names), embedder.dim), np.nan, np.float32)
    flipped = np.full_like(plain, np.nan) if flip else None
    result = EmbeddedImages(names, plain, flipped)
    pending: list[tuple[int, np.ndarray]] = []

    def flush() -> None:
        if not pending:
            return
        rows = [i for i, _ in pending]
        crops = np.stack([c for _, c in pending])
        start = time.perf_counter()
        plain[rows] = embedder.embed(crops)
        if flipped is not None:
            flipped[rows] = embedder.embed(mirror_images(crops))
        result.embed_seconds += time.perf_counter() - start
        pending.clear()

    for row, (name, face) in enumerate(tqdm(list(zip(names, faces)), desc=f"embed {embedder.name}",
                                            disable=not progress, mininterval=5)):
        if face is None:
            result.missing.append(name)
            continue
        pending.append((row, embedder.align(read_rgb(root / lfw.IMAGES_SUBDIR / name), face)))
        if len(pending) >= batch:
            flush()
    flush()
    return result


def embed_images(root: Path, names: list[str], detector, embedder: FaceEmbedder, flip: bool = True,
                 progress: bool = True) -> EmbeddedImages:
    """Detect, align and embed every image (and its mirror image when `flip`)."""
    detections = detect_all(root, names, detector, progress)
    result = embed_detected(root, names, detections.picked, embedder, flip, progress=progress)
    result.detect_seconds = detections.seconds
    return result


def pair_distances(pairs: list[lfw.Pair], embedded: EmbeddedImages, flip: bool) -> np.ndarray:
    index = {name: i for i, name in enumerate(embedded.names)}
    vectors = embedded.vectors(flip)
    a = vectors[[index[p.images[0]] for p in pairs]]
    b = vectors[[index[p.images[1]] for p in pairs]]
    distances = protocol.squared_distances(a, b)
    return np.where(np.isnan(distances), MISSING_DISTANCE, distances)


def verify(pairs: list[lfw.Pair], embedded: EmbeddedImages, flip: bool) -> protocol.VerificationReport:
    same = np.array([p.same for p in pairs])
    folds = np.array([p.fold for p in pairs])
    return protocol.evaluate(pair_distances(pairs, embedded, flip), same, folds)


def run_eval(root: Path, embedder_name: str, flip: bool = True, max_pairs_per_fold: int | None = None,
             progress: bool = True) -> tuple[dict, dict[str, protocol.VerificationReport]]:
    """The whole `edgeface eval` job; returns the JSON-ready report and the curves for the ROC plot."""
    from edgeface.pipelines import open_float_reference

    pairs = lfw.parse_pairs(root / "pairs.txt")
    if max_pairs_per_fold:
        pairs = [p for i, p in enumerate(pairs) if i % 600 < max_pairs_per_fold // 2 or
                 300 <= i % 600 < 300 + max_pairs_per_fold // 2]
    names = lfw.pair_images(pairs)
    lfw.check_images_exist(root, names)
    reference = open_float_reference(embedder_name, liveness=False)
    detector, embedder = reference.detector, reference.embedder
    embedded = embed_images(root, names, detector, embedder, flip=flip, progress=progress)
    curves = {f"{embedder_name}": verify(pairs, embedded, flip=False)}
    if flip:
        curves[f"{embedder_name} + flip"] = verify(pairs, embedded, flip=True)
    faces = len(names) - len(embedded.missing)
    report = {
        "lfw_root": portable_path(root),
        "pairs": len(pairs),
        "images": len(names),
        "images_without_face": len(embedded.missing),
        "missing_images": embedded.missing,
        "detector": {"kind": "mtcnn-float", **detector.config.__dict__},
        "embedder": embedder_name,
        "embedding_dim": embedder.dim,
        "distance": "squared euclidean between L2-normalised embeddings (thresholds also given as euclidean)",
        "timing": {
            "detect_ms_median": 1000 * float(np.median(embedded.detect_seconds)) if embedded.detect_seconds else None,
            "embed_ms_per_face": 1000 * embedded.embed_seconds / max(1, faces * (2 if flip else 1)),
        },
        "results": {label: report.summary() for label, report in curves.items()},
    }
    return report, curves


def parse_stages(options: list[str]) -> dict[str, str]:
    """`--stage pnet=fp32` options as {"pnet": "fp32"}."""
    from edgeface.runtime.errors import UsageError
    from edgeface.runtime.manifest import VARIANTS
    from edgeface.runtime.stage_choice import STAGES

    stages = {}
    for option in options:
        stage, _, variant = option.partition("=")
        if stage not in STAGES or variant not in VARIANTS:
            raise UsageError(f"--stage {option!r}: expected STAGE=VARIANT, STAGE one of {', '.join(STAGES)} and "
                             f"VARIANT one of {', '.join(VARIANTS)}")
        stages[stage] = variant
    return stages


def run_compare(root: Path, models_dir: Path, variant: str = "int8", flip: bool = False, progress: bool = True,
                stages: dict[str, str] | None = None,
                cross: bool = True) -> tuple[dict, dict[str, protocol.VerificationReport]]:
    """`edgeface eval --compare`: detector {float, VARIANT} x embedder {float, VARIANT} on all 6,000 pairs, plus
    the detector's agreement with float on every pair image. With `flip`, the float reference is also reported
    without it (what `edgeface eval` and the model card call "plain").

    `cross=False` skips the mixed pairs (float detector + VARIANT embedder and the reverse), which split a loss
    between detector and embedder but gate nothing: a third less work (CI's int8 gates run that way).

    `stages` runs some MTCNN stages in another variant (e.g. {"pnet": "fp32"}: the CPU runtime's detector, see
    runtime/stage_choice.py). That detector is then the deployed one, and the detector with VARIANT for every
    stage is measured beside it (agreement, and with the VARIANT embedder), so both graphs are on record."""
    from edgeface.agreement import detection_agreement, embedding_agreement
    from edgeface.detector import FloatDetector
    from edgeface.models.facenet import FloatFaceNet
    from edgeface.runtime.cascade import CascadeConfig, Detector
    from edgeface.runtime.manifest import load_manifest
    from edgeface.runtime.stage_choice import STAGES
    from edgeface.runtime.tflite_facenet import TfliteFaceNet
    from edgeface.runtime.tflite_mtcnn import TfliteMtcnnNets

    manifest = load_manifest(models_dir)
    pairs = lfw.parse_pairs(root / "pairs.txt")
    names = lfw.pair_images(pairs)
    lfw.check_images_exist(root, names)
    config = CascadeConfig(min_face_size=manifest.camera.get("min_face_size", 20.0))
    stages = {stage: v for stage, v in (stages or {}).items() if v != variant}
    deployed_label = variant + "".join(f", {stage} {v}" for stage, v in stages.items())
    detectors = {"float": FloatDetector(),
                 deployed_label: Detector(TfliteMtcnnNets(models_dir, variant, manifest, stage_variants=stages), config)}
    whole = f"{variant} every stage"  # beside a mixed deployed detector, the VARIANT graph of every stage
    if stages:
        detectors[whole] = Detector(TfliteMtcnnNets(models_dir, variant, manifest), config)
    facenet = manifest.find("facenet", "fp32")
    # the float reference of an imported (ONNX) FaceNet is its fp32 export; the NNS2's is the Keras model
    float_embedder = (TfliteFaceNet(models_dir, "fp32", manifest) if facenet and facenet.source.startswith("ONNX")
                      else FloatFaceNet())
    embedders = {"float": float_embedder, variant: TfliteFaceNet(models_dir, variant, manifest)}
    detections, timings = {}, {}
    for label, detector in detectors.items():
        detections[label] = detect_all(root, names, detector, progress)
        timings[f"detect_{label}_ms_median"] = 1000 * float(np.median(detections[label].seconds))
    curves, results, vectors = {}, {}, {}
    for det_label, found in detections.items():
        for emb_label, embedder in embedders.items():
            if det_label == whole and emb_label == "float":
                continue  # beside the deployed detector, only its own deployed pair is of interest
            if not cross and (det_label == "float") != (emb_label == "float"):
                continue
            embedded = embed_detected(root, names, found.picked, embedder, flip, progress=progress)
            key = f"detector {det_label} + embedder {emb_label}"
            vectors[key] = embedded.vectors(flip)
            fusions = {key: flip}
            if flip and det_label == emb_label == "float":
                fusions[f"{key}, no flip"] = False  # the float reference as `edgeface eval` reports it too
            for label, fused in fusions.items():
                curves[label] = verify(pairs, embedded, fused)
                results[label] = {**curves[label].summary(), "images_without_face": len(embedded.missing)}
    reference_key = "detector float + embedder float"
    reference = results[reference_key]

    def drop(key: str) -> dict:
        return {"accuracy_points": 100 * (reference["accuracy_mean"] - results[key]["accuracy_mean"]),
                "val_points": 100 * (reference["val"] - results[key]["val"]),
                "embedding_vs_float": embedding_agreement(vectors[reference_key], vectors[key])}

    def agreement(label: str) -> dict:
        return detection_agreement(detections["float"].all_faces, detections[label].all_faces,
                                   detections["float"].picked, detections[label].picked)

    report = {
        "lfw_root": portable_path(root), "models_dir": portable_path(models_dir), "variant": variant,
        "stages": {**dict.fromkeys(STAGES, variant), **stages},
        "pairs": len(pairs), "images": len(names), "flip": flip, "cross": cross, "results": results,
        "timing": timings,
        "deployed_drop": drop(f"detector {deployed_label} + embedder {variant}"),
        "mtcnn_agreement": agreement(deployed_label),
    }
    if stages:
        report["every_stage"] = {"deployed_drop": drop(f"detector {whole} + embedder {variant}"),
                                 "mtcnn_agreement": agreement(whole)}
    return report, curves
