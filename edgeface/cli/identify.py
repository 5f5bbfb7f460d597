"""`edgeface identify ...`: who is this? A classifier over embeddings, with 'unknown'."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from edgeface.cli.common import EmbedderOption, ModelsOption, VariantOption, fail, guarded, open_for_command

identify_app = typer.Typer(no_args_is_help=True, help="Who is this? A classifier over embeddings, with 'unknown'.")


@identify_app.command("train")
@guarded
def identify_train(
    folder: Path = typer.Argument(..., help="folder of Person/image.jpg"),
    model_out: Path = typer.Argument(..., help="identity model to write (.npz, no pickle)"),
    threshold: Optional[float] = typer.Option(None, help="unknown beyond this Euclidean distance "
                                                         "(default: the LFW threshold at FAR=1e-3)"),
    models: Optional[Path] = ModelsOption,
    variant: Optional[str] = VariantOption,
    embedder: str = EmbedderOption,
) -> None:
    """Train a linear SVM over the embeddings of a labelled folder (facenet's classifier.py TRAIN)."""
    from edgeface.identify import train_from_folder

    pipeline = open_for_command(models, variant, embedder)
    model, failed = train_from_folder(folder, pipeline, threshold, lambda error: typer.echo(f"skipped {error}", err=True))
    model.save(model_out)
    typer.echo(f"trained on {len(model.train_labels)} faces of {len(model.names)} people ({failed} images skipped), "
               f"unknown beyond {model.threshold:.3f} -> {model_out}")


@identify_app.command("predict")
@guarded
def identify_predict(
    model_file: Path = typer.Argument(..., help="identity model from `identify train`"),
    images: list[Path] = typer.Argument(..., help="images to identify"),
    models: Optional[Path] = ModelsOption,
    variant: Optional[str] = VariantOption,
    embedder: str = EmbedderOption,
) -> None:
    """Print image, answer (a name or unknown) and distance; an image without a face is reported, exit 1 at the end."""
    from edgeface.facesets import embed_image
    from edgeface.identify import load_identity_model
    from edgeface.runtime.images import ImageError

    model = load_identity_model(model_file)
    pipeline = open_for_command(models, variant, embedder)
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
