import numpy as np
import pytest

tf = pytest.importorskip("tensorflow", reason="training losses need the toolchain install (TensorFlow)")
from edgeface.training import losses  # noqa: E402


def unit(*rows):
    v = np.array(rows, np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_triplet_semihard_by_hand():
    e = unit([1, 0], [0.8, 0.6], [0.6, 0.8], [-1, 0])  # labels A A B B
    labels = np.array([0, 0, 1, 1])
    # squared distances: d01=0.4 d02=0.8 d03=4 d12=0.08 d13=3.6 d23=3.2
    # (0,1): negatives of 0 are 0.8, 4 → semi-hard 0.8 → max(0.4 - 0.8 + 0.2, 0) = 0
    # (1,0): negatives of 1 are 0.08, 3.6 → 3.6 (only one farther than 0.4) → 0
    # (2,3): negatives of 2 are 0.8, 0.08, none farther than 3.2 → farthest 0.8 → 3.2 - 0.8 + 0.2 = 2.6
    # (3,2): negatives of 3 are 4, 3.6 → semi-hard 3.6 → max(3.2 - 3.6 + 0.2, 0) = 0
    got = float(losses.triplet_semihard_loss(labels, e, 0.2))
    assert got == pytest.approx(2.6 / 4, abs=1e-5)


def test_triplet_ignores_unlabelled_as_anchors():
    e = unit([1, 0], [0, 1], [-1, 0])
    assert float(losses.triplet_semihard_loss(np.array([-1, -1, 3]), e)) == 0.0


def test_cosine_softmax_by_hand():
    e = unit([1, 0], [0, 1])
    weights = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)  # class 0 = x axis, class 1 = y axis
    # sample 0 label 0: logits (30, 0) → CE = log(1 + e^-30); sample 1 ignored
    got = float(losses.cosine_softmax_loss(np.array([0, -1]), e, weights, scale=30.0))
    assert got == pytest.approx(np.log1p(np.exp(-30.0)), abs=1e-6)
    wrong = float(losses.cosine_softmax_loss(np.array([1, -1]), e, weights, scale=30.0))
    assert wrong == pytest.approx(30.0, abs=1e-4)


def test_distillation_losses():
    s = unit([1, 0], [0, 1])
    assert float(losses.embedding_distillation_loss(s, s)) == pytest.approx(0.0, abs=1e-6)
    assert float(losses.embedding_distillation_loss(s, -s)) == pytest.approx(2.0)
    t = unit([1, 0], [1, 0])
    # similarity matrices [[1,0],[0,1]] vs [[1,1],[1,1]] → mean squared diff = 2/4
    assert float(losses.similarity_distillation_loss(s, t)) == pytest.approx(0.5)


def test_teacher_targets_follow_the_mirror_or_share_the_fused_one():
    from types import SimpleNamespace

    from edgeface.training.train import teacher_targets

    data = SimpleNamespace(teacher=np.array([[3.0, 0.0], [0.0, 2.0]]), teacher_flipped=np.array([[0.0, 5.0], [1.0, 0.0]]))
    index, flipped = np.array([0, 1]), np.array([False, True])
    np.testing.assert_allclose(teacher_targets(data, index, flipped, False), [[3.0, 0.0], [1.0, 0.0]])
    fused = [[1.0, 1.0], [1.0, 1.0]]  # unit plain + unit mirrored, whichever way the crop was shown
    np.testing.assert_allclose(teacher_targets(data, index, flipped, True), fused)
    np.testing.assert_allclose(teacher_targets(data, index, ~flipped, True), fused)
