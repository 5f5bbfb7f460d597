"""Frame sources for the door lock: a camera, a video file, or a folder of images, each with timestamps.

Video files and image folders are timed by frame number (fps from the file, or --fps), so a replay gives the
same decisions every time; a camera is timed by the clock. A frame that cannot be read is reported as an
`ImageError` item in the stream rather than ending it, and a camera that stops answering ends the stream with
a clear message once it has failed `max_failures` reads in a row.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edgeface.runtime.images import ImageError, as_rgb, read_rgb
from edgeface.runtime.errors import UsageError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm"}


@dataclass
class Frame:
    index: int
    time: float  # seconds since the start of the source
    image: np.ndarray | None  # RGB uint8, None when unreadable
    label: str
    error: str | None = None


def image_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise ImageError(f"{folder}: not a folder of images")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def folder_frames(folder: Path, fps: float = 5.0) -> Iterator[Frame]:
    for index, path in enumerate(image_files(folder)):
        try:
            yield Frame(index, index / fps, read_rgb(path), str(path))
        except ImageError as error:
            yield Frame(index, index / fps, None, str(path), str(error))


def capture_frames(capture, label: str, live: bool, max_failures: int = 50) -> Iterator[Frame]:
    """Frames from an opened cv2.VideoCapture (camera or file)."""
    if not capture.isOpened():
        raise ImageError(f"{label}: cannot open (missing file, or no such camera)")
    fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
    fps = fps if 0 < fps < 1000 else 10.0
    expected = 0 if live else int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)  # the container's count, if any
    start, index, failures = time.monotonic(), 0, 0
    try:
        while True:
            ok, image = capture.read()
            if not ok or image is None:
                if not live:
                    if index < expected - 1:  # counts can be off by one; a corrupt file stops far earlier
                        raise ImageError(f"{label}: could not decode frame {index} of {expected} (corrupt video); "
                                         f"stopped after {index} frames")
                    return  # end of file
                failures += 1
                if failures >= max_failures:
                    raise ImageError(f"{label}: camera stopped delivering frames ({failures} failed reads in a row)")
                time.sleep(0.05)
                continue
            failures = 0
            stamp = time.monotonic() - start if live else index / fps
            try:
                yield Frame(index, stamp, as_rgb(image, f"{label} frame {index}", bgr=True), f"{label}#{index}")
            except ImageError as error:
                yield Frame(index, stamp, None, f"{label}#{index}", str(error))
            index += 1
    finally:
        capture.release()


def open_frames(camera: int | None = None, video: Path | None = None, images: Path | None = None,
                fps: float = 5.0) -> Iterator[Frame]:
    if not (0 < fps < float("inf")):
        raise UsageError(f"--fps must be a finite number > 0 (got {fps!r})")
    chosen = [x is not None for x in (camera, video, images)]
    if sum(chosen) != 1:
        raise UsageError("give exactly one of --camera N, --video FILE, --images DIR")
    if images is not None:
        return folder_frames(images, fps)
    if video is not None:
        if not video.is_file():
            raise ImageError(f"{video}: no such video file")
        return capture_frames(cv2.VideoCapture(str(video)), str(video), live=False)
    return capture_frames(cv2.VideoCapture(camera), f"camera {camera}", live=True)


def is_dead_frame(image: np.ndarray) -> bool:
    """A frame with (almost) no contrast: a covered lens or a camera sending black/flat frames."""
    return float(image[::8, ::8].std()) < 2.0
