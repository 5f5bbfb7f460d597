"""All-vs-all verification on a labelled set (BLUFR-style on LFW): every genuine and every impostor pair.

Why: the 6,000 LFW pairs hold 3,000 impostor pairs, so they cannot measure a false-accept rate under about
1e-3, and a door runs at 1e-4 to 1e-5. All 13,233 LFW images give about 242,000 genuine and 87 million impostor
pairs. Genuine distances are kept exactly; impostor distances are counted in bins of `BIN` (a threshold is then
exact to 1e-4 in distance and never lets in more impostor pairs than its FAR says). An image without a face
keeps its pairs: they count as genuine pairs rejected and impostor pairs never accepted (as in `edgeface eval`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

BIN = 1e-4  # Euclidean distance resolution of the impostor histogram (unit vectors: distances in [0, 2])
BINS = int(round(2.0 / BIN)) + 1
FAR_TARGETS = (1e-3, 1e-4, 1e-5, 1e-6)


@dataclass
class AllPairs:
    genuine: np.ndarray  # sorted Euclidean distances of every same-person pair (inf: an image without a face)
    impostor_counts: np.ndarray  # (BINS,) impostor pairs per distance bin [b*BIN, (b+1)*BIN)
    impostor_pairs: int  # every different-person pair, those with a faceless image included
    images: int
    images_without_face: int
    people: int

    def far_at(self, threshold: float) -> float:
        """Impostor pairs with distance < threshold (threshold on the bin grid), as a fraction."""
        return float(self.impostor_counts[: int(round(threshold / BIN))].sum() / self.impostor_pairs)

    def tar_at(self, threshold: float) -> float:
        if len(self.genuine) == 0:
            return float("nan")
        return float(np.searchsorted(self.genuine, threshold, side="left") / len(self.genuine))

    def threshold_at_far(self, far: float) -> float:
        """The largest threshold (bin edge) at which at most `far` of the impostor pairs are accepted."""
        allowed = far * self.impostor_pairs
        accepted = np.concatenate([[0], np.cumsum(self.impostor_counts)])  # accepted[b]: pairs under b * BIN
        return float((np.searchsorted(accepted, allowed, side="right") - 1) * BIN)

    def report(self, far_targets=FAR_TARGETS) -> dict:
        rows = {}
        for far in far_targets:
            threshold = self.threshold_at_far(far)
            rows[f"{far:g}"] = {"threshold": round(threshold, 4), "tar": self.tar_at(threshold),
                                "far": self.far_at(threshold),
                                "impostor_pairs_accepted": int(round(self.far_at(threshold) * self.impostor_pairs))}
        return {"images": self.images, "images_without_face": self.images_without_face, "people": self.people,
                "genuine_pairs": len(self.genuine), "impostor_pairs": self.impostor_pairs, "at_far": rows}

    def curve(self, thresholds: np.ndarray) -> dict:
        """FAR and TAR per pair at each threshold: the curve the lock's operating point is chosen from."""
        return {"threshold": [round(float(t), 4) for t in thresholds],
                "far": [self.far_at(t) for t in thresholds], "tar": [self.tar_at(t) for t in thresholds]}


def all_pairs(embeddings: np.ndarray, labels: np.ndarray, faceless_labels: np.ndarray | None = None,
              block: int = 1024) -> AllPairs:
    """Every pair of the embedded images (unit rows of `embeddings`, person ids in `labels`), plus images of
    `faceless_labels` people in which no face was found."""
    embeddings = np.asarray(embeddings, np.float32)
    labels = np.asarray(labels)
    faceless = np.asarray([] if faceless_labels is None else faceless_labels, labels.dtype)
    count = len(embeddings)
    counts = np.zeros(BINS, np.int64)
    genuine = []
    for start in range(0, count, block):
        rows = embeddings[start : start + block]
        cosine = rows @ embeddings[start:].T  # only pairs (i, j) with j > i: columns from `start` on
        distance = np.sqrt(np.clip(2.0 - 2.0 * cosine, 0.0, 4.0))
        upper = np.arange(start, count)[None, :] > np.arange(start, start + len(rows))[:, None]
        same = labels[start : start + len(rows), None] == labels[None, start:]
        genuine.append(distance[upper & same])
        impostor = distance[upper & ~same]
        counts += np.bincount(np.minimum((impostor / BIN).astype(np.int64), BINS - 1), minlength=BINS)
    all_labels = np.concatenate([labels, faceless])
    _, per_person = np.unique(all_labels, return_counts=True)
    genuine_total = int(np.sum(per_person * (per_person - 1) // 2))
    genuine = np.concatenate(genuine) if genuine else np.zeros(0, np.float32)
    genuine = np.sort(np.concatenate([genuine, np.full(genuine_total - len(genuine), np.inf, np.float32)]))
    total = len(all_labels) * (len(all_labels) - 1) // 2
    return AllPairs(genuine=genuine, impostor_counts=counts, impostor_pairs=total - genuine_total,
                    images=len(all_labels), images_without_face=len(faceless), people=len(per_person))


def from_export(path: str | Path) -> AllPairs:
    """All pairs of an `edgeface export-embeddings` file (its `no_face` images keep their pairs)."""
    with np.load(path, allow_pickle=False) as data:
        names = [str(s) for s in data["label_strings"]]
        faceless = [Path(str(p)).parent.name for p in data["no_face"]] if "no_face" in data.files else []
        index = {name: i for i, name in enumerate(names)}  # label_strings lists every person of the folder
        return all_pairs(data["embeddings"], data["labels"], np.asarray([index[n] for n in faceless], np.int64))
