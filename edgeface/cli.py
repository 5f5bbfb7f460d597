"""The `edgeface` command line. Imports are lazy: `--help` and the runtime commands never import TensorFlow."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional

import typer

from edgeface.console import quiet_terminal
from edgeface.runtime.errors import UsageError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="FaceNet + MTCNN for door locks: float reference, evaluation, conversion, runtime.")

LfwOption = typer.Option(None, "--lfw", help="LFW root with pairs.txt and lfw-deepfunneled/ "
                                              "(default: $EDGEFACE_LFW, then ../shared/data/lfw)")


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that are the user's input, not our bug: reported in one line, exit status 2. Anything else
    (a ValueError from deep inside numpy, say) is a bug and keeps its traceback."""
    from edgeface.runtime.errors import EdgefaceError

    return (EdgefaceError, OSError)  # OSError: full disk, permissions, missing files


def guarded(function):
    """Run a command body, turning user errors into a clear message and a non-zero exit."""
    import functools

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except typer.Exit:
            raise
        except user_errors() as error:
            fail(str(error))

    return wrapper


@app.command()
@guarded
def align(
    input_dir: Path = typer.Argument(..., help="folder of Person/image.jpg"),
    output_dir: Path = typer.Argument(..., help="where aligned crops go, same layout, .png"),
    template: int = typer.Option(0, help="5-point alignment to a template of this size (e.g. 112); 0 = margin crop"),
    image_size: int = typer.Option(160, help="margin crop: output size"),
    margin: int = typer.Option(32, help="margin crop: pixels added around the box (total)"),
    policy: str = typer.Option("central", help="which face when several: central | largest"),
    min_face_size: float = typer.Option(20.0, help="smallest face to look for, in pixels"),
) -> None:
    """Align a face data set (facenet's align_dataset_mtcnn); resumable, failures listed in failed.txt."""
    from edgeface.align_dataset import align_folder
    from edgeface.detector import AlignConfig

    config = AlignConfig(template=template, image_size=image_size, margin=margin, face_policy=policy)
    counts = align_folder(input_dir, output_dir, config, min_face_size=min_face_size)
    typer.echo(" ".join(f"{k}={v}" for k, v in counts.items()))


@app.command("eval")
@guarded
def eval_command(
    embedder: str = typer.Option("mobilefacenet", help="mobilefacenet | dlib | nns2"),
    lfw_root: Optional[Path] = LfwOption,
    out: Path = typer.Option(Path("reports/eval.json"), help="JSON report path"),
    roc: Optional[Path] = typer.Option(None, help="ROC PNG path (default: next to the JSON)"),
    flip: bool = typer.Option(True, help="also report horizontal-flip embedding fusion"),
    max_pairs_per_fold: Optional[int] = typer.Option(None, help="use fewer pairs (quick look; not the protocol)"),
    compare: bool = typer.Option(False, "--compare", help="detector {float, int8} x embedder {float, int8} "
                                                          "from a converted models folder"),
    models: Path = typer.Option(Path("models"), help="--compare: folder written by `edgeface convert`"),
    variant: str = typer.Option("int8", help="--compare: the converted variant to compare with float"),
) -> None:
    """Run detect → align → embed → the 10-fold LFW protocol; write a JSON report and a ROC PNG."""
    import json

    from edgeface.evaluate import run_compare, run_eval
    from edgeface.runtime.fileio import atomic_write_json, portable_path
    from edgeface.lfw import locate_lfw
    from edgeface.protocol import plot_roc

    root = locate_lfw(lfw_root)
    with quiet_terminal(out.with_suffix(".log")):
        if compare:
            report, curves = run_compare(root, models, variant, flip=flip)
        else:
            report, curves = run_eval(root, embedder, flip=flip, max_pairs_per_fold=max_pairs_per_fold)
    roc = roc or out.with_suffix(".png")
    report["roc_png"] = portable_path(roc)
    plot_roc(curves, roc, title=f"LFW ROC, {report['pairs']} pairs")
    atomic_write_json(out, report)
    for label, result in report["results"].items():
        typer.echo(f"{label:28s} acc {100 * result['accuracy_mean']:.2f}% ± {100 * result['accuracy_std']:.2f}  "
                   f"VAL@FAR=1e-3 {100 * result['val']:.2f}%  AUC {result['auc']:.4f}  EER {100 * result['eer']:.2f}%  "
                   f"threshold {result['euclidean_threshold_accuracy']:.3f}")
    if "images_without_face" in report:
        typer.echo(f"images without a face: {report['images_without_face']} of {report['images']}")
    if "deployed_drop" in report:
        typer.echo(f"deployed {variant} drop vs float: {json.dumps(report['deployed_drop'])}")
        typer.echo(f"MTCNN {variant} vs float: {json.dumps(report['mtcnn_agreement'])}")
    typer.echo(f"wrote {out} and {roc}")


LivenessOption = typer.Option("on", help="on: a matching face must also be judged live (anti-spoofing nets) to "
                                            "count | off: no check, a printed photo of a resident opens the door")


def _liveness_on(value: str) -> bool:
    if value not in ("on", "off"):
        raise UsageError(f"--liveness is on or off (got {value!r})")
    return value == "on"


def _liveness_line(check) -> str:
    from edgeface.runtime.lock import LIVENESS_OFF_WARNING

    return f"liveness on, threshold {check.threshold}" if check is not None else f"WARNING: {LIVENESS_OFF_WARNING}"


ModelsOption = typer.Option(None, "--models", help="converted models folder (TFLite runtime, no TensorFlow; "
                                                     "default: $EDGEFACE_MODELS); without it the float reference runs")
VariantOption = typer.Option(None, help="with --models: fp32 | fp16 | dynamic | int8 | edgetpu for every net "
                                        "(default: edgetpu when a Coral is attached, else int8, with each MTCNN "
                                        "stage in the variant fastest on this machine)")
FullDetectOption = typer.Option(1, help="the lock's detector: the whole MTCNN pyramid every N frames, and R-Net/"
                                        "O-Net around the faces of the previous frame in between (1, the default: "
                                        "every frame; 10 is 2-2.4x faster, see README)")


