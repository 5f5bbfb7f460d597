"""How closely a converted detector or embedder follows the float reference, face by face."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from edgeface.runtime.cascade import CascadeConfig, Face, detect_faces
from edgeface.runtime.geometry import iou


SAME_FACE_IOU = 0.5  # two boxes this much overlapped are the same face
CLEAR_FACE = (0.9, 40.0)  # float score and box width (px) of a face any door camera must keep finding


def match_faces(reference: list[Face], candidate: list[Face],
                min_iou: float = SAME_FACE_IOU) -> list[tuple[Face, Face | None]]:
    """Each reference face with the candidate face that overlaps it most (None below `min_iou`)."""
    pairs = []
    for ref in reference:
        best, best_iou = None, min_iou
        for cand in candidate:
            overlap = iou(ref.box, cand.box)
            if overlap >= best_iou:
                best, best_iou = cand, overlap
        pairs.append((ref, best))
    return pairs


def detection_agreement(reference: Iterable[list[Face]], candidate: Iterable[list[Face]],
                        reference_used: Iterable[Face | None] | None = None,
                        candidate_used: Iterable[Face | None] | None = None) -> dict:
    """Over images: recall of the reference's faces, mean box IoU and landmark error (px) of matched faces, and how
    many candidate faces match no reference face (`faces_added`: what recall alone would not show).

    With the face each pipeline goes on to embed per image (`pick_face`), also how often the candidate pipeline
    embeds the same face (IoU >= SAME_FACE_IOU) as the reference: recall over every face counts background faces at the
    border as much as the subject, while this is what a pair or a door visit depends on."""
    report = _face_agreement(reference, candidate)
    if reference_used is not None and candidate_used is not None:
        report.update(same_face_used(reference_used, candidate_used))
    return report


def same_face_used(reference_used: Iterable[Face | None], candidate_used: Iterable[Face | None]) -> dict:
    """Of the images where the reference pipeline embeds a face, how many the candidate embeds the same face in."""
    with_face = same = 0
    for ref, cand in zip(reference_used, candidate_used, strict=True):
        if ref is None:
            continue
        with_face += 1
        same += cand is not None and iou(ref.box, cand.box) >= SAME_FACE_IOU
    return {"images_with_reference_face": with_face, "same_face_used": same,
            "same_face_used_rate": same / with_face if with_face else 1.0}


def _face_agreement(reference: Iterable[list[Face]], candidate: Iterable[list[Face]]) -> dict:
    """`clear_face_recall`: recall of the reference faces scored >= CLEAR_FACE[0] and >= CLEAR_FACE[1] px wide: the
    marginal faces (scores near a stage threshold, tiny boxes) are where any rounding flips a decision, so the
    gate on the faces a door depends on is stated over these."""
    kept = total = count = added = found = clear = clear_kept = 0
    ious, landmark_errors = [], []
    for ref_faces, cand_faces in zip(reference, candidate):
        count += 1
        found += len(cand_faces)
        added += sum(1 for _, ref in match_faces(cand_faces, ref_faces) if ref is None)
        for ref, cand in match_faces(ref_faces, cand_faces):
            total += 1
            is_clear = ref.score >= CLEAR_FACE[0] and ref.width >= CLEAR_FACE[1]
            clear += is_clear
            clear_kept += is_clear and cand is not None
            if cand is not None:
                kept += 1
                ious.append(iou(ref.box, cand.box))
                landmark_errors.append(float(np.mean(np.linalg.norm(ref.landmarks - cand.landmarks, axis=1))))
    return {
        "images": count,
        "reference_faces": total,
        "faces_kept": kept,
        "recall": kept / total if total else 1.0,
        "clear_faces": clear,
        "clear_face_recall": clear_kept / clear if clear else 1.0,
        "candidate_faces": found,
        "faces_added": added,
        "mean_box_iou": float(np.mean(ious)) if ious else 0.0,
        "mean_landmark_error_px": float(np.mean(landmark_errors)) if landmark_errors else 0.0,
    }


def detector_agreement(images: Iterable[np.ndarray], reference_nets, candidate_nets, config: CascadeConfig) -> dict:
    """`detection_agreement` of two sets of networks run on the same images."""
    pairs = ((detect_faces(im, reference_nets, config), detect_faces(im, candidate_nets, config)) for im in images)
    reference, candidate = [], []
    for ref, cand in pairs:
        reference.append(ref)
        candidate.append(cand)
    return detection_agreement(reference, candidate)


def jpeg_reencoded(image: np.ndarray, quality: int = 95) -> np.ndarray:
    """The RGB image after one more JPEG encode/decode: a change no viewer would notice."""
    import cv2

    ok, encoded = cv2.imencode(".jpg", np.ascontiguousarray(image[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return np.ascontiguousarray(cv2.imdecode(encoded, cv2.IMREAD_COLOR)[..., ::-1])


def shifted_one_pixel(image: np.ndarray) -> np.ndarray:
    """The image moved one pixel right and down (edge pixels repeated): a camera nudged by one pixel."""
    return np.ascontiguousarray(np.pad(image, ((1, 0), (1, 0), (0, 0)), mode="edge")[:-1, :-1])


def shift_faces_back(faces: list[Face], pixels: float = 1.0) -> list[Face]:
    """Faces found on `shifted_one_pixel(image)` in the original image's coordinates."""
    return [Face(box=f.box - pixels, score=f.score, landmarks=f.landmarks - pixels) for f in faces]


class InputsRounded:
    """MTCNN nets whose every input is first rounded to the int8 input grid of the exports (steps of 1/128 on
    the (x - 127.5) / 128 scale): what any full-integer export sees even if nothing else in it were rounded."""

    def __init__(self, nets, step: float = 1 / 128) -> None:
        self.nets, self.step = nets, step

    def _round(self, x: np.ndarray) -> np.ndarray:
        return (np.round(np.asarray(x, np.float32) / self.step) * self.step).astype(np.float32)

    def pnet(self, image: np.ndarray):
        return self.nets.pnet(self._round(image))

    def rnet(self, crops: np.ndarray):
        return self.nets.rnet(self._round(crops))

    def onet(self, crops: np.ndarray):
        return self.nets.onet(self._round(crops))


def embedding_agreement(reference: np.ndarray, candidate: np.ndarray) -> dict:
    """Cosine similarity between the reference's and the candidate's embeddings of the same faces (rows paired;
    rows either side has no face for, NaN, are left out). Unlike an accuracy drop on 6,000 pairs, which moves by
    a few pairs between two int8 exports of the same weights as thresholds shift, this sees every face: a
    regression in quantization or alignment shows in the mean and the worst percentile."""
    cosine = np.sum(reference * candidate, axis=1) / (
        np.linalg.norm(reference, axis=1) * np.linalg.norm(candidate, axis=1))
    cosine = cosine[~np.isnan(cosine)]
    return {"faces": int(len(cosine)), "mean_cosine": float(np.mean(cosine)), "min_cosine": float(np.min(cosine)),
            "percentile_1_cosine": float(np.percentile(cosine, 1)), "faces_below_0_9": int(np.sum(cosine < 0.9))}
