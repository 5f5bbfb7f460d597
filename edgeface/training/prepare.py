"""Align a public face set with our own MTCNN into one compact cache of 112x112 crops.

Training crops must look like what the runtime feeds the embedder, so they go through the very detector and
5-point alignment the runtime uses. Tight crops (UTKFace, CelebA) get a mirrored border first: MTCNN needs
context around a face, and mirroring (unlike a black border) leaves no black corners in the aligned crop.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from edgeface.runtime.align import ALIGN_SIZE
from edgeface.runtime.fileio import atomic_save_npz
from edgeface.runtime.frames import image_files
from edgeface.runtime.images import ImageError, read_rgb



@dataclass(frozen=True)
class PrepareConfig:
    border: float = 0.3  # mirrored border, as a fraction of the image side, added before detection
    template: int = ALIGN_SIZE
    # The runtime's 20 px by default. Face sets whose faces are all large (80+ px) can start the pyramid higher:
    # 40 px aligns in a little over half the time and shifts crops by sub-pixel landmark differences (docs/TRAINING.md).
    min_face_size: float = 20.0


def read_identities(csv_path: Path | None) -> dict[str, int]:
    """file name -> identity from a `file,identity` CSV (the shared CelebA label files)."""
    if csv_path is None:
        return {}
    with open(csv_path, newline="") as handle:
        rows = csv.reader(handle)
        next(rows)
        return {name: int(identity) for name, identity in rows}


def align_for_training(image: np.ndarray, detector, config: PrepareConfig) -> np.ndarray | None:
    """Mirror-pad, detect the most central face, and 5-point align it; None when no face is found."""
    from edgeface.runtime.align import align_five_points
    from edgeface.runtime.cascade import detect_one

    pad = int(round(config.border * max(image.shape[:2])))
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT_101) if pad else image
    face = detect_one(detector, padded, "central")
    if face is None:
        return None
    return align_five_points(padded, face.landmarks, config.template)


def prepare_set(images_dir: Path, out_path: Path, identities_csv: Path | None = None,
                shard: tuple[int, int] = (0, 1), config: PrepareConfig = PrepareConfig(), progress: bool = True) -> dict:
    """Align every image of `images_dir` (this shard of it) into `out_path` (.npz); returns counts."""
    from tqdm import tqdm

    from edgeface.detector import FloatDetector
    from edgeface.runtime.cascade import CascadeConfig

    identities = read_identities(identities_csv)
    files = image_files(images_dir)[shard[0] :: shard[1]]
    detector = FloatDetector(CascadeConfig(min_face_size=config.min_face_size))
    crops, labels, names, failed = [], [], [], []
    for path in tqdm(files, desc=f"align {images_dir.name} {shard[0]}/{shard[1]}", disable=not progress, mininterval=5):
        try:
            crop = align_for_training(read_rgb(path), detector, config)
        except ImageError:
            crop = None
        if crop is None:
            failed.append(str(path.relative_to(images_dir)))
            continue
        crops.append(crop)
        labels.append(identities.get(path.name, -1))
        names.append(str(path.relative_to(images_dir)))
    atomic_save_npz(
        out_path,
        images=np.stack(crops) if crops else np.zeros((0, config.template, config.template, 3), np.uint8),
        identity=np.asarray(labels, np.int64),
        files=np.asarray(names, dtype=str),
        failed=np.asarray(failed, dtype=str),
    )
    return {"images": len(files), "aligned": len(crops), "failed": len(failed)}


def merge_shards(paths: list[Path], out_path: Path) -> dict:
    parts = [np.load(p, allow_pickle=False) for p in paths]
    merged = {key: np.concatenate([part[key] for part in parts]) for key in ("images", "identity", "files", "failed")}
    atomic_save_npz(out_path, **merged)
    return {"aligned": int(len(merged["images"])), "failed": int(len(merged["failed"]))}


def prepare_in_processes(images_dir: Path, out_path: Path, identities_csv: Path | None = None, jobs: int = 2,
                         config: PrepareConfig = PrepareConfig()) -> dict:
    """`prepare_set` in `jobs` worker processes (one shard each, resumable: a finished shard is kept), merged.

    Processes rather than threads: MTCNN in TensorFlow holds one core per process on this kind of machine."""
    import subprocess
    import sys

    from edgeface.runtime.errors import EdgefaceError

    shards = [out_path.with_name(f"{out_path.stem}.part{i}.npz") for i in range(jobs)]
    todo = [i for i, shard in enumerate(shards) if not shard.is_file()]
    workers = [subprocess.Popen([sys.executable, "-m", "edgeface.training.prepare", str(images_dir), str(shards[i]),
                                 str(identities_csv) if identities_csv else "-", str(i), str(jobs),
                                 json.dumps(asdict(config))]) for i in todo]
    if any(worker.wait() for worker in workers):
        raise EdgefaceError("alignment failed in a worker (see its output above); re-run to resume")
    counts = merge_shards(shards, out_path)
    for shard in shards:
        shard.unlink()
    return counts


if __name__ == "__main__":  # python -m edgeface.training.prepare IMAGES OUT.npz [CSV] [SHARD NSHARDS] [CONFIG_JSON]
    import sys

    args = sys.argv[1:]
    csv_arg = Path(args[2]) if len(args) > 2 and args[2] != "-" else None
    shard_arg = (int(args[3]), int(args[4])) if len(args) > 4 else (0, 1)
    config_arg = PrepareConfig(**json.loads(args[5])) if len(args) > 5 else PrepareConfig()
    print(prepare_set(Path(args[0]), Path(args[1]), csv_arg, shard_arg, config_arg), flush=True)
    os._exit(0)