def _pipeline(models, variant, embedder: str = "nns2", min_face_size: float | None = None, threads: int = 1,
              announce: bool = True, liveness: bool = True):
    """The pipeline; with `announce`, one stderr line says which models, variant and accelerator run."""
    from edgeface.pipelines import open_pipeline
    from edgeface.runtime.cascade import CascadeConfig

    cascade = CascadeConfig(min_face_size=min_face_size) if min_face_size else None
    pipeline = open_pipeline(models, variant, embedder, cascade, threads, liveness)
    if announce:
        typer.echo(_using(pipeline), err=True)
    return pipeline


def _using(pipeline) -> str:
    return "using " + ", ".join(f"{k} {v}" for k, v in pipeline.description.items())


@app.command()
@guarded
def compare(
    images: list[Path] = typer.Argument(..., help="two or more face images"),
    models: Optional[Path] = ModelsOption,
    variant: Optional[str] = VariantOption,
    embedder: str = typer.Option("mobilefacenet", help="float reference only: mobilefacenet | dlib | nns2"),
    threshold: Optional[float] = typer.Option(None, help="Euclidean distance threshold (default: the model's LFW one)"),
) -> None:
    """Print the distance matrix of the faces in IMAGES and same/different at the threshold."""
    from edgeface.compare import compare_images

    if len(images) < 2:
        fail("compare needs at least two images")
    pipeline = _pipeline(models, variant, embedder)
    label = "embedder " + pipeline.description.get("embedder", f"nns2-{pipeline.description.get('variant')}")
    typer.echo(compare_images(images, pipeline, threshold, label))


@app.command()
@guarded
def detect(
    image: Path = typer.Argument(..., help="image file"),
    models: Optional[Path] = ModelsOption,
    variant: Optional[str] = VariantOption,
    min_face_size: float = typer.Option(20.0, help="smallest face to look for, in pixels"),
) -> None:
    """Detect faces (MTCNN); prints one JSON line per face (box, score, 5 landmarks). Exit 1 when there is none."""
    import json

    from edgeface.runtime.images import read_rgb

    picture = read_rgb(image)
    faces = _pipeline(models, variant, min_face_size=min_face_size, liveness=False).detect(picture)
    if not faces:
        fail(f"{image}: no face found", code=1)
    for face in faces:
        typer.echo(json.dumps(face.to_dict()))


@app.command()
@guarded
def embed(
    images: list[Path] = typer.Argument(..., help="face images"),
    models: Optional[Path] = ModelsOption,
    variant: Optional[str] = VariantOption,
    embedder: str = typer.Option("nns2", help="float reference only: nns2 | mobilefacenet | dlib"),
    out: Optional[Path] = typer.Option(None, help="also write the embeddings to this .npy file"),
) -> None:
    """Print one JSON line per image: the chosen face's box and its L2-normalised embedding."""
    import json

    import numpy as np

    from edgeface.runtime.fileio import atomic_save_npy
    from edgeface.runtime.images import read_rgb

    pipeline = _pipeline(models, variant, embedder)
    vectors = []
    for path in images:
        face, vector = pipeline.embed_one(read_rgb(path), str(path))
        vectors.append(vector)
        typer.echo(json.dumps({"image": str(path), "box": face.to_dict()["box"],
                               "embedding": [round(float(v), 6) for v in vector]}))
    if out is not None:
        atomic_save_npy(out, np.stack(vectors).astype(np.float32))


@app.command("check-mtcnn")
@guarded
def check_mtcnn(
    lfw_root: Optional[Path] = LfwOption,
    out: Path = typer.Option(Path("reports/mtcnn_faithfulness.json"), help="JSON report path"),
    limit: Optional[int] = typer.Option(None, help="only the first N pair images (quick look)"),
) -> None:
    """Compare our float MTCNN with the PyPI `mtcnn` package on every LFW pair image (needs `pip install mtcnn`)."""
    from edgeface.faithfulness import run_check
    from edgeface.runtime.fileio import atomic_write_json
    from edgeface.lfw import locate_lfw

    report = run_check(locate_lfw(lfw_root), limit=limit)
    atomic_write_json(out, report)
    for key in ("images", "found_rate", "iou_ge_095_rate", "mean_iou", "ours_ms_median", "reference_ms_median"):
        typer.echo(f"{key:22s} {report[key]}")


@app.command()
@guarded
def convert(
    fp32: bool = typer.Option(False, "--fp32"), fp16: bool = typer.Option(False, "--fp16"),
    dynamic: bool = typer.Option(False, "--dynamic"), int8: bool = typer.Option(False, "--int8"),
    edgetpu: bool = typer.Option(False, "--edgetpu", help="int8 with uint8 I/O, compiled when edgetpu_compiler exists"),
    out: Path = typer.Option(Path("models"), help="output folder (manifest.json + .tflite files)"),
    input_size: list[str] = typer.Option(["640x480", "250x250"], help="frame sizes WxH to export P-Nets for"),
    min_face_size: float = typer.Option(20.0, help="smallest face (px) the P-Net pyramid covers"),
    calibration_images: int = typer.Option(200, help="LFW images (not in pairs.txt) used for calibration"),
    agreement_images: int = typer.Option(300, help="LFW pair images used to measure agreement with float"),
    lfw_root: Optional[Path] = LfwOption,
    from_onnx: Optional[Path] = typer.Option(None, "--from-onnx", help="FaceNet from this ONNX face embedder "
                                             "(needs onnx2tf, see README) instead of the shipped NNS2 weights"),
    qat: bool = typer.Option(False, "--qat", help="int8/edgetpu FaceNet by quantization-aware training (needs "
                                                  "scripts/install_qat.sh); the post-training model's numbers stay "
                                                  "in the manifest"),
    qat_steps: int = typer.Option(300, help="--qat: fine-tuning steps"),
    qat_images: int = typer.Option(1000, help="--qat: LFW images (not in pairs.txt) to fine-tune on"),
    mtcnn_range_clip: float = typer.Option(0.0, help="int8 MTCNN: leave this fraction of each activation's "
                                                      "calibration values outside its int8 range at each end, e.g. "
                                                      "1e-4 (README: better detector agreement, see the trade-off); "
                                                      "0: the converter's min/max"),
    int8_prelu: str = typer.Option("split", help="CPU int8 MTCNN: split (each PReLU as two ReLU halves, which "
                                                 "XNNPACK runs in int8) | native (PRELU; the edgetpu export always "
                                                 "keeps it, and so does --mtcnn-range-clip)"),
) -> None:
    """Export MTCNN (+ the NNS2 FaceNet) to TFLite; fp32 is always written as the reference. Writes manifest.json."""
    from edgeface.calibration.lfw_sets import CalibrationConfig
    from edgeface.converters.export import LOG_NAME, ConvertConfig, convert_models, summary_table
    from edgeface.converters.qat import QatConfig

    if from_onnx is not None:  # check before minutes of MTCNN export
        from edgeface.converters.onnx_import import find_onnx2tf

        if not from_onnx.is_file():
            fail(f"{from_onnx}: no such ONNX file")
        find_onnx2tf()
    if qat:
        if from_onnx is not None:
            fail("--qat fine-tunes the shipped NNS2; it does not apply to --from-onnx")
        if not (int8 or edgetpu):
            fail("--qat changes the int8/edgetpu FaceNet: add --int8 and/or --edgetpu")
        from edgeface.converters.qat import require_qat

        require_qat()  # fail now, not after minutes of MTCNN export, when tfmot is missing
    if not 0.0 <= mtcnn_range_clip < 0.01:
        fail(f"--mtcnn-range-clip is a small fraction per end, 0 <= F < 0.01 (got {mtcnn_range_clip:g})")
    if int8_prelu not in ("split", "native"):
        fail(f"--int8-prelu is split or native (got {int8_prelu!r})")
    variants = ["fp32"] + [name for name, on in (("fp16", fp16), ("dynamic", dynamic), ("int8", int8),
                                                 ("edgetpu", edgetpu)) if on]
    sizes = []
    for text in input_size:
        try:
            width, height = (int(v) for v in text.lower().split("x"))
        except ValueError:
            fail(f"--input-size takes WxH, e.g. 640x480 (got {text!r})")
        sizes.append((width, height))
    config = ConvertConfig(out_dir=out, variants=tuple(variants), input_sizes=tuple(sizes), min_face_size=min_face_size,
                           calibration=CalibrationConfig(images=calibration_images),
                           agreement_images=agreement_images, lfw_root=lfw_root, onnx=from_onnx,
                           qat=QatConfig(steps=qat_steps) if qat else None, qat_images=qat_images,
                           mtcnn_range_clip=mtcnn_range_clip, split_prelu=int8_prelu == "split")
    manifest = convert_models(config)
    typer.echo(summary_table(manifest))
    typer.echo(f"wrote {len(manifest.models)} models and {out / 'manifest.json'} (converter log: {out / LOG_NAME})")


