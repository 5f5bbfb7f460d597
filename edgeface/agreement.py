"""How closely a converted detector or embedder follows the float reference, face by face."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from edgeface.runtime.cascade import CascadeConfig, Face, detect_faces, pick_face
from edgeface.runtime.geometry import iou


def match_faces(reference: list[Face], candidate: list[Face], min_iou: float = 0.5) -> list[tuple[Face, Face | None]]:
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


def detector_agreement(images: Iterable[np.ndarray], reference_nets, candidate_nets, config: CascadeConfig) -> dict:
    """Recall of the reference's faces, mean box IoU and mean landmark error (px) of the matched faces, and
    agreement on the face the pipeline would pick."""
    kept = total = count = 0
    ious, landmark_errors, picked_same = [], [], []
    for image in images:
        count += 1
        reference = detect_faces(image, reference_nets, config)
        candidate = detect_faces(image, candidate_nets, config)
        for ref, cand in match_faces(reference, candidate):
            total += 1
            if cand is not None:
                kept += 1
                ious.append(iou(ref.box, cand.box))
                landmark_errors.append(float(np.mean(np.linalg.norm(ref.landmarks - cand.landmarks, axis=1))))
        ref_pick, cand_pick = pick_face(reference, image.shape), pick_face(candidate, image.shape)
        if ref_pick is not None:
            picked_same.append(cand_pick is not None and iou(ref_pick.box, cand_pick.box) >= 0.5)
    return {
        "images": count,
        "reference_faces": total,
        "recall": kept / total if total else 1.0,
        "mean_box_iou": float(np.mean(ious)) if ious else 0.0,
        "mean_landmark_error_px": float(np.mean(landmark_errors)) if landmark_errors else 0.0,
        "picked_face_agreement": float(np.mean(picked_same)) if picked_same else 1.0,
    }


def embedding_agreement(reference: np.ndarray, candidate: np.ndarray) -> dict:
    """Cosine similarity between the reference's and the candidate's embeddings of the same faces."""
    cosine = np.sum(reference * candidate, axis=1) / (
        np.linalg.norm(reference, axis=1) * np.linalg.norm(candidate, axis=1))
    return {"faces": int(len(cosine)), "mean_cosine": float(np.mean(cosine)), "min_cosine": float(np.min(cosine))}


def match_faces_summary(reference: list[Face | None], candidate: list[Face | None]) -> dict:
    """Agreement of the picked faces of two detectors over the same images (None = no face)."""
    found = [r is not None for r in reference]
    kept, ious, errors = 0, [], []
    for ref, cand in zip(reference, candidate):
        if ref is None:
            continue
        if cand is not None and iou(ref.box, cand.box) >= 0.5:
            kept += 1
            ious.append(iou(ref.box, cand.box))
            errors.append(float(np.mean(np.linalg.norm(ref.landmarks - cand.landmarks, axis=1))))
    total = int(np.sum(found))
    return {
        "images": len(reference),
        "reference_faces": total,
        "faces_kept": kept,
        "recall": kept / total if total else 1.0,
        "mean_box_iou": float(np.mean(ious)) if ious else 0.0,
        "mean_landmark_error_px": float(np.mean(errors)) if errors else 0.0,
    }
