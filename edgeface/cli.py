"""The `edgeface` command line. Imports are lazy: `--help` and the runtime commands never import TensorFlow."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="FaceNet + MTCNN for door locks: float reference, evaluation, conversion, runtime.")

LfwOption = typer.Option(None, "--lfw", help="LFW root with pairs.txt and lfw-deepfunneled/ "
                                              "(default: $EDGEFACE_LFW, then ../shared/data/lfw)")


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that are the user's input, not our bug: reported in one line, exit status 2."""
    from edgeface.lfw import LfwError
    from edgeface.runtime.images import ImageError
    from edgeface.runtime.interpreter import ModelError
    from edgeface.weights import WeightsError

    return (LfwError, ImageError, ModelError, WeightsError, FileNotFoundError, ValueError)


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
    from edgeface.fileio import atomic_write_json
    from edgeface.lfw import locate_lfw
    from edgeface.protocol import plot_roc

    root = locate_lfw(lfw_root)
    if compare:
        report, curves = run_compare(root, models, variant, flip=flip)
    else:
        report, curves = run_eval(root, embedder, flip=flip, max_pairs_per_fold=max_pairs_per_fold)
    roc = roc or out.with_suffix(".png")
    report["roc_png"] = str(roc)
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


@app.command()
@guarded
def compare(
    images: list[Path] = typer.Argument(..., help="two or more face images"),
    embedder: str = typer.Option("mobilefacenet", help="mobilefacenet | dlib | nns2"),
    threshold: Optional[float] = typer.Option(None, help="Euclidean distance threshold (default: the model's LFW one)"),
) -> None:
    """Print the distance matrix of the faces in IMAGES and same/different at the threshold."""
    from edgeface.compare import compare_images

    if len(images) < 2:
        fail("compare needs at least two images")
    typer.echo(compare_images(images, embedder, threshold))


@app.command()
@guarded
def detect(
    image: Path = typer.Argument(..., help="image file"),
    min_face_size: float = typer.Option(20.0, help="smallest face to look for, in pixels"),
) -> None:
    """Detect faces with the float MTCNN; prints one JSON line per face (box, score, 5 landmarks)."""
    import json

    from edgeface.detector import FloatDetector
    from edgeface.runtime.cascade import CascadeConfig
    from edgeface.runtime.images import read_rgb

    picture = read_rgb(image)
    faces = FloatDetector(CascadeConfig(min_face_size=min_face_size)).detect(picture)
    if not faces:
        fail(f"{image}: no face found", code=1)
    for face in faces:
        typer.echo(json.dumps(face.to_dict()))


@app.command("check-mtcnn")
@guarded
def check_mtcnn(
    lfw_root: Optional[Path] = LfwOption,
    out: Path = typer.Option(Path("reports/mtcnn_faithfulness.json"), help="JSON report path"),
    limit: Optional[int] = typer.Option(None, help="only the first N pair images (quick look)"),
) -> None:
    """Compare our float MTCNN with the PyPI `mtcnn` package on every LFW pair image (needs `pip install mtcnn`)."""
    from edgeface.faithfulness import run_check
    from edgeface.fileio import atomic_write_json
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
) -> None:
    """Export MTCNN (+ the NNS2 FaceNet) to TFLite; fp32 is always written as the reference. Writes manifest.json."""
    from edgeface.calibration.lfw_sets import CalibrationConfig
    from edgeface.converters.export import ConvertConfig, Exporter, operating_point

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
                           agreement_images=agreement_images, lfw_root=lfw_root)
    exporter = Exporter(config, log=typer.echo)
    exporter.export_mtcnn()
    has_facenet = exporter.export_facenet()
    exporter.measure(has_facenet)
    manifest = exporter.write_manifest(operating_point())
    total = {}
    for entry in manifest.models:
        total.setdefault((entry.role.replace("_dynamic", ""), entry.variant), 0)
        total[(entry.role.replace("_dynamic", ""), entry.variant)] += entry.bytes
    for (role, variant), size in sorted(total.items()):
        typer.echo(f"{role:8s} {variant:8s} {size / 1024:9.1f} KiB")
    typer.echo(f"wrote {len(manifest.models)} models and {out / 'manifest.json'}")


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
) -> None:
    """Per-stage latency (1 thread and all threads) of every converted variant, and model sizes."""
    import os

    from edgeface.bench import run_bench, table
    from edgeface.fileio import atomic_write_json
    from edgeface.lfw import IMAGES_SUBDIR, locate_lfw
    from edgeface.runtime.images import read_rgb

    image = read_rgb(locate_lfw(lfw_root) / IMAGES_SUBDIR / "Aaron_Peirsol/Aaron_Peirsol_0001.jpg")
    threads = sorted({1, os.cpu_count() or 1})
    report = run_bench(models, image, threads, repeats)
    atomic_write_json(out, report)
    typer.echo(table(report))
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
    lfw_root: Optional[Path] = LfwOption,
) -> None:
    """Train the NNS2 FaceNet (distillation by default; triplet/softmax selectable)."""
    from edgeface.training.train import TrainConfig, Trainer

    config = TrainConfig(sets=[str(s) for s in sets], out_dir=str(out), epochs=epochs, batch_size=batch_size,
                         learning_rate=learning_rate, weight_embedding=weight_embedding,
                         weight_similarity=weight_similarity, weight_triplet=weight_triplet,
                         weight_softmax=weight_softmax, bfloat16=bfloat16, dev_every=dev_every, seed=seed,
                         lfw_root=str(lfw_root) if lfw_root else None)
    trainer = Trainer(config)
    typer.echo(f"{len(trainer.data)} crops ({trainer.data.removed_duplicates} LFW near-duplicates removed), "
               f"{trainer.data.num_classes} identities, {trainer.total_steps} steps")
    typer.echo(str(trainer.run(resume=resume)))


def main() -> None:  # pragma: no cover - console entry for `python -m edgeface`
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