@app.command()
@guarded
def info(model: str = typer.Argument(..., help="nns2 | pnet | rnet | onet, or a .tflite file")) -> None:
    """Parameters, multiply-accumulates per face, input size and preprocessing of a model."""
    from edgeface.model_info import describe_model

    typer.echo(describe_model(model))


@app.command()
@guarded
def bench(
    models: Path = typer.Option(Path("models"), help="folder written by `edgeface convert`"),
    out: Path = typer.Option(Path("reports/bench.json"), help="JSON report path"),
    repeats: int = typer.Option(10, help="timed runs per configuration (after 2 warm-up runs)"),
    lfw_root: Optional[Path] = LfwOption,
    peers: bool = typer.Option(True, help="also time PyPI mtcnn + MobileFaceNet and dlib HOG + ResNet (when installed)"),
) -> None:
    """Per-stage latency (1 thread and all threads) of every converted variant, the runtime's per-stage choice,
    the door profile (80 px faces) and the peer pipelines, with speed ratios, all in one run; model sizes."""
    import os

    from edgeface.bench import run_bench, table
    from edgeface.runtime.fileio import atomic_write_json
    from edgeface.lfw import IMAGES_SUBDIR, locate_lfw
    from edgeface.runtime.images import read_rgb

    image = read_rgb(locate_lfw(lfw_root) / IMAGES_SUBDIR / "Aaron_Peirsol/Aaron_Peirsol_0001.jpg")
    threads = sorted({1, os.cpu_count() or 1})
    with quiet_terminal(out.with_suffix(".log")):  # TensorFlow/PyPI mtcnn chatter
        report = run_bench(models, image, threads, repeats, peers)
    atomic_write_json(out, report)
    typer.echo(table(report))
    typer.echo(f"wrote {out}")


@app.command("bench-tracking")
@guarded
def bench_tracking(
    models: Optional[Path] = ModelsOption,
    variant: Optional[str] = VariantOption,
    out: Path = typer.Option(Path("reports/bench_tracking.json"), help="JSON report path"),
    frames: int = typer.Option(1000, help="frames of the walk-up video"),
    full_detect_every: list[int] = typer.Option([1, 10], help="settings compared (repeatable; the first is the "
                                                             "baseline the decisions are compared with)"),
    min_face_size: Optional[float] = typer.Option(None, help="as `lock run --min-face-size`"),
    peer_every: int = typer.Option(10, help="time the peer pipelines (PyPI mtcnn + MobileFaceNet, dlib HOG + "
                                            "ResNet, when installed) on every N-th frame of the same video; 0: no"),
    lfw_root: Optional[Path] = LfwOption,
) -> None:
    """The lock loop's frames/s on a 1,000-frame walk-up video made from LFW, full detection every frame vs
    detect-then-track, and whether any decision changed."""
    from edgeface.lfw import locate_lfw
    from edgeface.runtime.fileio import atomic_write_json
    from edgeface.track_bench import TrackBenchConfig, run_track_bench

    if frames < 1 or any(every < 1 for every in full_detect_every) or peer_every < 0:
        fail("--frames and --full-detect-every take whole numbers >= 1, --peer-every >= 0")
    config = TrackBenchConfig(frames=frames, settings=tuple(full_detect_every), peer_every=peer_every)
    pipeline = _pipeline(models, variant, min_face_size=min_face_size)
    report = run_track_bench(locate_lfw(lfw_root), pipeline, config, log=lambda line: typer.echo(line, err=True))
    atomic_write_json(out, report)
    for name, run in report["runs"].items():
        typer.echo(f"{name}: {run['frames_per_s']} frames/s ({run['speedup_vs_every_frame']}x), unlocks "
                   f"{len(run['unlocks'])} (same visits let in as every frame: {run['same_visits_unlocked_as_every_frame']}), frames "
                   f"voting differently {run['frames_voting_differently']}")
    for name, peer in report["peers"].items():
        typer.echo(f"{name}: " + (f"{peer['frames_per_s']} frames/s; ours " + ", ".join(
            f"{k.removesuffix('_speedup')} {v}x" for k, v in peer.items() if k.endswith("_speedup"))
            if "frames_per_s" in peer else peer["missing"]))
    typer.echo(f"wrote {out}")


