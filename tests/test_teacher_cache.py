"""Teacher targets (`edgeface train teacher`) and the LFW near-duplicate filter (`edgeface train dedup`), on a
small aligned set made here."""

from __future__ import annotations

import numpy as np
import pytest

from edgeface.runtime.errors import UsageError
from edgeface.runtime.fileio import atomic_save_npz


@pytest.fixture(scope="module")
def aligned_set(tmp_path_factory):
    rng = np.random.default_rng(7)
    images = rng.integers(0, 256, (6, 112, 112, 3), dtype=np.uint8)
    images[:, 30:80, 20:60] = 40  # an asymmetric patch: a crop and its mirror differ
    path = tmp_path_factory.mktemp("aligned") / "tiny.npz"
    atomic_save_npz(path, images=images, identity=np.full(6, -1), files=np.array([f"{i}.jpg" for i in range(6)]),
                    failed=np.array([], dtype=str))
    return path


def test_teacher_cache_holds_the_teachers_embeddings_of_each_crop_and_its_mirror(aligned_set):
    from edgeface.embedders import MobileFaceNet
    from edgeface.training.teachers import cache_teacher, load_teacher

    cache_teacher(aligned_set, batch=4, progress=False)  # two batches, the second one short
    plain, flipped = load_teacher(aligned_set, 6)
    images = np.load(aligned_set)["images"]
    reference = MobileFaceNet(num_threads=1)
    np.testing.assert_allclose(plain, reference.embed(images), atol=1e-5)
    np.testing.assert_allclose(flipped, reference.embed(np.ascontiguousarray(images[:, :, ::-1])), atol=1e-5)
    assert not np.allclose(plain, flipped, atol=1e-2)
    with pytest.raises(UsageError, match="stale"):
        load_teacher(aligned_set, 5)  # a cache for other crops is refused


def test_dedup_drops_the_crop_that_is_an_lfw_image_and_training_refuses_an_unchecked_set(aligned_set):
    from edgeface.training.dedup import kept_indices, mark_duplicates
    from edgeface.training.teachers import load_teacher

    plain, flipped = load_teacher(aligned_set, 6)
    fused = (plain + flipped) / np.linalg.norm(plain + flipped, axis=1, keepdims=True)
    # crop 2 "is" an LFW photo; noise crops look alike to the teacher, so the threshold is set between them
    nearest_other = np.min(np.linalg.norm(np.delete(fused, 2, axis=0) - fused[2], axis=1))
    assert nearest_other > 1e-3
    assert mark_duplicates(aligned_set, fused[2:3], threshold=nearest_other / 2) == 1
    assert kept_indices(aligned_set, 6).tolist() == [0, 1, 3, 4, 5]
    other = aligned_set.with_name("unchecked.npz")
    with pytest.raises(FileNotFoundError, match="dedup"):
        kept_indices(other, 6)
