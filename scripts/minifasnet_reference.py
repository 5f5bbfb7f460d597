"""Reference outputs of the original MiniFASNet (PyTorch), to check the Keras/TFLite port against.

Run once by a maintainer, in an environment with `torch` and `opencv-python-headless` (not edgeface's), next to
a snapshot of minivision-ai/Silent-Face-Anti-Spoofing:

    python scripts/minifasnet_reference.py SILENT_FACE_DIR tests/data/minifasnet_torch_reference.npz

It builds the original `MiniFASNetV2` / `MiniFASNetV1SE` from the snapshot's own `src/model_lib/MiniFASNet.py`,
loads the two shipped .pth files with `torch.load`, and writes the logits of both nets on `synthetic_inputs()`
(seeded, so the test regenerates the inputs and only the logits are stored) and on the snapshot's sample images
cropped by the original pipeline (its RetinaFace detector and `CropImage`), with those crops, so the port is
also compared on real faces. `tests/test_liveness.py` compares edgeface's port with this file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

SEED = 20261201
COUNT = 24
FILES = {"v2_scale2.7": "2.7_80x80_MiniFASNetV2.pth", "v1se_scale4.0": "4_0_0_80x80_MiniFASNetV1SE.pth"}


def synthetic_inputs(count: int = COUNT, seed: int = SEED) -> np.ndarray:
    """BGR 0..255 80x80 inputs: half smooth random fields (face-like low frequencies), half pixel noise."""
    import cv2

    rng = np.random.default_rng(seed)
    images = []
    for i in range(count):
        if i % 2:
            images.append(rng.uniform(0, 255, (80, 80, 3)))
        else:
            coarse = rng.uniform(0, 255, (5, 5, 3)).astype(np.float32)
            images.append(cv2.resize(coarse, (80, 80), interpolation=cv2.INTER_CUBIC).clip(0, 255))
    return np.round(np.stack(images)).astype(np.float32)


def main(snapshot: Path, out: Path) -> None:
    import cv2
    import torch

    sys.path.insert(0, str(snapshot))
    from src.anti_spoof_predict import Detection  # the original detector (RetinaFace via cv2.dnn)
    from src.generate_patches import CropImage
    from src.model_lib.MiniFASNet import MiniFASNetV1SE, MiniFASNetV2

    import os
    os.chdir(snapshot)  # Detection() opens its model by a relative path
    detector, cropper = Detection(), CropImage()
    builders = {"v2_scale2.7": (MiniFASNetV2, 2.7), "v1se_scale4.0": (MiniFASNetV1SE, 4.0)}
    inputs = synthetic_inputs()
    samples = sorted((snapshot / "images" / "sample").glob("image_[FT][0-9].jpg"))
    result: dict[str, np.ndarray] = {"seed": np.array(SEED), "count": np.array(COUNT),
                                     "sample_names": np.array([p.name for p in samples])}
    boxes = [detector.get_bbox(cv2.imread(str(p))) for p in samples]
    result["sample_boxes"] = np.array(boxes, np.int64)
    for net, (builder, scale) in builders.items():
        model = builder(conv6_kernel=(5, 5))
        state = torch.load(snapshot / "resources" / "anti_spoof_models" / FILES[net], map_location="cpu",
                           weights_only=False)
        model.load_state_dict({k.removeprefix("module."): v for k, v in state.items()})
        model.eval()
        crops = np.stack([cropper.crop(cv2.imread(str(p)), box, scale, 80, 80, True)
                          for p, box in zip(samples, boxes)]).astype(np.float32)
        with torch.no_grad():
            for name, batch in (("synthetic", inputs), ("sample", crops)):
                tensor = torch.from_numpy(batch.transpose(0, 3, 1, 2).copy())
                result[f"{net}/{name}_logits"] = model(tensor).numpy()
        result[f"{net}/sample_crops"] = crops.astype(np.uint8)
    np.savez_compressed(out, **result)
    for net in builders:
        print(net, "sample live probability:",
              np.round(torch.softmax(torch.from_numpy(result[f"{net}/sample_logits"]), 1).numpy()[:, 1], 4))
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve())