@app.command("edgetpu-check")
@guarded
def edgetpu_check(models: list[Path] = typer.Argument(..., help=".tflite files (or a folder of them)")) -> None:
    """Report every op/tensor that would not map to a Coral Edge TPU; exit 1 if any model has one."""
    from edgeface.converters.edgetpu import check_model

    files = [f for m in models for f in (sorted(m.glob("*.tflite")) if m.is_dir() else [m])]
    if not files:
        fail("no .tflite files given")
    reports = [check_model(f) for f in files]
    for report in reports:
        typer.echo(report.text())
    bad = [r for r in reports if not r.ok]
    typer.echo(f"{len(reports) - len(bad)} of {len(reports)} models are Edge-TPU-ready")
    if bad:
        raise typer.Exit(1)


train_app = typer.Typer(no_args_is_help=True, help="Train the NNS2 FaceNet (recipe: docs/TRAINING.md).")
app.add_typer(train_app, name="train")


@train_app.command("prepare")
@guarded
def train_prepare(
    images_dir: Path = typer.Argument(..., help="folder of face images (any layout)"),
    out: Path = typer.Argument(..., help="aligned crop cache to write (.npz)"),
    identities: Optional[Path] = typer.Option(None, help="CSV file,identity (e.g. ../shared/data/train/*.csv)"),
    jobs: int = typer.Option(2, help="parallel processes"),
) -> None:
    """Align a face set with our MTCNN into a 112x112 crop cache (mirrored border for tight crops)."""
    import subprocess

    from edgeface.training.prepare import merge_shards

    shards = [out.with_name(f"{out.stem}.part{i}.npz") for i in range(jobs)]
    todo = [i for i, shard in enumerate(shards) if not shard.is_file()]
    procs = [subprocess.Popen([sys.executable, "-m", "edgeface.training.prepare", str(images_dir), str(shards[i]),
                               str(identities) if identities else "-", str(i), str(jobs)]) for i in todo]
    if any(p.wait() for p in procs):
        fail("alignment failed in a worker (see its output above); re-run to resume")
    counts = merge_shards(shards, out)
    for shard in shards:
        shard.unlink()
    typer.echo(f"{out}: aligned={counts['aligned']} failed={counts['failed']}")


@train_app.command("teacher")
@guarded
def train_teacher(sets: list[Path] = typer.Argument(..., help="aligned crop caches")) -> None:
    """Cache MobileFaceNet targets (crop and mirror) for each aligned set."""
    from edgeface.training.teachers import cache_teacher

    for aligned in sets:
        typer.echo(f"wrote {cache_teacher(aligned)}")


@train_app.command("dedup")
@guarded
def train_dedup(
    sets: list[Path] = typer.Argument(..., help="aligned crop caches (with teacher targets)"),
    lfw_root: Optional[Path] = LfwOption,
    threshold: float = typer.Option(0.4, help="Euclidean teacher distance under which a crop is an LFW copy"),
    cache: Path = typer.Option(Path("runs/lfw_mobilefacenet.npz"), help="LFW teacher embeddings cache"),
) -> None:
    """Mark training crops that are near-duplicates of any LFW image; training skips them."""
    from edgeface.lfw import locate_lfw
    from edgeface.training.dedup import lfw_teacher_embeddings, mark_duplicates

    vectors = lfw_teacher_embeddings(locate_lfw(lfw_root), cache)
    for aligned in sets:
        typer.echo(f"{aligned}: {mark_duplicates(aligned, vectors, threshold)} near-duplicates of LFW removed")


@train_app.command("run")
@guarded
def train_run(
    sets: list[Path] = typer.Argument(..., help="aligned crop caches (teacher targets + dedup done)"),
    out: Path = typer.Option(Path("runs/nns2"), help="run folder: log.jsonl, checkpoints, best weights"),
    epochs: float = typer.Option(10.0),
    batch_size: int = typer.Option(128),
    learning_rate: float = typer.Option(2e-3),
    weight_embedding: float = typer.Option(1.0, help="distillation: 1 - cos(projected student, teacher)"),
    weight_similarity: float = typer.Option(10.0, help="distillation: MSE of in-batch similarity matrices"),
    weight_triplet: float = typer.Option(0.0, help="FaceNet triplet loss, online semi-hard mining"),
    weight_softmax: float = typer.Option(0.0, help="cosine softmax over training identities"),
    bfloat16: bool = typer.Option(True, help="mixed bfloat16 (faster on CPUs with AVX512-BF16)"),
    dev_every: int = typer.Option(1000, help="steps between LFW-dev checks"),
    seed: int = typer.Option(20261121),
    resume: bool = typer.Option(False, help="continue from the run folder's last checkpoint"),
    init_weights: Optional[Path] = typer.Option(None, help="warm start from a student .weights.h5 (fresh schedule)"),
    jitter: float = typer.Option(0.0, help="scale/shift augmentation, fraction of the crop (e.g. 0.05)"),
    warmup_steps: int = typer.Option(300, help="linear learning-rate warm-up before the cosine decay"),
    mirror_fused_targets: bool = typer.Option(False, help="a crop and its mirror share the flip-fused teacher target"),
    online_teacher: bool = typer.Option(False, help="the teacher embeds each augmented view as the student sees it"),
    mixup: float = typer.Option(0.0, help="with --online-teacher: fraction of each batch blended with another face"),
    weight_hard_pairs: float = typer.Option(0.0, help="match the teacher's similarity on the hardest in-batch pairs"),
    hard_pair_fraction: float = typer.Option(0.02, help="share of different-face (and same-face) pairs counted hard"),
    lfw_root: Optional[Path] = LfwOption,
) -> None:
    """Train the NNS2 FaceNet (distillation by default; triplet/softmax selectable)."""
    from edgeface.training.train import TrainConfig, Trainer

    config = TrainConfig(sets=[str(s) for s in sets], out_dir=str(out), epochs=epochs, batch_size=batch_size,
                         learning_rate=learning_rate, weight_embedding=weight_embedding,
                         weight_similarity=weight_similarity, weight_triplet=weight_triplet,
                         weight_softmax=weight_softmax, bfloat16=bfloat16, dev_every=dev_every, seed=seed,
                         lfw_root=str(lfw_root) if lfw_root else None, warmup_steps=warmup_steps,
                         init_weights=str(init_weights) if init_weights else None, jitter=jitter,
                         mirror_fused_targets=mirror_fused_targets, online_teacher=online_teacher, mixup=mixup,
                         weight_hard_pairs=weight_hard_pairs, hard_pair_fraction=hard_pair_fraction)
    with quiet_terminal(out / "train.log"):
        trainer = Trainer(config)
        typer.echo(f"{len(trainer.data)} crops ({trainer.data.removed_duplicates} LFW near-duplicates removed), "
                   f"{trainer.data.num_classes} identities, {trainer.total_steps} steps", err=True)
        result = trainer.run(resume=resume)
    typer.echo(str(result))


