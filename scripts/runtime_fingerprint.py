"""Runtime outputs on a few LFW faces, to compare two machines (x86_64 vs arm64) bit for bit.

Usage:
  python scripts/runtime_fingerprint.py dump OUT.npz --models models [--lfw DIR] [--crops CROPS.npz] [--images 20]
  python scripts/runtime_fingerprint.py compare A.npz B.npz
`dump` records, per variant in the models folder (fp32, int8): each image's detected boxes/landmarks and the
embeddings of a fixed set of aligned crops (from --crops, so both machines embed identical pixels; without it the
crops come from this machine's fp32 detection and are saved too). `compare` prints the largest differences and
exits 1 unless int8 embeddings are identical and fp32 ones within 1e-5.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from edgeface import lfw  # noqa: E402
from edgeface.runtime.cascade import pick_face  # noqa: E402
from edgeface.runtime.images import read_rgb  # noqa: E402
from edgeface.runtime.pipeline import open_runtime  # noqa: E402

VARIANTS = ("fp32", "int8")


def dump(args) -> None:
    root = lfw.locate_lfw(args.lfw)
    names = lfw.pair_images(lfw.parse_pairs(root / "pairs.txt"))[:: 7701 // args.images][: args.images]
    images = [read_rgb(root / lfw.IMAGES_SUBDIR / n) for n in names]
    out: dict[str, np.ndarray] = {"names": np.array(names)}
    crops = None
    if args.crops:
        with np.load(args.crops) as data:
            crops = data["crops"]
    for variant in VARIANTS:
        pipeline = open_runtime(args.models, variant, num_threads=1, use_edgetpu=False)
        boxes = []
        chosen = []
        for image in images:
            faces = pipeline.detect(image)
            face = pick_face(faces, image.shape)
            chosen.append(face)
            boxes.append(np.concatenate([face.box, face.landmarks.ravel()]) if face else np.full(14, np.nan))
        out[f"{variant}_faces"] = np.stack(boxes)
        if crops is None and variant == "fp32":
            crops = np.stack([pipeline.embedder.align(img, f) for img, f in zip(images, chosen) if f is not None])
        out[f"{variant}_embeddings"] = pipeline.embedder.embed(crops)
    out["crops"] = crops
    np.savez(args.out, **out)
    print(f"wrote {args.out}: {len(names)} images, {len(crops)} crops")


def compare(args) -> None:
    a, b = np.load(args.a), np.load(args.b)
    ok = True
    for variant in VARIANTS:
        emb = np.abs(a[f"{variant}_embeddings"] - b[f"{variant}_embeddings"]).max()
        faces = np.nanmax(np.abs(a[f"{variant}_faces"] - b[f"{variant}_faces"]))
        limit = 0.0 if variant == "int8" else 1e-5
        passed = emb <= limit
        ok &= bool(passed)
        print(f"{variant}: max |embedding difference| {emb:.3g} (limit {limit:g}) {'OK' if passed else 'FAIL'}; "
              f"max |box/landmark difference| {faces:.3g} px")
    sys.exit(0 if ok else 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--models", type=Path, default=Path("models"))
    d.add_argument("--lfw", default=None)
    d.add_argument("--crops", type=Path, default=None)
    d.add_argument("--images", type=int, default=20)
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = parser.parse_args()
    dump(args) if args.command == "dump" else compare(args)


if __name__ == "__main__":
    main()
