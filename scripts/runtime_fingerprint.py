"""Runtime outputs on a few LFW faces, to compare two machines (x86_64 vs arm64) bit for bit.

Usage:
  python scripts/runtime_fingerprint.py dump OUT.npz --models models [--lfw DIR] [--crops CROPS.npz] [--images 20]
  python scripts/runtime_fingerprint.py compare A.npz B.npz
`dump` records, per variant in the models folder (fp32, int8): each image's detected boxes/landmarks, the
embeddings of a fixed set of aligned crops, and the P/R/O-Net outputs for the inputs the cascade gave them on the
first image. Crops and net inputs come from --crops (an earlier dump), so both machines feed identical numbers; without
it they come from this machine and are saved too. `compare` prints the largest differences (int8 also in quantization
steps of the output) and exits 1 unless int8 embeddings are identical, int8 net outputs identical but for a one-step softmax
difference (see SOFTMAX_STEP), and fp32 ones within 1e-5.
Whole-cascade boxes are reported but not gated: the float pyramid resize (OpenCV) may round differently per CPU.
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
from edgeface.runtime.cascade import detect_faces, pick_face  # noqa: E402
from edgeface.runtime.images import read_rgb  # noqa: E402
from edgeface.runtime.pipeline import open_runtime  # noqa: E402

VARIANTS = ("fp32", "int8")
# LiteRT's optimised int8 softmax reads exp() from a table it fills with the platform's float exp(), so the face
# probability may differ by one output step (int8 softmax outputs have scale 1/256) between CPUs; every other int8
# output (offsets, landmarks: coarser scales; embeddings) must be identical. The reference kernels agree exactly.
# Folders converted since the exports put out face logits (no int8 softmax in the graph) have no such op; the
# allowance stays for folders converted before.
SOFTMAX_STEP = 1.0 / 256


class RecordingNets:
    """Passes P/R/O-Net calls through to the real nets and keeps every input, to replay on another machine."""

    def __init__(self, nets) -> None:
        self.nets = nets
        self.inputs: dict[str, np.ndarray] = {}

    def _keep(self, stage: str, value: np.ndarray) -> None:
        self.inputs[f"net_input_{stage}_{sum(k.startswith(f'net_input_{stage}_') for k in self.inputs)}"] = value

    def pnet(self, image):
        self._keep("pnet", image)
        return self.nets.pnet(image)

    def rnet(self, crops):
        self._keep("rnet", crops)
        return self.nets.rnet(crops)

    def onet(self, crops):
        self._keep("onet", crops)
        return self.nets.onet(crops)


def net_outputs(nets, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """Every output of every recorded net call, flattened into one vector (same order on both machines)."""
    parts = []
    for key in sorted(inputs):
        stage = key.split("_")[2]
        parts += [np.ravel(v) for v in getattr(nets, stage)(inputs[key])]
    return np.concatenate(parts).astype(np.float64)


def dump(args) -> None:
    root = lfw.locate_lfw(args.lfw)
    names = lfw.pair_images(lfw.parse_pairs(root / "pairs.txt"))[:: 7701 // args.images][: args.images]
    images = [read_rgb(root / lfw.IMAGES_SUBDIR / n) for n in names]
    out: dict[str, np.ndarray] = {"names": np.array(names)}
    crops = None
    net_inputs: dict[str, np.ndarray] = {}
    if args.crops:
        with np.load(args.crops) as data:
            crops = data["crops"]
            net_inputs = {k: data[k] for k in data.files if k.startswith("net_input_")}
    for variant in VARIANTS:
        pipeline = open_runtime(args.models, variant, num_threads=1, use_edgetpu=False)
        if not net_inputs:
            recorder = RecordingNets(pipeline.detector.nets)
            detect_faces(images[0], recorder, pipeline.detector.config)
            net_inputs = recorder.inputs
        out[f"{variant}_net_outputs"] = net_outputs(pipeline.detector.nets, net_inputs)
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
        scale = raw.output_scale("embedding") or 1.0
        out[f"{variant}_raw_steps"] = np.concatenate(
            [raw(x[None])["embedding"] for x in embedder_input(crops, pipeline.embedder.input_size)]) / scale
    out["crops"] = crops
    out.update(net_inputs)
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
        net_diff = np.abs(a[f"{variant}_net_outputs"] - b[f"{variant}_net_outputs"])
        nets = net_diff.max()
        limit = 0.0 if variant == "int8" else 1e-5
        net_limit = SOFTMAX_STEP if variant == "int8" else 1e-5
        passed = emb <= limit and nets <= net_limit and np.array_equal(found_a, found_b)
        ok &= bool(passed)
        detail = (f"; raw output differs by up to {steps.max():.0f} quantization steps in {np.mean(steps > 0):.1%} of values"
                  if variant == "int8" else "")
        print(f"{variant}: max |embedding difference| {emb:.3g} (limit {limit:g}){detail}; P/R/O-Net outputs on "
              f"identical inputs: {int((net_diff > 0).sum())} of {net_diff.size} values differ, max |difference| {nets:.3g} "
              f"(limit {net_limit:.3g}); faces found "
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
