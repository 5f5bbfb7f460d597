"""The shipped NNS2 FaceNet: its size, its LFW accuracy through the float pipeline, and the int8 gates."""

from __future__ import annotations

import json

import pytest

from edgeface.weights import WEIGHTS_DIR

CARD = json.loads((WEIGHTS_DIR / "nns2_facenet.json").read_text())


def test_nns2_size_matches_its_class():
    from edgeface.models.facenet import build_nns2, count_macs

    model = build_nns2()
    assert 3.5e6 <= model.count_params() <= 5.0e6
    assert model.count_params() == CARD["parameters"]
    assert count_macs(model) == CARD["macs_per_face"]
    assert model.output.shape[-1] == 128


@pytest.fixture(scope="module")
def compared(models_dir, lfw_root):
    """One `eval --compare` run serves both LFW tests: its float pipeline (float MTCNN + the Keras NNS2) is the
    model card's protocol, so the card is checked on the same pass the int8 gates are measured against (one
    float pass of all 7,701 images instead of two; without the mixed pairs, which gate nothing)."""
    from edgeface.evaluate import run_compare

    report, _ = run_compare(lfw_root, models_dir, "int8", flip=True, progress=False, stages={"pnet": "fp32"},
                            cross=False)
    return report


def test_float_pipeline_reproduces_the_model_card_on_all_6000_pairs(compared):
    assert compared["pairs"] == 6000
    float_float = "detector float + embedder float"
    for mode, key in (("plain", f"{float_float}, no flip"), ("flip", float_float)):
        result, claimed = compared["results"][key], CARD["lfw"][mode]
        assert result["images_without_face"] == CARD["lfw"]["images_without_face"]
        assert result["accuracy_mean"] == pytest.approx(claimed["accuracy_mean"], abs=0.002), mode
        assert result["val"] == pytest.approx(claimed["val"], abs=0.01), mode


def test_deployed_int8_loses_little_on_all_6000_pairs(compared):
    """The CPU runtime's int8 pipeline (P-Net float, R-Net/O-Net and FaceNet int8: runtime/stage_choice.py) vs
    float on all 6,000 pairs (flip fusion) and on all 7,701 pair images, against the restated MTCNN gates (issue
    "int8 that pays on the CPU"); the int8 graph of every stage (what the Edge TPU runs) beside it.

    Measured on this CI fixture's export (PReLU split): CPU pipeline / int8 in every stage. The face the pipeline
    embeds is float's on 7,699 / 7,701 of 7,701 images (gate 99.9%); recall of clear float faces (score >= 0.9,
    >= 40 px; 8,527) 99.88% / 99.72% (gate 99.8%: met by the CPU pipeline; 17 of the int8 P-Net's 24 misses come
    back with P-Net in float); all-face recall 99.05% / 98.58% (gate 98.4%); landmark error 0.53 / 0.83 px
    (gate 1.0); faces added 73 / 117 of 9,087. The detector numbers are the same on every machine CI has used.
    The int8 FaceNet is not (Intel with AVX-512 / AMD EPYC without; TensorFlow pinned, so most likely the float
    arithmetic its calibration ranges come from). The deployed 10-fold accuracy drop is 0.27 / 0.17 points (16 / 10
    pairs of 6,000) on the first and 0.38 / 0.12 (23 / 7 pairs) on the second, over the gate's 0.15 (9 pairs)
    but for one, and held here as a regression guard at 30 pairs: the worst export (23) plus the 8 pairs that
    re-encoding every image as JPEG moves float by. The CPU pipeline's closer boxes and landmarks do not show in
    it (2 images embed another face, one of them Jerry_Rice_0001, which int8 R-Net loses; README, "int8
    accuracy").

    The 6,000-pair drops are noise-limited guards against gross breakage, not gates: the accuracy count moves by
    20-30 pairs where the ROC does not (README, "int8 accuracy"). Three int8 exports of the same v6 run 6 weights
    on one machine gave every-stage accuracy drops of 0.33 (this fixture), 0.00 and 0.03 points (200 calibration
    images, the default) and CPU-pipeline VAL drops of 0.57 and 2.20 points, so each earlier guard (0.2 and 2.0,
    set on run 5's exports) failed on one export of weights whose all-LFW int8 loss (float - int8 TAR: 0.13 / 0.26
    points at FAR 1e-4 / 1e-5 on 242,257 genuine pairs) is lower than run 5's (0.2 / 0.6). Both graphs are now
    held at 30 pairs and 3 VAL points, and the sharp regression guard is the int8 pipeline's embedding of each of
    the 7,701 images against float's (mirror-fused), which holds still over the same exports: the CPU pipeline's
    mean cosine 0.9950 here and 0.9949 at 200 images (1st percentile 0.968 / 0.967; 9 / 8 images under 0.9, most
    of them another face picked), every stage's 0.9915 / 0.9914 (0.943 / 0.942; 26 / 23) and 0.9910 on the shipped
    conversion. The guards fail where the quantization error (1 - cosine) doubles.
    """
    report = compared
    print(json.dumps(report["deployed_drop"]), json.dumps(report["mtcnn_agreement"]), json.dumps(report["every_stage"]))
    assert report["stages"] == {"pnet": "fp32", "rnet": "int8", "onet": "int8"}
    assert report["deployed_drop"]["accuracy_points"] <= 0.5  # gate 0.15, see above
    assert report["deployed_drop"]["val_points"] <= 3.0
    embedding = report["deployed_drop"]["embedding_vs_float"]
    assert embedding["faces"] >= 7699
    assert embedding["mean_cosine"] >= 0.99
    assert embedding["percentile_1_cosine"] >= 0.93
    agreement = report["mtcnn_agreement"]
    assert agreement["images"] == 7701
    assert agreement["same_face_used_rate"] >= 0.999
    assert agreement["clear_face_recall"] >= 0.998
    assert agreement["recall"] >= 0.984
    assert agreement["mean_landmark_error_px"] <= 1.0
    assert agreement["faces_added"] <= 0.02 * agreement["reference_faces"]
    every_stage = report["every_stage"]  # the Edge TPU's graph
    assert every_stage["deployed_drop"]["accuracy_points"] <= 0.5
    assert every_stage["deployed_drop"]["val_points"] <= 3.0
    embedding = every_stage["deployed_drop"]["embedding_vs_float"]
    assert embedding["faces"] >= 7699
    assert embedding["mean_cosine"] >= 0.983
    assert embedding["percentile_1_cosine"] >= 0.885
    assert every_stage["mtcnn_agreement"]["same_face_used_rate"] >= 0.999
    assert every_stage["mtcnn_agreement"]["clear_face_recall"] >= 0.997
    assert every_stage["mtcnn_agreement"]["recall"] >= 0.984
    assert every_stage["mtcnn_agreement"]["mean_landmark_error_px"] <= 1.0
