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


def test_cosface_margin_by_hand():
    e = unit([1, 0], [0, 1])
    weights = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    # sample 0, label 0, margin 0.35: logits (30 * (1 - 0.35), 0) → CE = log(1 + e^-19.5); sample 1 ignored
    got = float(losses.cosine_softmax_loss(np.array([0, -1]), e, weights, scale=30.0, margin=0.35))
    assert got == pytest.approx(np.log1p(np.exp(-19.5)), abs=1e-6)
    # the margin only ever lowers the true class's logit, so the loss grows with it
    at = [float(losses.cosine_softmax_loss(np.array([0, 1]), unit([1, 1], [1, 2]), weights, margin=m))
          for m in (0.0, 0.2, 0.4)]
    assert at[0] < at[1] < at[2]


def test_distillation_losses():
    s = unit([1, 0], [0, 1])
    assert float(losses.embedding_distillation_loss(s, s)) == pytest.approx(0.0, abs=1e-6)
    assert float(losses.embedding_distillation_loss(s, -s)) == pytest.approx(2.0)
    t = unit([1, 0], [1, 0])
    # similarity matrices [[1,0],[0,1]] vs [[1,1],[1,1]] → mean squared diff = 2/4
    assert float(losses.similarity_distillation_loss(s, t)) == pytest.approx(0.5)


def test_mirror_fused_adds_each_view_to_its_mirror_as_the_lock_does():
    from edgeface.runtime.embedder import fuse_mirror

    views = np.array([[3.0, 0.0], [0.0, 2.0], [1.0, 1.0], [0.0, -5.0]], np.float32)  # 2 views, then their mirrors
    fused = losses.mirror_fused(views).numpy()
    unit_rows = views / np.linalg.norm(views, axis=1, keepdims=True)
    np.testing.assert_allclose(fused, fuse_mirror(unit_rows[:2], unit_rows[2:]), atol=1e-6)
    np.testing.assert_allclose(fused[0], [np.cos(np.pi / 8), np.sin(np.pi / 8)], atol=1e-6)  # 0 and 45 degrees
    assert np.isnan(fused[1]).sum() == 0 and np.allclose(fused[1], 0)  # opposite halves cancel, no NaN


def test_teacher_targets_follow_the_mirror_or_share_the_fused_one():
    from types import SimpleNamespace

    from edgeface.training.train import teacher_targets

    data = SimpleNamespace(teacher=np.array([[3.0, 0.0], [0.0, 2.0]]), teacher_flipped=np.array([[0.0, 5.0], [1.0, 0.0]]))
    index, flipped = np.array([0, 1]), np.array([False, True])
    np.testing.assert_allclose(teacher_targets(data, index, flipped, False), [[3.0, 0.0], [1.0, 0.0]])
    fused = [[1.0, 1.0], [1.0, 1.0]]  # unit plain + unit mirrored, whichever way the crop was shown
    np.testing.assert_allclose(teacher_targets(data, index, flipped, True), fused)
    np.testing.assert_allclose(teacher_targets(data, index, ~flipped, True), fused)


def test_hard_pair_loss_takes_the_lookalike_strangers_and_the_unlike_pair():
    # Faces 0,1 are the same person; 2,3,4 strangers. Student and teacher agree everywhere except on the
    # lookalike stranger pair (2, 3), where the student is far more similar than the teacher.
    teacher = unit([1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0.6, 0.8], [0, 0, 1])
    student = teacher.copy()
    student[3] = unit([0, 0.99, 0.14])[0]
    labels = np.array([7, 7, -1, -1, 9])
    s, t = student @ student.T, teacher @ teacher.T
    # One different-face pair in 2% of 9 is taken: the highest similarity, pair (2, 3); the same-face pair is (0, 1).
    expected = ((s[2, 3] - t[2, 3]) ** 2 + 0.0) / 2
    got = float(losses.hard_pair_similarity_loss(labels, student, teacher, fraction=0.02))
    assert got == pytest.approx(expected, rel=1e-5)
    assert got > 0.05
    assert float(losses.hard_pair_similarity_loss(labels, teacher, teacher)) == pytest.approx(0.0, abs=1e-7)