@app.command("eval-allpairs")
@guarded
def eval_allpairs(
    embeddings: Path = typer.Argument(..., help="`edgeface export-embeddings` output of LFW (every image)"),
    out: Path = typer.Option(Path("reports/allpairs.json"), help="JSON report path"),
) -> None:
    """Verification on every genuine and every impostor pair (BLUFR-style): TAR at FAR 1e-3 ... 1e-6."""
    import json

    import numpy as np

    from edgeface.allpairs import from_export
    from edgeface.runtime.fileio import atomic_write_json, portable_path

    result = from_export(embeddings)
    report = {"embeddings": portable_path(embeddings), **result.report(),
              "curve": result.curve(np.round(np.arange(0.60, 1.401, 0.005), 4))}
    atomic_write_json(out, report)
    typer.echo(f"{report['images']} images ({report['images_without_face']} without a face), "
               f"{report['genuine_pairs']:,} genuine and {report['impostor_pairs']:,} impostor pairs")
    for far, row in report["at_far"].items():
        typer.echo(f"FAR {far:>6s}: TAR {100 * row['tar']:6.2f}%  threshold {row['threshold']:.4f}  "
                   f"({row['impostor_pairs_accepted']:,} impostor pairs accepted)")
    typer.echo(f"wrote {out}")


@app.command("eval-pad")
@guarded
def eval_pad(
    data: Path = typer.Argument(..., help="NUAA db/ folder, or ROOT/live|<attack type>/<attempt>/<frames>"),
    split: str = typer.Option("test", help="NUAA: train (development) | test"),
    every: int = typer.Option(1, help="score every N-th frame of each attempt"),
    models: Optional[Path] = ModelsOption,
    variant: Optional[str] = VariantOption,
    threshold: Optional[float] = typer.Option(None, help="live threshold (default: the one recorded for the models)"),
    choose_frame_bpcer: Optional[float] = typer.Option(
        None, help="development data only: fix the threshold here, the strictest refusing at most this share of "
                   "live frames"),
    out: Path = typer.Option(Path("reports/pad.json"), help="JSON report (with every frame's score)"),
    det: Optional[Path] = typer.Option(None, help="DET curve PNG (APCER per attack type vs BPCER, frames)"),
) -> None:
    """Presentation-attack detection, ISO/IEC 30107-3 style: APCER per attack type, BPCER, attempts and frames."""
    from edgeface.console import progress
    from edgeface.pad import PadEvaluation, evaluate, plot_det, summary_lines
    from edgeface.runtime.fileio import atomic_write_json, portable_path

    pipeline = _pipeline(models, variant)
    config = PadEvaluation(data, split, every, threshold, choose_frame_bpcer)
    with quiet_terminal(out.with_suffix(".log")):
        report, _, _ = evaluate(config, pipeline, lambda items, label: progress(items, label, unit="frames"))
    report["using"] = {**pipeline.description, "models": portable_path(pipeline.description["models"])}
    atomic_write_json(out, report, indent=None)  # every frame's score and landmarks: one line, not 50,000
    if det is not None:
        plot_det(report["sweep"], report["threshold"], det, f"{data.name} {split}, every {every}")
    for line in summary_lines(report):
        typer.echo(line)
    typer.echo(f"wrote {out}" + (f" and {det}" if det else ""))


@app.command("export-embeddings")
@guarded
def export_embeddings_command(
    folder: Path = typer.Argument(..., help="folder of Person/image.jpg"),
    out: Path = typer.Argument(..., help="output .npz (embeddings, labels, label_strings, image_paths, no_face)"),
    models: Optional[Path] = ModelsOption,
    variant: Optional[str] = VariantOption,
    embedder: str = typer.Option("nns2", help="float reference only: nns2 | mobilefacenet | dlib"),
) -> None:
    """Embed the central face of every image of a labelled folder (facenet's export_embeddings); resumable."""
    from edgeface.export_embeddings import export_embeddings

    with quiet_terminal(out.with_suffix(".log")):
        counts = export_embeddings(folder, out, _pipeline(models, variant, embedder))
    typer.echo(" ".join(f"{k}={v}" for k, v in counts.items()) + f" -> {out}")


@app.command()
@guarded
def cluster(
    folder: Path = typer.Argument(..., help="folder (any layout) of unlabelled photos"),
    out_dir: Path = typer.Argument(..., help="new folder: person_000/, person_001/, ..., noise/, summary.json"),
    threshold: Optional[float] = typer.Option(None, help="Euclidean cut (default: the model's LFW threshold at FAR=1e-3)"),
    min_cluster_size: int = typer.Option(2, help="smaller clusters go to noise/"),
    method: str = typer.Option("agglomerative", help="agglomerative (average linkage) | dbscan"),
    faces: str = typer.Option("all", help="all faces of each photo, or only the central one"),
    models: Optional[Path] = ModelsOption,
    variant: Optional[str] = VariantOption,
    embedder: str = typer.Option("nns2", help="float reference only: nns2 | mobilefacenet | dlib"),
) -> None:
    """Detect and embed every face in FOLDER and cluster them into people (scikit-learn)."""
    from edgeface.clustering import ClusterConfig, cluster_folder

    config = ClusterConfig(threshold=threshold, min_cluster_size=min_cluster_size, method=method, faces=faces)
    summary = cluster_folder(folder, out_dir, _pipeline(models, variant, embedder), config)
    typer.echo(f"{summary['faces']} faces from {summary['images']} images -> {summary['clusters']} clusters, "
               f"{summary['noise_faces']} noise faces, {len(summary['images_without_face'])} images without a face "
               f"(threshold {summary['threshold']:.3f}) -> {out_dir}")


