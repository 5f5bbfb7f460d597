"""Runtime outputs on a few LFW faces, to compare two machines (x86_64 vs arm64) bit for bit.

Usage:
  python scripts/runtime_fingerprint.py dump OUT.npz --models models [--lfw DIR] [--crops CROPS.npz] [--images 20]
  python scripts/runtime_fingerprint.py compare A.npz B.npz
`dump` records, per variant in the models folder (fp32, int8): each image's detected boxes/landmarks and the
embeddings of a fixed set of aligned crops (from --crops, so both machines embed identical pixels; without it the
crops come from this machine's fp32 detection and are saved too). `compare` prints the largest differences (int8 also in
quantization steps of the output) and exits 1 unless int8 embeddings are identical and fp32 ones within 1e-5.
$EDGEFACE_KERNELS=xnnpack|builtin|reference picks LiteRT's kernels (runtime/interpreter.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

try:  # an installed edgeface (editable or not); else this checkout's sources
    import edgeface.runtime  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from edgeface import lfw  # noqa: E402
from edgeface.runtime.align import embedder_input  # noqa: E402
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
        raw = pipeline.embedder.model  # the output before L2 normalisation, in quantization steps for int8
        scale = raw.outputs["embedding"].get("quantization", (0.0, 0))[0] or 1.0
        out[f"{variant}_raw_steps"] = np.concatenate(
            [raw(x[None])["embedding"] for x in embedder_input(crops, pipeline.embedder.input_size)]) / scale
    out["crops"] = crops
    np.savez(args.out, **out)
    print(f"wrote {args.out}: {len(names)} images, {len(crops)} crops")


def compare(args) -> None:
    a, b = np.load(args.a), np.load(args.b)
    ok = True
    for variant in VARIANTS:
        emb = np.abs(a[f"{variant}_embeddings"] - b[f"{variant}_embeddings"]).max()
        steps = np.abs(a[f"{variant}_raw_steps"] - b[f"{variant}_raw_steps"])
        found_a, found_b = ~np.isnan(a[f"{variant}_faces"][:, 0]), ~np.isnan(b[f"{variant}_faces"][:, 0])
        both = found_a & found_b
        faces = np.abs(a[f"{variant}_faces"][both] - b[f"{variant}_faces"][both]).max(initial=0.0)
        limit = 0.0 if variant == "int8" else 1e-5
        passed = emb <= limit and np.array_equal(found_a, found_b)
        ok &= bool(passed)
        detail = (f"; raw output differs by up to {steps.max():.0f} quantization steps in {np.mean(steps > 0):.1%} of values"
                  if variant == "int8" else "")
        print(f"{variant}: max |embedding difference| {emb:.3g} (limit {limit:g}){detail}; faces found "
              f"{int(found_a.sum())} vs {int(found_b.sum())} of {len(found_a)}, max |box/landmark difference| "
              f"{faces:.3g} px -> {'OK' if passed else 'DIFFERENT'}")
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
