"""The embedder's operating point: the LFW thresholds it was measured at, the door policy, and its model id.

A models folder records it in manifest.json (`edgeface convert` copies it from edgeface/weights/
operating_points.json); the float reference reads the shipped file directly. Both become this one type, and
the record's keys are spelled here only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edgeface.runtime.errors import UsageError

THRESHOLD_ACCURACY = "euclidean_threshold_accuracy"  # best 10-fold accuracy on the 6,000 LFW pairs
THRESHOLD_FAR_1E3 = "euclidean_threshold_far_1e-3"  # false accepts of LFW pairs at 1e-3
WEIGHTS_SHA256 = "weights_sha256"  # the float weights the thresholds belong to: the gallery's model id
DOOR_POLICY = "door_policy"  # the lock's threshold per security target and household size
MIRROR_FUSION = "mirror_fusion"  # true: a face's embedding is that of the face plus its mirror image (see below)


@dataclass(frozen=True)
class OperatingPoint:
    """Euclidean thresholds of unit embeddings; None where nothing was recorded (e.g. an ONNX import)."""

    threshold_accuracy: float | None = None
    threshold_far_1e3: float | None = None
    weights_id: str = ""  # which trained weights made the embeddings
    door_policy: dict = field(default_factory=dict)
    mirror_fusion: bool = False  # embed the face and its mirror image and add them: the thresholds assume it

    @property
    def model_id(self) -> str:
        """What a gallery's embeddings must have been made by: the weights, and whether mirror images were fused
        (fused and single embeddings of one face differ, and the thresholds were measured for one kind)."""
        return f"{self.weights_id}+mirror" if self.mirror_fusion and self.weights_id else self.weights_id

    @classmethod
    def from_record(cls, record: dict, weights_id: str = "") -> "OperatingPoint":
        """From a manifest's or operating_points.json's record; `weights_id` where it names no weights."""

        def number(key: str) -> float | None:
            return float(record[key]) if record.get(key) is not None else None

        return cls(threshold_accuracy=number(THRESHOLD_ACCURACY), threshold_far_1e3=number(THRESHOLD_FAR_1E3),
                   weights_id=str(record.get(WEIGHTS_SHA256) or weights_id),
                   door_policy=dict(record.get(DOOR_POLICY, {})), mirror_fusion=record.get(MIRROR_FUSION) is True)

    def threshold(self, given: float | None = None, strict: bool = False) -> float:
        """`given`, else the recorded one: FAR = 1e-3 when `strict` (best accuracy where that is missing), best
        accuracy otherwise. An explicit 0.0 is a value (the lock refuses it), not "not given"."""
        if given is not None:
            return float(given)
        chosen = self.threshold_accuracy
        if strict and self.threshold_far_1e3 is not None:
            chosen = self.threshold_far_1e3
        if chosen is None:
            raise UsageError("no LFW operating point is recorded for this embedder (an ONNX import, or dlib): "
                             "measure one with `edgeface eval` and pass --threshold")
        return chosen