identify_app = typer.Typer(no_args_is_help=True, help="Who is this? A classifier over embeddings, with 'unknown'.")
app.add_typer(identify_app, name="identify")


@identify_app.command("train")
@guarded
def identify_train(
    folder: Path = typer.Argument(..., help="folder of Person/image.jpg"),
    model_out: Path = typer.Argument(..., help="identity model to write (.npz, no pickle)"),
    threshold: Optional[float] = typer.Option(None, help="unknown beyond this Euclidean distance "
                                                         "(default: the LFW threshold at FAR=1e-3)"),
    models: Optional[Path] = ModelsOption,
    variant: Optional[str] = VariantOption,
    embedder: str = typer.Option("nns2", help="float reference only: nns2 | mobilefacenet | dlib"),
) -> None:
    """Train a linear SVM over the embeddings of a labelled folder (facenet's classifier.py TRAIN)."""
    import numpy as np

    from edgeface.facesets import embed_images, labelled_images
    from edgeface.identify import train_identity_model

    pipeline = _pipeline(models, variant, embedder)
    images = labelled_images(folder)
    person_of = dict(images)
    vectors, people, failed = [], [], 0
    for path, faces, error in embed_images([p for p, _ in images], pipeline):
        if error:
            failed += 1
            typer.echo(f"skipped {error}", err=True)
            continue
        vectors.append(faces[0].vector)
        people.append(person_of[path])
    model = train_identity_model(np.stack(vectors) if vectors else np.zeros((0, pipeline.embedder.dim)), people,
                                 pipeline.threshold(threshold, strict=True), pipeline.model_id)
    model.save(model_out)
    typer.echo(f"trained on {len(vectors)} faces of {len(model.names)} people ({failed} images skipped), "
               f"unknown beyond {model.threshold:.3f} -> {model_out}")


@identify_app.command("predict")
@guarded
def identify_predict(
    model_file: Path = typer.Argument(..., help="identity model from `identify train`"),
    images: list[Path] = typer.Argument(..., help="images to identify"),
    models: Optional[Path] = ModelsOption,
    variant: Optional[str] = VariantOption,
    embedder: str = typer.Option("nns2", help="float reference only: nns2 | mobilefacenet | dlib"),
) -> None:
    """Print image, answer (a name or unknown) and distance; an image without a face is reported, exit 1 at the end."""
    from edgeface.facesets import embed_image
    from edgeface.identify import load_identity_model
    from edgeface.runtime.images import ImageError

    model = load_identity_model(model_file)
    pipeline = _pipeline(models, variant, embedder)
    if model.model_id != pipeline.model_id:
        fail(f"{model_file}: trained on embeddings of another model; retrain it with this one")
    failed = 0
    for path in images:
        try:
            face = embed_image(path, pipeline)[0]
        except ImageError as error:
            failed += 1
            typer.echo(f"{path}\terror: {error}")
            continue
        name, distance = model.predict(face.vector[None])[0]
        typer.echo(f"{path}\t{name}\t{distance:.4f}")
    if failed:
        raise typer.Exit(1)


lock_app = typer.Typer(no_args_is_help=True, help="The door lock: enrol people, list/remove them, run the lock loop.")
app.add_typer(lock_app, name="lock")
GalleryOption = typer.Option(None, "--gallery", help="gallery file (default: $EDGEFACE_GALLERY, then ./gallery.json)")


def _gallery_path(gallery: Optional[Path]) -> Path:
    import os

    return gallery or Path(os.environ.get("EDGEFACE_GALLERY", "gallery.json"))


@lock_app.command("enroll")
@guarded
def lock_enroll(
    name: str = typer.Argument(..., help="the person's name"),
    images: Optional[Path] = typer.Option(None, help="folder of this person's photos"),
    camera: Optional[int] = typer.Option(None, help="camera index to take shots from"),
    shots: int = typer.Option(5, help="good embeddings to keep"),
    gallery: Optional[Path] = GalleryOption,
    models: Optional[Path] = ModelsOption,
    variant: Optional[str] = VariantOption,
    min_face_px: float = typer.Option(60.0, help="quality: shortest face side in pixels"),
    min_sharpness: float = typer.Option(15.0, help="quality: variance of the Laplacian of the aligned face"),
    add: bool = typer.Option(False, "--add", help="NAME is enrolled already: add these shots to theirs"),
    replace: bool = typer.Option(False, "--replace", help="NAME is enrolled already: replace their shots"),
) -> None:
    """Enrol NAME from photos or a camera: keeps the sharpest good single-face shots, says why others were refused.
    The shots must look like one person (and like NAME's enrolled shots with --add)."""
    from edgeface.runtime.frames import open_frames
    from edgeface.runtime.gallery import normalise_name
    from edgeface.runtime.lock import QualityConfig, collect_enrolment, enrol

    if images is None and camera is None:
        fail("give --images DIR or --camera N")
    if add and replace:
        fail("give --add or --replace, not both")
    name = normalise_name(name)  # refuse a bad name before minutes of camera work
    path = _gallery_path(gallery)
    pipeline = _pipeline(models, variant)
    frames = open_frames(camera=camera, images=images)
    result = collect_enrolment(frames, pipeline, shots, QualityConfig(min_face_px=min_face_px,
                                                                       min_sharpness=min_sharpness),
                               max_frames=None if camera is None else 30 * shots)
    for label, reason in result.rejected:
        typer.echo(f"refused {label}: {reason}", err=True)
    if len(result.embeddings) == 0:
        fail(f"no usable shot of {name} ({len(result.rejected)} refused); nothing enrolled", code=1)
    person = enrol(path, name, result, pipeline, mode="add" if add else "replace" if replace else "new")
    note = "" if len(result.embeddings) >= shots else f" (only {len(result.embeddings)} of {shots} wanted)"
    typer.echo(f"enrolled {name}: {len(result.embeddings)} shots{note}, {len(result.rejected)} refused; "
               f"{len(person.embeddings)} shots in the gallery -> {path}")


@lock_app.command("list")
@guarded
def lock_list(gallery: Optional[Path] = GalleryOption) -> None:
    """Enrolled people, their number of shots and enrolment time."""
    from edgeface.runtime.gallery import load_gallery

    book = load_gallery(_gallery_path(gallery))
    for person in sorted(book.people.values(), key=lambda p: p.name):
        typer.echo(f"{person.name}\t{len(person.embeddings)} shots\tenrolled {person.enrolled}")
    typer.echo(f"{len(book.people)} people (model {book.model[:12]}…)")


