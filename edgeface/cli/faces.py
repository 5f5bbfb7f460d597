"""Commands on images and face data sets: align, detect, compare, embed, info, check-mtcnn."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from edgeface.cli.common import (EmbedderOption, LfwOption, ModelsOption, VariantOption, fail, guarded,
                                 open_for_command)

commands = typer.Typer()


@commands.command()
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


@commands.command()
@guarded
def compare(
    images: list[Path] = typer.Argument(..., help="two or more face images"),
    models: Optional[Path] = ModelsOption,
    variant: Optional[str] = VariantOption,
    embedder: str = EmbedderOption,
    threshold: Optional[float] = typer.Option(None, help="Euclidean distance threshold (default: the model's LFW one)"),
) -> None:
    """Print the distance matrix of the faces in IMAGES and same/different at the threshold."""
    from edgeface.compare import compare_images, read_images

    if len(images) < 2:
        fail("compare needs at least two images")
    pictures = read_images(images)
    pipeline = open_for_command(models, variant, embedder)
    label = "embedder " + pipeline.description.get("embedder", f"nns2-{pipeline.description.get('variant')}")
    typer.echo(compare_images(images, pictures, pipeline, threshold, label))


@commands.command()
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
    faces = open_for_command(models, variant, min_face_size=min_face_size, liveness=False).detect(picture)
    if not faces:
        fail(f"{image}: no face found", code=1)
    for face in faces:
        typer.echo(json.dumps(face.to_dict()))


@commands.command()
@guarded
def embed(
    images: list[Path] = typer.Argument(..., help="face images"),
    models: Optional[Path] = ModelsOption,
    variant: Optional[str] = VariantOption,
    embedder: str = EmbedderOption,
    out: Optional[Path] = typer.Option(None, help="also write the embeddings to this .npy file"),
) -> None:
    """Print one JSON line per image: the chosen face's box and its L2-normalised embedding."""
    import json

    import numpy as np

    from edgeface.runtime.fileio import atomic_save_npy
    from edgeface.runtime.images import read_rgb

    pipeline = open_for_command(models, variant, embedder)
    vectors = []
    for path in images:
        face, vector = pipeline.embed_one(read_rgb(path), str(path))
        vectors.append(vector)
        typer.echo(json.dumps({"image": str(path), "box": face.to_dict()["box"],
                               "embedding": [round(float(v), 6) for v in vector]}))
    if out is not None:
        atomic_save_npy(out, np.stack(vectors).astype(np.float32))


@commands.command("check-mtcnn")
@guarded
def check_mtcnn(
    lfw_root: Optional[Path] = LfwOption,
    out: Path = typer.Option(Path("reports/mtcnn_faithfulness.json"), help="JSON report path"),
    limit: Optional[int] = typer.Option(None, help="only the first N pair images (quick look)"),
) -> None:
    """Compare our float MTCNN with the PyPI `mtcnn` package on every LFW pair image (needs `pip install mtcnn`)."""
    from edgeface.faithfulness import run_check
    from edgeface.runtime.fileio import atomic_write_json

    report = run_check(lfw_root, limit=limit)
    atomic_write_json(out, report)
    for key in ("images", "found_rate", "iou_ge_095_rate", "mean_iou", "ours_ms_median", "reference_ms_median"):
        typer.echo(f"{key:22s} {report[key]}")


@commands.command()
@guarded
def info(model: str = typer.Argument(..., help="nns2 | pnet | rnet | onet, or a .tflite file")) -> None:
    """Parameters, multiply-accumulates per face, input size and preprocessing of a model."""
    from edgeface.model_info import describe_model

    typer.echo(describe_model(model))
