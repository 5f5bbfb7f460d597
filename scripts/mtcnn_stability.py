"""How far the float MTCNN itself moves under changes nobody would see, next to how far the int8 cascade moves.

Usage: python scripts/mtcnn_stability.py [--models models] [--lfw DIR] [--images N] [--out reports/mtcnn_stability.json]

The int8 gate asks the quantized cascade to keep 99.5% of the float cascade's faces on the 7,701 LFW pair images.
This measures the same agreement (recall, faces added, box IoU, landmark error; `edgeface.agreement`) for the
float cascade against itself on (a) each image JPEG re-encoded at quality 95 and (b) each image moved by one
pixel, (c) the float nets' inputs rounded to the int8 input grid (what every int8-input export sees, however
well the rest is quantized), and for the models folder's int8 cascade on the original images, so the
quantization error can be read against the cascade's own sensitivity. All images by default; --images N takes a seeded sample.
With --accuracy (all images only), each run's picked faces also go through the float FaceNet and the 6,000-pair
protocol: how far the 10-fold accuracy moves when only the detector's view of the image changes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

try:  # an installed edgeface (editable or not); else this checkout's sources
    import edgeface.runtime  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from edgeface import lfw  # noqa: E402
from edgeface.agreement import (InputsRounded, detection_agreement, jpeg_reencoded,  # noqa: E402
                                shift_faces_back, shifted_one_pixel)
from edgeface.runtime.cascade import CascadeConfig, detect_faces  # noqa: E402
from edgeface.runtime.fileio import atomic_write_json, portable_path  # noqa: E402
from edgeface.runtime.images import read_rgb  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--variant", default="int8")
    parser.add_argument("--lfw", type=Path, default=None)
    parser.add_argument("--images", type=int, default=0, help="seeded sample of pair images (0: all 7,701)")
    parser.add_argument("--out", type=Path, default=Path("reports/mtcnn_stability.json"))
    parser.add_argument("--accuracy", action="store_true",
                        help="also the LFW 6,000-pair accuracy (float FaceNet, flip) of each run's faces")
    args = parser.parse_args()
    if args.accuracy and args.images:
        parser.error("--accuracy needs every pair image (no --images)")

    from tqdm import tqdm

    from edgeface.models.mtcnn import KerasMtcnnNets
    from edgeface.runtime.manifest import load_manifest
    from edgeface.runtime.tflite_mtcnn import TfliteMtcnnNets

    root = lfw.locate_lfw(args.lfw)
    names = lfw.pair_images(lfw.parse_pairs(root / "pairs.txt"))
    if 0 < args.images < len(names):
        rng = np.random.default_rng(1)
        names = [names[i] for i in sorted(rng.choice(len(names), args.images, replace=False))]
    manifest = load_manifest(args.models)
    config = CascadeConfig(min_face_size=manifest.camera.get("min_face_size", 20.0))
    float_nets = KerasMtcnnNets()
    quantized = TfliteMtcnnNets(args.models, args.variant, manifest)
    rounded_inputs = InputsRounded(float_nets)
    runs = {  # label -> the faces that run finds on an image, in the image's own coordinates
        "float": lambda image: detect_faces(image, float_nets, config),
        "float, JPEG re-encoded (quality 95)": lambda image: detect_faces(jpeg_reencoded(image), float_nets, config),
        "float, image moved by 1 pixel":
            lambda image: shift_faces_back(detect_faces(shifted_one_pixel(image), float_nets, config)),
        "float, inputs rounded to int8 steps": lambda image: detect_faces(image, rounded_inputs, config),
        f"{args.variant} (models folder)": lambda image: detect_faces(image, quantized, config),
    }
    found: dict[str, list] = {label: [] for label in runs}
    shapes = []
    start = time.time()
    for name in tqdm(names, desc="detect", mininterval=10):
        image = read_rgb(root / lfw.IMAGES_SUBDIR / name)
        shapes.append(image.shape)
        for label, run in runs.items():
            found[label].append(run(image))
    accuracy = pair_accuracy(root, names, found, shapes) if args.accuracy else None
    reference = found.pop("float")
    report = {
        "lfw_root": portable_path(root), "models_dir": portable_path(args.models), "images": len(names),
        "reference": "float MTCNN on the original images",
        "agreement_with_reference": {key: detection_agreement(reference, faces) for key, faces in found.items()},
        "seconds": round(time.time() - start, 1),
    }
    if accuracy:
        report["lfw_pairs_float_facenet"] = accuracy
    atomic_write_json(args.out, report)
    for key, result in report["agreement_with_reference"].items():
        print(f"{key:40s} recall {100 * result['recall']:.2f}% ({result['faces_kept']}/{result['reference_faces']}), "
              f"added {result['faces_added']}, IoU {result['mean_box_iou']:.3f}, "
              f"landmarks {result['mean_landmark_error_px']:.2f} px")
    for key, result in (accuracy or {}).items():
        print(f"{key:40s} LFW {result['pairs_right']} of 6,000 pairs ({100 * result['accuracy_mean']:.2f}%), "
              f"AUC {result['auc']:.5f}")
    return 0


def pair_accuracy(root: Path, names: list[str], found: dict[str, list], shapes: list) -> dict:
    """The 10-fold LFW accuracy, VAL and AUC of the float FaceNet (flip) on the face each run picks per image."""
    from edgeface.evaluate import embed_detected, verify
    from edgeface.models.facenet import FloatFaceNet
    from edgeface.runtime.cascade import pick_face

    pairs = lfw.parse_pairs(root / "pairs.txt")
    embedder = FloatFaceNet()
    result = {}
    for label, faces in found.items():
        picked = [pick_face(f, shape) for f, shape in zip(faces, shapes)]
        summary = verify(pairs, embed_detected(root, names, picked, embedder, True, progress=False), True).summary()
        result[label] = {"pairs_right": int(round(summary["accuracy_mean"] * len(pairs))),
                         **{k: summary[k] for k in ("accuracy_mean", "val", "auc", "eer")}}
    return result


if __name__ == "__main__":
    sys.exit(main())