@lock_app.command("remove")
@guarded
def lock_remove(name: str = typer.Argument(...), gallery: Optional[Path] = GalleryOption) -> None:
    """Remove NAME from the gallery (atomic rewrite under the gallery lock; a running lock sees it within ~1 s)."""
    from edgeface.runtime.lock import remove

    left = remove(_gallery_path(gallery), name)
    typer.echo(f"removed {name}; {left} people left")


@lock_app.command("run")
@guarded
def lock_run(
    camera: Optional[int] = typer.Option(None, help="camera index"),
    video: Optional[Path] = typer.Option(None, help="video file to replay"),
    images: Optional[Path] = typer.Option(None, help="folder of frames to replay (sorted by name)"),
    fps: float = typer.Option(5.0, help="--images: frame rate that times the replay"),
    gallery: Optional[Path] = GalleryOption,
    models: Optional[Path] = ModelsOption,
    variant: Optional[str] = VariantOption,
    k: int = typer.Option(3, help="unlock when the same person matches in k ..."),
    n: int = typer.Option(5, help="... of the last n frames ..."),
    window: float = typer.Option(3.0, help="... within this many seconds"),
    relock: float = typer.Option(5.0, help="seconds until the door locks again"),
    threshold: Optional[float] = typer.Option(None, help="Euclidean threshold, used as given (overrides the "
                                                         "security target)"),
    far_per_visit: float = typer.Option(1e-4, help="security target: stranger visits let in; the threshold for the "
                                                   "gallery's size comes from the models folder's door policy"),
    action: str = typer.Option("print", help="print (dry run) | command:CMD | gpio:PIN"),
    action_timeout: float = typer.Option(5.0, help="command: action: seconds before the command is killed"),
    audit: Path = typer.Option(Path("audit.jsonl"), help="append-only JSON-lines decision log (rotated at 10 MB)"),
    threads: int = typer.Option(1, help="interpreter threads"),
    report: Optional[Path] = typer.Option(None, help="write run statistics (and RSS, stage latency) as JSON"),
    liveness: str = LivenessOption,
    full_detect_every: int = FullDetectOption,
    min_face_size: Optional[float] = typer.Option(None, help="smallest face (px) searched for; a door camera's "
                                                             "visitor is >= 80 px wide in 640x480, and 80 runs "
                                                             "6 pyramid levels instead of 10 (default: the models "
                                                             "folder's, 20)"),
) -> None:
    """Run the lock: detect → align → embed → nearest enrolled person → k-of-n decision → action + audit.
    Relocks on start and on every exit; `lock enroll/remove` apply while it runs (SIGHUP: reload at once)."""
    import json

    from edgeface.runtime.actions import AuditLog, make_action
    from edgeface.runtime.frames import open_frames
    from edgeface.runtime.gallery import load_gallery
    from edgeface.runtime.lock import LockConfig, Stopped, liveness_gate, operating_threshold, serve
    from edgeface.runtime.resources import peak_rss_mb, rss_mb
    from edgeface.runtime.fileio import portable_path

    config = LockConfig(k=k, n=n, window_s=window, relock_s=relock, threshold=threshold,
                        far_per_visit=far_per_visit, liveness=_liveness_on(liveness),
                        full_detect_every=full_detect_every)  # validates the values
    frames = open_frames(camera=camera, video=video, images=images, fps=fps)
    door = make_action(action, action_timeout)
    path = _gallery_path(gallery)
    book = load_gallery(path)
    if not book.people:
        fail(f"{path}: nobody is enrolled")
    pipeline = _pipeline(models, variant, min_face_size=min_face_size, threads=threads, announce=False)
    operating = operating_threshold(pipeline, book, config)
    check = liveness_gate(pipeline, config)  # before the door is touched: no nets, no threshold → refused
    typer.echo(f"threshold {operating.threshold} ({operating.how}); {_liveness_line(check)}; {_using(pipeline)}",
               err=True)  # first line
    log = AuditLog(audit)
    rss_start = rss_mb()
    started = time.perf_counter()
    try:
        stats = serve(frames, pipeline, path, config, door, log, keep_stage_times=report is not None)
    except Stopped as signal_name:
        fail(f"stopped by {signal_name}; the door was relocked", code=143)
    finally:
        log.close()
    summary = {k: v for k, v in vars(stats).items() if k != "stage_ms"}
    summary["frames_per_s"] = round(stats.frames / max(1e-9, time.perf_counter() - started), 2)
    summary.update({"rss_mb_start": rss_start, "rss_mb_end": rss_mb(), "rss_mb_peak": peak_rss_mb(),
                    "pipeline": {**pipeline.description, "models": portable_path(pipeline.description["models"])},
                    "threshold": stats.threshold, "threshold_how": stats.threshold_how})
    if report is not None:
        import numpy as np

        from edgeface.runtime.fileio import atomic_write_json

        summary["stage_ms_median"] = {k: round(float(np.median(v)), 2) if v else None for k, v in stats.stage_ms.items()}
        atomic_write_json(report, summary)
    typer.echo(json.dumps(summary))


