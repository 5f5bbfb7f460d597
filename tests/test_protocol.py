import numpy as np
import pytest

from edgeface import protocol


def folds_for(n_per_fold: int, n_folds: int = 10) -> np.ndarray:
    return np.repeat(np.arange(n_folds), n_per_fold)


def test_perfectly_separable_distances():
    rng = np.random.default_rng(0)
    same = np.tile(np.r_[np.ones(30, bool), np.zeros(30, bool)], 10)
    dist = np.where(same, rng.uniform(0.1, 0.9, same.size), rng.uniform(1.5, 3.0, same.size))
    report = protocol.evaluate(dist, same, folds_for(60))
    assert report.accuracy_mean == 1.0 and report.accuracy_std == 0.0
    assert report.auc == pytest.approx(1.0)
    assert report.eer == pytest.approx(0.0, abs=1e-6)
    assert report.val == 1.0
    # facenet interpolates the FAR=1e-3 threshold up to the lowest impostor distance seen in training folds,
    # so a test-fold impostor just below it can be accepted: at most one per fold here.
    assert report.far <= 1 / 30 / 10 + 1e-9
    assert 0.9 <= report.threshold_accuracy <= 1.5


def test_uninformative_distances_give_chance():
    same = np.tile(np.r_[np.ones(30, bool), np.zeros(30, bool)], 10)
    report = protocol.evaluate(np.full(same.size, 1.0), same, folds_for(60))
    assert report.accuracy_mean == pytest.approx(0.5)
    assert report.auc == pytest.approx(0.5, abs=0.01)
    assert report.eer == pytest.approx(0.5, abs=0.01)


def test_known_accuracy_with_one_error_per_fold():
    # per fold: 5 same at 0.5, 5 different at 2.0, plus one different pair at 0.2 (always a false accept).
    same = np.tile(np.r_[np.ones(5, bool), np.zeros(6, bool)], 10)
    dist = np.tile(np.r_[np.full(5, 0.5), np.full(5, 2.0), [0.2]], 10)
    report = protocol.evaluate(dist, same, folds_for(11))
    assert report.accuracy_mean == pytest.approx(10 / 11)
    # FAR 1e-3 cannot be reached above zero accepts → VAL is what threshold 0.2 accepts: nothing
    assert report.val == 0.0


def test_rejects_bad_input():
    with pytest.raises(ValueError):
        protocol.evaluate(np.array([0.1, np.nan]), np.array([True, False]), np.array([0, 1]))
    with pytest.raises(ValueError):
        protocol.evaluate(np.ones(3), np.ones(2, bool), np.zeros(3))
