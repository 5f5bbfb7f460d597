"""`edgeface export-embeddings DIR OUT.npz`: facenet's export_embeddings, without pickles, resumable.

OUT.npz holds `embeddings` (N, 128) float32, `labels` (N,) int32 indexes into `label_strings`, and
`image_paths` (N,) relative to DIR; `no_face` lists the images that gave no embedding, `no_face_reasons` why.
Progress is saved every `save_every` images to OUT.partial.npz, and a re-run continues from it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgeface.facesets import embed_images, labelled_images
from edgeface.runtime.fileio import atomic_save_npz
from edgeface.runtime.pipeline import FacePipeline


def partial_path(out: Path) -> Path:
    return out.with_name(out.name.removesuffix(".npz") + ".partial.npz")


def save_export(target: Path, vectors: np.ndarray, paths: list[str], labels: list[int], people: list[str],
                no_face: list[str], reasons: list[str]) -> None:
    """Write OUT.npz in the layout above (atomically): what eval-allpairs, lock calibrate and cluster read."""
    atomic_save_npz(target, embeddings=vectors, labels=np.array(labels, np.int32),
                    label_strings=np.array(people, dtype=str), image_paths=np.array(paths, dtype=str),
                    no_face=np.array(no_face, dtype=str), no_face_reasons=np.array(reasons, dtype=str))


def export_embeddings(folder: Path, out: Path, pipeline: FacePipeline, save_every: int = 200,
                      progress: bool = True) -> dict:
    images = labelled_images(folder)
    people = sorted({person for _, person in images})
    state = {"paths": [], "vectors": [], "no_face": [], "reasons": []}
    partial = partial_path(out)
    if partial.is_file():
        with np.load(partial, allow_pickle=False) as data:
            state = {"paths": list(data["image_paths"]), "vectors": list(data["embeddings"]),
                     "no_face": list(data["no_face"]), "reasons": list(data["no_face_reasons"])}
    done = set(state["paths"]) | set(state["no_face"])
    label_of = {str(p.relative_to(folder)): people.index(person) for p, person in images}
    todo = [path for path, _ in images if str(path.relative_to(folder)) not in done]

    def save(target: Path) -> None:
        save_export(target, np.asarray(state["vectors"], np.float32).reshape(-1, pipeline.embedder.dim),
                    state["paths"], [label_of[p] for p in state["paths"]], people, state["no_face"], state["reasons"])

    for count, (path, faces, error) in enumerate(embed_images(todo, pipeline, "central", progress), 1):
        relative = str(path.relative_to(folder))
        if error:
            state["no_face"].append(relative)
            state["reasons"].append(error)
        else:
            state["paths"].append(relative)
            state["vectors"].append(faces[0].vector)
        if count % save_every == 0:
            save(partial)
    save(out)
    partial.unlink(missing_ok=True)
    return {"images": len(images), "embedded": len(state["paths"]), "no_face": len(state["no_face"]),
            "people": len(people), "resumed_from": len(done)}
