"""Converting and measuring models: convert, edgetpu-check, bench, bench-tracking."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from edgeface.console import quiet_terminal
from edgeface.cli.common import LfwOption, ModelsOption, VariantOption, fail, guarded, open_for_command

commands = typer.Typer()


@commands.command()
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
    from edgeface.converters.export import LOG_NAME, ConvertConfig, convert_models, parse_sizes, summary_table
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
    config = ConvertConfig(out_dir=out, variants=tuple(variants), input_sizes=parse_sizes(input_size), min_face_size=min_face_size,
                           calibration=CalibrationConfig(images=calibration_images),
                           agreement_images=agreement_images, lfw_root=lfw_root, onnx=from_onnx,
                           qat=QatConfig(steps=qat_steps) if qat else None, qat_images=qat_images,
                           mtcnn_range_clip=mtcnn_range_clip, split_prelu=int8_prelu == "split")
    manifest = convert_models(config)
    typer.echo(summary_table(manifest))
    typer.echo(f"wrote {len(manifest.models)} models and {out / 'manifest.json'} (converter log: {out / LOG_NAME})")


@commands.command("edgetpu-check")
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


@commands.command()
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


@commands.command("bench-tracking")
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
    pipeline = open_for_command(models, variant, min_face_size=min_face_size)
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
