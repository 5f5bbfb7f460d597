"""The lock picks its threshold from a security target and the gallery's size (the door policy)."""

from __future__ import annotations

import numpy as np
import pytest

from edgeface.runtime.gallery import Gallery
from edgeface.runtime.lock import LockConfig, operating_threshold

POLICY = {"by_target": {"0.001": {"1": 1.0, "2": 0.95, "3": 0.9}, "0.0001": {"1": 0.9, "2": 0.85, "3": None}},
          "shots_per_resident": 5}


class PolicyPipeline:
    door_policy = POLICY


def gallery(people: int, shots: int = 5) -> Gallery:
    book = Gallery(model="m")
    rng = np.random.default_rng(people)
    for index in range(people):
        vectors = rng.normal(size=(shots, 128))
        book.add(f"p{index}", vectors / np.linalg.norm(vectors, axis=1, keepdims=True), [])
    return book


def test_more_residents_stricter_threshold():
    assert operating_threshold(PolicyPipeline(), gallery(1), LockConfig()).threshold == 0.9
    assert operating_threshold(PolicyPipeline(), gallery(2), LockConfig()).threshold == 0.85
    assert operating_threshold(PolicyPipeline(), gallery(2), LockConfig(far_per_visit=1e-3)).threshold == 0.95


def test_shots_count_as_residents_and_no_threshold_means_nobody():
    assert operating_threshold(PolicyPipeline(), gallery(1, shots=10), LockConfig()).threshold == 0.85  # 2 x 5 shots
    for book in (gallery(3), gallery(4)):
        operating = operating_threshold(PolicyPipeline(), book, LockConfig())
        assert operating.threshold is None and "nobody is let in" in operating.how


def test_a_target_the_policy_cannot_certify_is_refused_and_threshold_overrides():
    with pytest.raises(ValueError, match="--far-per-visit"):
        operating_threshold(PolicyPipeline(), gallery(1), LockConfig(far_per_visit=1e-5))
    operating = operating_threshold(PolicyPipeline(), gallery(4), LockConfig(threshold=1.1))
    assert operating.threshold == 1.1 and "--threshold" in operating.how
    # a looser target uses the strictest certified one under it
    assert operating_threshold(PolicyPipeline(), gallery(1), LockConfig(far_per_visit=5e-4)).threshold == 0.9
