"""One operating point type for the runtime and the float reference: thresholds, door policy, model id."""

import pytest

from edgeface.runtime.errors import UsageError
from edgeface.runtime.operating_point import OperatingPoint


def test_an_explicit_zero_is_a_threshold_not_a_missing_one():
    point = OperatingPoint.from_record({"euclidean_threshold_accuracy": 1.1, "euclidean_threshold_far_1e-3": 0.0})
    assert point.threshold(0.0) == 0.0  # given: used as given (the lock then refuses it)
    assert point.threshold(strict=True) == 0.0  # a recorded 0.0 is not "fall back to best accuracy"
    assert point.threshold() == 1.1


def test_strict_falls_back_to_best_accuracy_and_nothing_recorded_asks_for_a_threshold():
    assert OperatingPoint.from_record({"euclidean_threshold_accuracy": 1.1}).threshold(strict=True) == 1.1
    with pytest.raises(UsageError, match="pass --threshold"):
        OperatingPoint.from_record({}).threshold()
    assert OperatingPoint.from_record({}).threshold(0.9) == 0.9


def test_the_model_id_is_the_weights_the_point_names_else_the_given_one():
    assert OperatingPoint.from_record({"weights_sha256": "abc"}, model_id="file").model_id == "abc"
    assert OperatingPoint.from_record({}, model_id="file").model_id == "file"


def test_the_shipped_nns2_point_matches_what_a_conversion_writes():
    pytest.importorskip("tensorflow", reason="converters/export.py is the toolchain's")
    from edgeface.converters.export import operating_point
    from edgeface.weights import model_id, shipped_point

    point = OperatingPoint.from_record(shipped_point("nns2"), model_id("nns2"))
    assert point.model_id == model_id("nns2") == operating_point()["weights_sha256"]
    assert point.door_policy and point.threshold_far_1e3 < point.threshold_accuracy
