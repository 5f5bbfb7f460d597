"""A quiet terminal for long jobs: library chatter goes to a log file, the terminal shows progress and results.

Why at the file-descriptor level: TensorFlow, absl and the TFLite converter write from C++ straight to file
descriptors 1 and 2 (hundreds of "Statistics for quantized inputs" lines per int8 export), so redirecting
`sys.stdout` alone would not catch them. Inside `quiet_terminal`:

- descriptors 1 and 2, `sys.stdout`, Python logging and warnings go to the log file;
- `sys.stderr` is the real terminal, so tqdm progress bars (which write there) and error messages stay visible.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


@contextlib.contextmanager
def quiet_terminal(log_path: str | os.PathLike) -> Iterator[Path]:
    """Send everything but progress bars and `sys.stderr` to `log_path` (appended) while the block runs."""
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved_fds = os.dup(1), os.dup(2)
    saved_streams = sys.stdout, sys.stderr
    log = open(log_path, "a", encoding="utf-8", buffering=1)
    handler = logging.FileHandler(log_path, encoding="utf-8")
    root = logging.getLogger()
    try:
        terminal = os.fdopen(os.dup(saved_fds[1]), "w", buffering=1, encoding="utf-8", errors="replace")
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        sys.stdout, sys.stderr = log, terminal
        root.addHandler(handler)
        logging.captureWarnings(True)
        yield log_path
    finally:
        logging.captureWarnings(False)
        root.removeHandler(handler)
        handler.close()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os.dup2(saved_fds[0], 1)
        os.dup2(saved_fds[1], 2)
        for fd in saved_fds:
            os.close(fd)
        if sys.stderr is not saved_streams[1]:
            sys.stderr.close()
        sys.stdout, sys.stderr = saved_streams
        log.close()


def progress(items: Iterable[T], desc: str, total: int | None = None, unit: str = "it") -> Iterator[T]:
    """One progress display for a stage: what it is, count/total, elapsed (tqdm on the terminal)."""
    from tqdm import tqdm

    yield from tqdm(items, desc=desc, total=total, unit=unit, file=sys.stderr, mininterval=1, leave=True,
                    bar_format="{desc}: {n_fmt}/{total_fmt} {unit} [{elapsed}]")


@contextlib.contextmanager
def stage(desc: str) -> Iterator[None]:
    """A stage without a count (e.g. drawing calibration data): one line when it starts and when it is done."""
    print(f"{desc} ...", file=sys.stderr, flush=True)
    start = time.monotonic()
    yield
    print(f"{desc}: done [{time.monotonic() - start:.0f} s]", file=sys.stderr, flush=True)
