"""All-vs-all verification: the binned computation against brute force over every pair."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from edgeface.allpairs import BIN, all_pairs
from vectors import clustered


def test_binned_all_pairs_match_brute_force():
    vectors, labels = clustered(people=15, per_person=5, spread=0.9, seed=1)
    faceless = np.array([0, 0, 3])  # three images without a face: their pairs stay in the totals
    result = all_pairs(vectors, labels, faceless, block=16)  # several blocks
    genuine, impostor = [], []
    for i, j in itertools.combinations(range(len(vectors)), 2):
        (genuine if labels[i] == labels[j] else impostor).append(float(np.linalg.norm(vectors[i] - vectors[j])))
    all_labels = np.concatenate([labels, faceless])
    pairs = len(all_labels) * (len(all_labels) - 1) // 2
    genuine_total = sum(a == b for a, b in itertools.combinations(all_labels, 2))
    assert len(result.genuine) == genuine_total and result.impostor_pairs == pairs - genuine_total
    assert result.images == 78 and result.images_without_face == 3 and result.people == 15
    impostor = np.array(impostor)
    for threshold in (0.9, 1.0, 1.1, 1.2):
        assert result.far_at(threshold) == pytest.approx(np.sum(impostor < threshold) / result.impostor_pairs, abs=2 / pairs)
        assert result.tar_at(threshold) == pytest.approx(np.sum(np.array(genuine) < threshold) / genuine_total)
    for far in (1e-3, 1e-2, 0.05):
        threshold = result.threshold_at_far(far)
        assert result.far_at(threshold) <= far < result.far_at(threshold + BIN)  # the largest such threshold
        assert np.sum(impostor < threshold) <= far * result.impostor_pairs


def test_a_lone_image_per_person_has_no_genuine_pair():
    vectors, labels = clustered(people=4, per_person=1, spread=0.1, seed=2)
    result = all_pairs(vectors, labels)
    assert len(result.genuine) == 0 and result.impostor_pairs == 6


def test_the_dev_tail_report_counts_every_pair_of_the_view1_images():
    from edgeface.training.dev_tail import tail_report

    rng = np.random.default_rng(3)
    centres = rng.normal(size=(40, 16))
    people = np.repeat(np.arange(40), 3)
    vectors = centres[people] + 0.05 * rng.normal(size=(120, 16))  # tight identities: every genuine pair passes
    data = {"people": np.array([f"p{p}" for p in people]), "faceless": np.array(["p0"], dtype=str)}
    report = tail_report(vectors, data)
    assert report["images"] == 121 and report["genuine_pairs"] == 40 * 3 + 3  # p0 has 4 images, one faceless
    assert report["tar@0.001"] == round(120 / 123, 4)  # the faceless image's 3 pairs are refused


def test_the_dev_tail_fuses_each_crop_with_its_mirror_image():
    from edgeface.runtime.embedder import fuse_mirror
    from edgeface.training.dev_tail import single_and_mirror_fused

    def left_right_mean(crops):  # an "embedder" that tells a face from its mirror image
        half = crops.shape[2] // 2
        return np.stack([crops[:, :, :half].mean(axis=(1, 2, 3)), crops[:, :, half:].mean(axis=(1, 2, 3))], 1)

    crops = np.random.default_rng(5).integers(0, 256, (6, 8, 8, 3), dtype=np.uint8)
    single, fused = single_and_mirror_fused(left_right_mean, crops)
    np.testing.assert_array_equal(single, left_right_mean(crops))
    np.testing.assert_allclose(fused, fuse_mirror(single, single[:, ::-1]), atol=1e-6)  # the mirror swaps halves