def test_genuine_pair_loss_counts_only_pairs_of_one_known_identity():
    # Faces 0,1,2 are one person, 3,4 another, 5 and 6 unknown (they never pair, even with each other).
    teacher = unit([1, 0, 0], [0.9, 0.1, 0], [0.8, 0.2, 0.1], [0, 1, 0], [0, 0.9, 0.3], [0, 0, 1], [0, 0.1, 1])
    student = unit([1, 0, 0], [0.5, 0.5, 0], [0.8, 0.2, 0.1], [0, 1, 0], [0, 0.9, 0.3], [0.3, 0, 1], [0, 0.5, 1])
    labels = np.array([4, 4, 4, 8, 8, -1, -1])
    s, t = student @ student.T, teacher @ teacher.T
    pairs = [(0, 1), (0, 2), (1, 2), (3, 4)]
    expected = np.mean([(s[i, j] - t[i, j]) ** 2 for i, j in pairs])
    got = float(losses.genuine_pair_similarity_loss(labels, student, teacher))
    assert got == pytest.approx(expected, rel=1e-5)
    assert got > 0.01
    # the unknown faces 5, 6 differ a lot between student and teacher, and change nothing
    assert float(losses.genuine_pair_similarity_loss(labels[:5], student[:5], teacher[:5])) == pytest.approx(got, rel=1e-5)
    assert float(losses.genuine_pair_similarity_loss(np.array([1, 2, -1]), student[:3], teacher[:3])) == 0.0


def test_neighbour_loss_is_the_kl_of_the_softmax_over_other_faces():
    teacher = unit([1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0.6, 0.8])
    student = unit([1, 0, 0], [0.5, 0.5, 0], [0, 1, 0], [0.2, 0.6, 0.8])
    tau = 0.1

    def softmax_rows(v):
        logits = v @ v.T / tau
        np.fill_diagonal(logits, -np.inf)
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    p, q = softmax_rows(teacher.astype(np.float64)), softmax_rows(student.astype(np.float64))
    off = ~np.eye(4, dtype=bool)
    expected = np.mean([np.sum(p[i][off[i]] * np.log(p[i][off[i]] / q[i][off[i]])) for i in range(4)])
    got = float(losses.neighbour_distribution_loss(student, teacher, tau))
    assert got == pytest.approx(expected, rel=1e-4)
    assert got > 0.01
    assert float(losses.neighbour_distribution_loss(teacher, teacher, tau)) == pytest.approx(0.0, abs=1e-6)


def test_genuine_pair_weight_groups_identities_in_each_batch():
    from edgeface.training.train import TrainConfig, batch_indices

    classes = np.repeat(np.arange(50), 4)  # 50 people x 4 faces, in 200 crops
    members = {c: np.nonzero(classes == c)[0] for c in range(50)}
    data = type("Data", (), {"multi_image_classes": np.arange(50), "members": members,
                             "__len__": lambda self: len(classes)})()
    for weights, grouped in (({}, False), ({"weight_genuine_pairs": 1.0}, True), ({"weight_neighbours": 1.0}, True)):
        config = TrainConfig(batch_size=64, identities_per_batch=8, bfloat16=False, **weights)
        batch = next(batch_indices(data, config, np.random.default_rng(0)))
        assert len(batch) == 64
        head = classes[batch[:32]]
        assert (len(np.unique(head)) == 8 and np.all(np.bincount(head) % 4 == 0)) == grouped


def test_augmented_views_blend_the_asked_share_and_forget_their_labels():
    from edgeface.training.train import TrainConfig, augment_views

    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, (200, 112, 112, 3), dtype=np.uint8)
    labels = np.arange(200)
    views, out_labels = augment_views(crops, labels, rng, jitter=0.04, mixup=0.5)
    assert views.shape == crops.shape and views.dtype == np.uint8
    mixed = out_labels < 0
    assert 70 <= mixed.sum() <= 130
    np.testing.assert_array_equal(out_labels[~mixed], labels[~mixed])
    _, plain_labels = augment_views(crops, labels, rng)
    np.testing.assert_array_equal(plain_labels, labels)
    with pytest.raises(ValueError, match="online-teacher"):
        TrainConfig(mixup=0.5)
