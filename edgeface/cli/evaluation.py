"""Evaluation commands: the LFW protocol, all-pairs verification, presentation attacks, embeddings, clustering."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from edgeface.console import quiet_terminal
from edgeface.cli.common import EmbedderOption, LfwOption, ModelsOption, VariantOption, guarded, open_for_command

commands = typer.Typer()


@commands.command("eval")
@guarded
def eval_command(
    embedder: str = EmbedderOption,
    lfw_root: Optional[Path] = LfwOption,
    out: Path = typer.Option(Path("reports/eval.json"), help="JSON report path"),
    roc: Optional[Path] = typer.Option(None, help="ROC PNG path (default: next to the JSON)"),
    flip: bool = typer.Option(True, help="also report horizontal-flip embedding fusion"),
    max_pairs_per_fold: Optional[int] = typer.Option(None, help="use fewer pairs (quick look; not the protocol)"),
    compare: bool = typer.Option(False, "--compare", help="detector {float, int8} x embedder {float, int8} "
                                                          "from a converted models folder"),
    models: Path = typer.Option(Path("models"), help="--compare: folder written by `edgeface convert`"),
    variant: str = typer.Option("int8", help="--compare: the converted variant to compare with float"),
    stage: list[str] = typer.Option([], help="--compare: run one MTCNN stage in another variant, e.g. pnet=fp32 "
                                            "(the CPU runtime's detector); repeatable"),
    cross: bool = typer.Option(True, help="--compare: also the mixed pairs (float detector + converted embedder "
                                          "and the reverse), which split a loss between the two"),
) -> None:
    """Run detect → align → embed → the 10-fold LFW protocol; write a JSON report and a ROC PNG."""
    import json

    from edgeface.evaluate import parse_stages, run_compare, run_eval
    from edgeface.runtime.fileio import atomic_write_json, portable_path
    from edgeface.lfw import locate_lfw
    from edgeface.protocol import plot_roc

    root = locate_lfw(lfw_root)
    with quiet_terminal(out.with_suffix(".log")):
        if compare:
            report, curves = run_compare(root, models, variant, flip=flip, stages=parse_stages(stage), cross=cross)
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
    if "every_stage" in report:
        typer.echo(f"{variant} in every stage: {json.dumps(report['every_stage'])}")
    typer.echo(f"wrote {out} and {roc}")


@commands.command("eval-allpairs")
@guarded
def eval_allpairs(
    embeddings: Path = typer.Argument(..., help="`edgeface export-embeddings` output of LFW (every image)"),
    out: Path = typer.Option(Path("reports/allpairs.json"), help="JSON report path"),
) -> None:
    """Verification on every genuine and every impostor pair (BLUFR-style): TAR at FAR 1e-3 ... 1e-6."""
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


@commands.command("eval-pad")
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

    pipeline = open_for_command(models, variant)
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


@commands.command("export-embeddings")
@guarded
def export_embeddings_command(
    folder: Path = typer.Argument(..., help="folder of Person/image.jpg"),
    out: Path = typer.Argument(..., help="output .npz (embeddings, labels, label_strings, image_paths, no_face)"),
    models: Optional[Path] = ModelsOption,
    variant: Optional[str] = VariantOption,
    embedder: str = EmbedderOption,
) -> None:
    """Embed the central face of every image of a labelled folder (facenet's export_embeddings); resumable."""
    from edgeface.export_embeddings import export_embeddings

    with quiet_terminal(out.with_suffix(".log")):
        counts = export_embeddings(folder, out, open_for_command(models, variant, embedder))
    typer.echo(" ".join(f"{k}={v}" for k, v in counts.items()) + f" -> {out}")


@commands.command()
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
    embedder: str = EmbedderOption,
) -> None:
    """Detect and embed every face in FOLDER and cluster them into people (scikit-learn)."""
    from edgeface.clustering import ClusterConfig, cluster_folder

    config = ClusterConfig(threshold=threshold, min_cluster_size=min_cluster_size, method=method, faces=faces)
    summary = cluster_folder(folder, out_dir, open_for_command(models, variant, embedder), config)
    typer.echo(f"{summary['faces']} faces from {summary['images']} images -> {summary['clusters']} clusters, "
               f"{summary['noise_faces']} noise faces, {len(summary['images_without_face'])} images without a face "
               f"(threshold {summary['threshold']:.3f}) -> {out_dir}")
