"""What every command shares: the user-error guard, the options defined once, opening the pipeline.

The command modules (faces, evaluation, convert, train, identify, lock) only parse options and print; the work
is done in the modules they call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from edgeface.runtime.errors import UsageError

LfwOption = typer.Option(None, "--lfw", help="LFW root with pairs.txt and lfw-deepfunneled/ "
                                              "(default: $EDGEFACE_LFW, then ../shared/data/lfw)")

ModelsOption = typer.Option(None, "--models", help="converted models folder (TFLite runtime, no TensorFlow; "
                                                     "default: $EDGEFACE_MODELS); without it the float reference runs")

VariantOption = typer.Option(None, help="with --models: fp32 | fp16 | dynamic | int8 | edgetpu for every net "
                                        "(default: edgetpu when a Coral is attached, else int8, with each MTCNN "
                                        "stage in the variant fastest on this machine)")

EmbedderOption = typer.Option("nns2", "--embedder", help="float reference only (without --models): nns2 | "
                                                    "mobilefacenet | dlib")

FullDetectOption = typer.Option(1, help="the lock's detector: the whole MTCNN pyramid every N frames, and R-Net/"
                                        "O-Net around the faces of the previous frame in between (1, the default: "
                                        "every frame; 10 is 2-2.4x faster, see README)")

LivenessOption = typer.Option("on", help="on: a matching face must also be judged live (anti-spoofing nets) to "
                                            "count | off: no check, a printed photo of a resident opens the door")

GalleryOption = typer.Option(None, "--gallery", help="gallery file (default: $EDGEFACE_GALLERY, then ./gallery.json)")


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


def open_for_command(models, variant, embedder: str = "nns2", min_face_size: float | None = None, threads: int = 1,
              announce: bool = True, liveness: bool = True):
    """The pipeline; with `announce`, one stderr line says which models, variant and accelerator run."""
    from edgeface.pipelines import open_pipeline
    from edgeface.runtime.cascade import CascadeConfig

    cascade = CascadeConfig(min_face_size=min_face_size) if min_face_size else None
    pipeline = open_pipeline(models, variant, embedder, cascade, threads, liveness)
    if announce:
        typer.echo(using_line(pipeline), err=True)
    return pipeline


def using_line(pipeline) -> str:
    return "using " + ", ".join(f"{k} {v}" for k, v in pipeline.description.items())


def liveness_on(value: str) -> bool:
    if value not in ("on", "off"):
        raise UsageError(f"--liveness is on or off (got {value!r})")
    return value == "on"


def liveness_line(check) -> str:
    from edgeface.runtime.lock import LIVENESS_OFF_WARNING

    return f"liveness on, threshold {check.threshold}" if check is not None else f"WARNING: {LIVENESS_OFF_WARNING}"


def gallery_path(gallery: Optional[Path]) -> Path:
    import os

    return gallery or Path(os.environ.get("EDGEFACE_GALLERY", "gallery.json"))
