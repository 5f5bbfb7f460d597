"""One operating point type for the runtime and the float reference: thresholds, door policy, model id."""

import numpy as np
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
    assert OperatingPoint.from_record({"weights_sha256": "abc"}, weights_id="file").model_id == "abc"
    assert OperatingPoint.from_record({}, weights_id="file").model_id == "file"


def test_mirror_fused_embeddings_are_another_model_for_a_gallery():
    fused = OperatingPoint.from_record({"weights_sha256": "abc", "mirror_fusion": True})
    assert fused.mirror_fusion and fused.model_id == "abc+mirror"
    assert OperatingPoint.from_record({"weights_sha256": "abc", "mirror_fusion": "yes"}).model_id == "abc"


class ColumnEmbedder:
    """A stand-in embedder whose embedding sees left and right apart: a crop's column means."""

    name, dim = "columns", 8

    def embed(self, crops):
        from edgeface.runtime.embedder import l2_normalize

        return l2_normalize(crops.astype(np.float32).mean(axis=(1, 3)))


def test_a_fused_pipeline_embeds_each_crop_with_its_mirror_image():
    from edgeface.runtime.embedder import l2_normalize
    from edgeface.runtime.pipeline import FacePipeline

    crops = np.random.default_rng(3).integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    embedder = ColumnEmbedder()
    single = FacePipeline(None, embedder, OperatingPoint.from_record({})).embed_crops(crops)
    fused = FacePipeline(None, embedder, OperatingPoint.from_record({"mirror_fusion": True})).embed_crops(crops)
    np.testing.assert_allclose(single, embedder.embed(crops))
    np.testing.assert_allclose(fused, l2_normalize(embedder.embed(crops) + embedder.embed(crops[:, :, ::-1])),
                               rtol=1e-6)
    assert np.abs(fused - single).max() > 0.01  # the mirror image changed them


def test_the_shipped_nns2_point_matches_what_a_conversion_writes():
    pytest.importorskip("tensorflow", reason="converters/export.py is the toolchain's")
    from edgeface.converters.export import operating_point
    from edgeface.weights import shipped_point, weights_id

    point = OperatingPoint.from_record(shipped_point("nns2"), weights_id("nns2"))
    assert point.weights_id == weights_id("nns2") == operating_point()["weights_sha256"]
    assert point.door_policy and point.threshold_far_1e3 < point.threshold_accuracy


def test_a_manifest_must_fuse_mirror_images_as_its_shipped_point_does(monkeypatch):
    import edgeface.weights
    from edgeface.runtime.manifest import ManifestError, checked_operating_point

    shipped = {"weights_sha256": "abc", "euclidean_threshold_accuracy": 1.1, "mirror_fusion": True}
    monkeypatch.setattr(edgeface.weights, "shipped_point", lambda name: dict(shipped))
    assert checked_operating_point(dict(shipped)) == shipped
    with pytest.raises(ManifestError, match="older edgeface convert"):  # thresholds for single embeddings
        checked_operating_point({k: v for k, v in shipped.items() if k != "mirror_fusion"})
    with pytest.raises(ManifestError, match="differs from the one shipped"):  # switched off by hand
        checked_operating_point({**shipped, "mirror_fusion": False})