@lock_app.command("calibrate")
@guarded
def lock_calibrate(
    embeddings: Path = typer.Argument(..., help="`edgeface export-embeddings` output of LFW (every image)"),
    out: Path = typer.Option(Path("reports/household.json"), help="JSON report (a DET PNG is written beside it)"),
    households: int = typer.Option(200), residents: int = typer.Option(4), shots: int = typer.Option(5),
    stranger_visits: int = typer.Option(200, help="stranger visits per household"),
    k: int = typer.Option(3), n: int = typer.Option(5), window: float = typer.Option(3.0),
    seed: int = typer.Option(16),
    half: str = typer.Option("all", help="LFW people used: all | calibration (even positions) | test (odd)"),
    threshold: list[float] = typer.Option([], help="thresholds to sweep (repeatable; default 0.70 ... 1.20 by 0.01)"),
    policy_out: Optional[Path] = typer.Option(None, help="also write the door policy: per target (1e-3, 1e-4) and "
                                                         "household size (1-8 residents), the lock's threshold"),
) -> None:
    """Household simulation: stranger visits let in and resident visits refused over a threshold sweep."""
    import numpy as np

    from edgeface.household import HouseholdConfig, plot_det, simulate
    from edgeface.runtime.fileio import atomic_write_json, portable_path
    from edgeface.runtime.lock import LockConfig

    config = HouseholdConfig(households=households, residents=residents, shots=shots,
                             stranger_visits_per_household=stranger_visits, seed=seed, half=half)
    if half not in ("all", "calibration", "test"):
        fail(f"--half is all, calibration or test (got {half!r})")
    with np.load(embeddings, allow_pickle=False) as data:
        report = simulate(data["embeddings"], data["labels"], config, LockConfig(k=k, n=n, window_s=window),
                          np.array(sorted(threshold)) if threshold else None)
    report["embeddings"] = portable_path(embeddings)
    atomic_write_json(out, report)
    plot_det({embeddings.stem: report}, out.with_suffix(".png"))
    typer.echo(f"{'threshold':>9s} {'stranger frames':>15s} {'strangers let in':>24s} {'95% bound':>9s} "
               f"{'residents refused':>17s}")
    for row in report["sweep"]:
        typer.echo(f"{row['threshold']:9.3f} {row['stranger_frames_matched']:15.2e} "
                   f"{row['stranger_visits_let_in']:>8d} / {row['stranger_visits']:<6d} {row['far_per_visit']:7.1e} "
                   f"{row['far_per_visit_upper_95']:9.1e} {100 * row['frr_per_visit']:16.1f}%")
    typer.echo(f"wrote {out} and {out.with_suffix('.png')}")
    if policy_out is not None:
        from edgeface.household import door_policy

        with np.load(embeddings, allow_pickle=False) as data:
            policy = door_policy(data["embeddings"], data["labels"], config=config,
                                 lock=LockConfig(k=k, n=n, window_s=window))
        policy["embeddings"] = portable_path(embeddings)
        atomic_write_json(policy_out, policy)
        for target, sizes in policy["by_target"].items():
            typer.echo(f"target {target}: " + ", ".join(
                f"{size} residents {row['threshold'] if row else 'none'}" for size, row in sizes.items()))
        typer.echo(f"wrote {policy_out} (ship it with scripts/record_door_policy.py)")


@lock_app.command("scenario")
@guarded
def lock_scenario(
    models: Optional[Path] = ModelsOption,
    variant: Optional[str] = VariantOption,
    lfw_root: Optional[Path] = LfwOption,
    out: Path = typer.Option(Path("reports/door_scenario.json"), help="JSON report"),
    households: int = typer.Option(5, help="households, each with its own residents"),
    strangers: int = typer.Option(500, help="stranger visits per household, one per LFW person with >= 5 photos who "
                                            "does not live there (at most all ~420 of them)"),
    far_per_visit: float = typer.Option(1e-4, help="the lock's security target (as `lock run`)"),
    threshold: Optional[float] = typer.Option(None, help="a fixed threshold instead of the security target"),
    seed: int = typer.Option(7),
    liveness: str = typer.Option("off", help="off (default): LFW photos are photos, and the liveness nets refuse "
                                             "most of them (measure liveness with `lock attack-scenario`) | on"),
    full_detect_every: int = FullDetectOption,
) -> None:
    """Households of 3 LFW people each enrol from some photos; visits by them (held-out photos) and by
    strangers are replayed through the lock loop; false accepts per visit with their 95% upper bound."""
    from edgeface.door_scenario import ScenarioConfig, run_scenario
    from edgeface.lfw import locate_lfw
    from edgeface.runtime.fileio import atomic_write_json
    from edgeface.runtime.lock import LockConfig

    lock = LockConfig(threshold=threshold, far_per_visit=far_per_visit, liveness=_liveness_on(liveness),
                      full_detect_every=full_detect_every)
    report = run_scenario(locate_lfw(lfw_root), _pipeline(models, variant),
                          ScenarioConfig(households=households, strangers=strangers, seed=seed), lock)
    atomic_write_json(out, report)
    typer.echo(f"threshold {report['threshold']} ({report['threshold_how']})")
    typer.echo(f"resident visits {report['genuine_visits']}: let in {report['true_accepts']}, refused "
               f"{report['resident_visits_refused']}; stranger visits {report['impostor_visits']}: let in "
               f"{report['false_accepts']} (rate {report['false_accepts_per_visit']:.1e}, 95% upper bound "
               f"{report['false_accepts_upper_95']:.1e}); {report['suspected_attack_frames']} matching frames judged "
               f"not live; wrote {out}")


@lock_app.command("attack-scenario")
@guarded
def lock_attack_scenario(
    data: Path = typer.Argument(..., help="NUAA db/ folder (ClientRaw, ImposterRaw and the train/test lists)"),
    models: Optional[Path] = ModelsOption,
    variant: Optional[str] = VariantOption,
    out: Path = typer.Option(Path("reports/attack_scenario.json"), help="JSON report"),
    every: int = typer.Option(3, help="replay every N-th frame of each attempt"),
    visit_frames: int = typer.Option(10, help="frames per door visit (an attempt is cut into visits)"),
    far_per_visit: float = typer.Option(1e-4, help="the lock's security target (as `lock run`)"),
    liveness: str = LivenessOption,
    full_detect_every: int = FullDetectOption,
) -> None:
    """Printed photos of enrolled residents held up to the lock (NUAA test split), beside the residents' own
    live visits: attack visits let in and resident visits refused, through the production lock loop."""
    from edgeface.pad_scenario import AttackScenarioConfig, run_attack_scenario
    from edgeface.runtime.fileio import atomic_write_json
    from edgeface.runtime.lock import LockConfig

    lock = LockConfig(far_per_visit=far_per_visit, liveness=_liveness_on(liveness), full_detect_every=full_detect_every)
    pipeline = _pipeline(models, variant)
    with quiet_terminal(out.with_suffix(".log")):
        report = run_attack_scenario(data, pipeline, lock, AttackScenarioConfig(every=every, visit_frames=visit_frames))
    atomic_write_json(out, report)
    typer.echo(f"liveness {liveness}: {report['subjects']} one-person households; resident visits "
               f"{report['resident_visits']}: let in {report['resident_visits_let_in']}, refused "
               f"{report['resident_visits_refused']}; printed-photo attack visits {report['attack_visits']}: let in "
               f"{report['attack_visits_let_in']} (95% upper bound {report['attack_visits_let_in_upper_95']:.3f}); "
               f"wrote {out}")


def main() -> None:  # pragma: no cover - console entry for `python -m edgeface`
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
