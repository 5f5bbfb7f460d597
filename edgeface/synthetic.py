"""Synthetic door-camera frames: LFW faces pasted into 640x480 scenes with no other face in them.

Used by the door-lock scenario and the soak video. The background is a smooth random gradient with sensor-like
noise, so every face in a frame is one we put there (0, 1 or 2 per frame).
"""

from __future__ import annotations

import cv2
import numpy as np


def background(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    width, height = size
    corners = rng.integers(30, 220, (2, 2, 3)).astype(np.float32)
    frame = cv2.resize(corners, (width, height), interpolation=cv2.INTER_LINEAR)
    frame += rng.normal(0, 4, frame.shape).astype(np.float32)
    return np.clip(frame, 0, 255).astype(np.uint8)


def door_frame(faces: list[np.ndarray], rng: np.random.Generator, size: tuple[int, int] = (640, 480),
               scale: tuple[float, float] = (0.45, 0.75)) -> np.ndarray:
    """A frame with each face image resized to a random fraction of the frame height, side by side."""
    width, height = size
    frame = background(size, rng)
    slot = width // max(1, len(faces))
    for k, face in enumerate(faces):
        side = min(int(height * rng.uniform(*scale)), slot)
        face = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
        x = k * slot + int(rng.integers(0, slot - side + 1))
        y = int(rng.integers(0, height - side + 1))
        frame[y : y + side, x : x + side] = face
    return frame


def walk_up(face: np.ndarray, frames: int, rng: np.random.Generator, size: tuple[int, int] = (640, 480),
            scale: tuple[float, float] = (0.3, 0.7)) -> list[np.ndarray]:
    """A visitor walking up to the door camera: one photo, pasted larger in each frame (from `scale[0]` to
    `scale[1]` of the frame height) as it drifts sideways and sways a few pixels, over one still background
    with fresh sensor noise per frame. What a tracker sees at a door: the face moves a little between frames."""
    width, height = size
    scene = background(size, rng).astype(np.float32)
    start_x, end_x = rng.uniform(0.25, 0.75, 2) * width
    sway = rng.uniform(0, 2 * np.pi)
    out = []
    for t in np.linspace(0.0, 1.0, frames):
        side = int(height * (scale[0] + (scale[1] - scale[0]) * t))
        cx = start_x + (end_x - start_x) * t + 6 * np.sin(sway + 9 * t)
        cy = height * 0.45 + 4 * np.cos(sway + 7 * t)
        x = int(np.clip(cx - side / 2, 0, width - side))
        y = int(np.clip(cy - side / 2, 0, height - side))
        frame = scene + rng.normal(0, 3, scene.shape).astype(np.float32)
        frame[y : y + side, x : x + side] = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
        out.append(np.clip(frame, 0, 255).astype(np.uint8))
    return out
