"""The `edgeface` command line: one small module per group of commands, options defined once in `common`.

Imports are lazy: `--help` and the runtime commands never import TensorFlow.
"""

from __future__ import annotations

import typer

from edgeface.cli import convert, evaluation, faces, identify, lock, train
from edgeface.cli.common import fail, guarded  # noqa: F401  (the guard the tests and scripts use)

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="FaceNet + MTCNN for door locks: float reference, evaluation, conversion, runtime.")
app.add_typer(faces.commands)
app.add_typer(evaluation.commands)
app.add_typer(convert.commands)
app.add_typer(train.train_app, name="train")
app.add_typer(identify.identify_app, name="identify")
app.add_typer(lock.lock_app, name="lock")


def main() -> None:  # pragma: no cover - console entry for `python -m edgeface.cli`
    app()
