"""Folders of face photos → embeddings, shared by export-embeddings, cluster and identify.

A labelled folder is facenet's layout, `Person/image.jpg`; an unlabelled folder is any tree of images.
Each image contributes its most central face (`faces="central"`, facenet's convention) or every face it has
(`faces="all"`); an image with no usable face is reported with the reason, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeface.runtime.cascade import Face, pick_face
from edgeface.runtime.frames import image_files
from edgeface.runtime.images import ImageError, read_rgb
from edgeface.runtime.pipeline import FacePipeline
from edgeface.runtime.errors import UsageError


@dataclass
class EmbeddedFace:
    path: Path
    face_index: int  # rank of the face in the image (0 = the chosen/central one with faces="central")
    face: Face
    vector: np.ndarray
    crop: np.ndarray  # the aligned face, for writing cluster folders


def labelled_images(folder: Path) -> list[tuple[Path, str]]:
    """(image, person) for every image in Person/ sub-folders, sorted."""
    if not folder.is_dir():
        raise ImageError(f"{folder}: not a folder")
    pairs = [(path, person.name) for person in sorted(p for p in folder.iterdir() if p.is_dir())
             for path in image_files(person)]
    if not pairs:
        raise ImageError(f"{folder}: no Person/image files in it")
    return pairs


def embed_image(path: Path, pipeline: FacePipeline, faces: str = "central") -> list[EmbeddedFace]:
    """The image's face(s) with embeddings; raises ImageError when it is unreadable or has no face."""
    image = read_rgb(path)
    found = pipeline.detect(image)
    if faces == "central":
        chosen = pick_face(found, image.shape)
        found = [chosen] if chosen is not None else []
    elif faces != "all":
        raise UsageError(f"faces must be 'central' or 'all', not {faces!r}")
    if not found:
        raise ImageError(f"{path}: no face found")
    crops = pipeline.crops(image, found)
    vectors = pipeline.embed_crops(crops)
    return [EmbeddedFace(path, k, face, vectors[k], crops[k]) for k, face in enumerate(found)]


def embed_images(paths: list[Path], pipeline: FacePipeline, faces: str = "central",
                 progress: bool = True) -> Iterator[tuple[Path, list[EmbeddedFace], str | None]]:
    """(path, faces, error) per image, with a progress bar."""
    from tqdm import tqdm

    for path in tqdm(paths, desc="embed", unit="img", disable=not progress, mininterval=2):
        try:
            yield path, embed_image(path, pipeline, faces), None
        except ImageError as error:
            yield path, [], str(error)
