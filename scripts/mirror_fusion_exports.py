"""Embeddings of a Person/ folder (LFW) twice from one detection pass: of the face alone, as `export-embeddings`
writes them today, and mirror-fused (the face plus its mirror image, what an operating point with
`mirror_fusion` makes the pipeline do). `edgeface eval-allpairs` and `edgeface lock calibrate` then compare the two
on exactly the same faces.

    python scripts/mirror_fusion_exports.py LFW/lfw-deepfunneled SINGLE.npz FUSED.npz --models DIR [--threads 2]

Both files have export-embeddings' layout (embeddings, labels, label_strings, image_paths, no_face(_reasons)).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("single", type=Path)
    parser.add_argument("fused", type=Path)
    parser.add_argument("--models", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    from edgeface.export_embeddings import save_export
    from edgeface.facesets import embed_images, labelled_images
    from edgeface.pipelines import open_pipeline
    from edgeface.runtime.embedder import fuse_mirror, mirror_images

    pipeline = open_pipeline(args.models, num_threads=args.threads)
    pipeline = replace(pipeline, operating_point=replace(pipeline.operating_point, mirror_fusion=False))
    images = labelled_images(args.folder)
    people = sorted({person for _, person in images})
    label_of = {path: people.index(person) for path, person in images}
    paths, single, fused, no_face, reasons = [], [], [], [], []
    for path, faces, error in embed_images([p for p, _ in images], pipeline, "central"):
        relative = str(path.relative_to(args.folder))
        if error:
            no_face.append(relative)
            reasons.append(error)
            continue
        mirror = pipeline.embedder.embed(mirror_images(faces[0].crop[None]))
        paths.append(relative)
        single.append(faces[0].vector)
        fused.append(fuse_mirror(faces[0].vector[None], mirror)[0])
    labels = [label_of[args.folder / p] for p in paths]
    for target, vectors in ((args.single, single), (args.fused, fused)):
        save_export(target, np.asarray(vectors, np.float32).reshape(-1, pipeline.embedder.dim), paths, labels, people,
                    no_face, reasons)
    print(json.dumps({"images": len(images), "embedded": len(paths), "no_face": len(no_face),
                      "models": str(args.models), "variant": pipeline.description.get("variant")}))


if __name__ == "__main__":
    main()
