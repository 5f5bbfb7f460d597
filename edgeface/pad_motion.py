"""A multi-frame cue for presentation attacks: does the face move as one plane?

A printed photo or a screen is (nearly) a plane: between two frames its 5 landmarks move by a homography.
A real head turning shows parallax (the nose tip moves against the eyes and mouth), which a homography cannot
absorb. The cue of an attempt is the median, over frame pairs `gap` frames apart, of the RMS residual of the
best homography between their landmarks, in inter-ocular distances. It needs motion to say anything: a head
held perfectly still looks planar too, so it can only add evidence, never stand alone.
"""

from __future__ import annotations

import cv2
import numpy as np


def homography_residual(a: np.ndarray, b: np.ndarray) -> float:
    """RMS distance of `b`'s 5 landmarks from `a`'s mapped by their least-squares homography, in units of b's
    inter-ocular distance (NaN when either is missing or degenerate)."""
    a, b = np.asarray(a, np.float64).reshape(5, 2), np.asarray(b, np.float64).reshape(5, 2)
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("nan")
    eyes = float(np.linalg.norm(b[1] - b[0]))
    matrix, _ = cv2.findHomography(a, b, 0)
    if matrix is None or eyes < 1.0:
        return float("nan")
    mapped = cv2.perspectiveTransform(a[None], matrix)[0]
    return float(np.sqrt(((mapped - b) ** 2).sum(axis=1).mean()) / eyes)


def attempt_planarity(landmarks: np.ndarray, gap: int = 3) -> float:
    """Median homography residual over the attempt's frame pairs `gap` apart (NaN if there are none)."""
    residuals = [homography_residual(landmarks[i], landmarks[i + gap]) for i in range(len(landmarks) - gap)]
    residuals = [r for r in residuals if np.isfinite(r)]
    return float(np.median(residuals)) if residuals else float("nan")
