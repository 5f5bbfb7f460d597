"""The agreement measures the int8 gates and the stability report are built on, on faces with known answers."""

from __future__ import annotations

import numpy as np

from edgeface.agreement import (InputsRounded, detection_agreement, embedding_agreement, jpeg_reencoded,
                                shift_faces_back, shifted_one_pixel)
from edgeface.runtime.cascade import Face


def face(x: float, y: float, size: float = 40.0) -> Face:
    landmarks = np.array([[x + 12, y + 15], [x + 28, y + 15], [x + 20, y + 24], [x + 14, y + 32], [x + 26, y + 32]])
    return Face(box=np.array([x, y, x + size, y + size], np.float32), score=0.99, landmarks=landmarks.astype(float))


def test_detection_agreement_counts_kept_missed_and_added_faces():
    reference = [[face(10, 10), face(100, 10)], [face(50, 50)]]
    candidate = [[face(12, 10), face(200, 200)], [face(50, 50), face(51, 50, 38)]]
    result = detection_agreement(reference, candidate)
    assert result["reference_faces"] == 3 and result["faces_kept"] == 2
    assert result["recall"] == 2 / 3
    assert result["candidate_faces"] == 4
    # (200, 200) overlaps nothing; the nested (51, 50) box overlaps the reference face and so is not "added"
    assert result["faces_added"] == 1
    assert result["mean_landmark_error_px"] == 1.0  # one face moved 2 px, one not moved
    assert 0.9 < result["mean_box_iou"] < 1.0
    assert "same_face_used" not in result


def test_same_face_used_counts_images_where_both_pipelines_embed_one_face():
    reference = [[face(10, 10), face(100, 10)], [face(50, 50)], [face(5, 5)], []]
    candidate = [[face(12, 10)], [face(150, 150)], [face(5, 5)], [face(0, 0)]]
    reference_used = [reference[0][0], reference[1][0], reference[2][0], None]
    candidate_used = [candidate[0][0], candidate[1][0], None, candidate[3][0]]
    result = detection_agreement(reference, candidate, reference_used, candidate_used)
    # image 0: same face; image 1: another face; image 2: the candidate found it but embedded nothing;
    # image 3: the reference embeds nothing, so it does not count
    assert result["images_with_reference_face"] == 3 and result["same_face_used"] == 1
    assert result["same_face_used_rate"] == 1 / 3
    assert result["faces_kept"] == 2  # the per-face measures are unchanged by the extra arguments


def test_one_pixel_shift_moves_content_and_faces_map_back():
    image = np.zeros((20, 30, 3), np.uint8)
    image[5, 7] = (255, 0, 0)
    shifted = shifted_one_pixel(image)
    assert shifted.shape == image.shape
    assert tuple(shifted[6, 8]) == (255, 0, 0) and shifted[5, 7].sum() == 0
    moved = face(11, 21)
    back = shift_faces_back([moved])[0]
    np.testing.assert_allclose(back.box, moved.box - 1)
    np.testing.assert_allclose(back.landmarks, moved.landmarks - 1)


def test_jpeg_reencode_changes_pixels_only_slightly():
    y, x = np.mgrid[0:64, 0:96]
    image = np.stack([x * 2, y * 3, (x + y)], axis=-1).astype(np.uint8)
    again = jpeg_reencoded(image, 95)
    assert again.shape == image.shape and again.dtype == np.uint8
    difference = np.abs(again.astype(int) - image.astype(int))
    assert 0 < difference.mean() < 2.0


def test_inputs_rounded_hands_each_net_the_int8_input_grid():
    class Echo:  # returns what it was given
        def pnet(self, image):
            return image

        def rnet(self, crops):
            return crops

        def onet(self, crops):
            return crops

    rounded = InputsRounded(Echo())
    x = np.random.default_rng(0).uniform(-1, 1, (2, 24, 24, 3)).astype(np.float32)
    for stage in (rounded.pnet, rounded.rnet, rounded.onet):
        out = stage(x)
        np.testing.assert_allclose(out * 128, np.round(out * 128), atol=1e-4)
        assert np.max(np.abs(out - x)) <= 0.5 / 128 + 1e-6 and np.any(out != x)


def test_embedding_agreement_pairs_rows_and_leaves_out_faceless_images():
    reference = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0], [np.nan, np.nan]])
    candidate = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 3.0], [1.0, 0.0]])
    result = embedding_agreement(reference, candidate)
    assert result["faces"] == 3
    assert result["mean_cosine"] == np.float64((1.0 + 0.8 + 0.0) / 3)
    assert result["min_cosine"] == 0.0
    assert result["faces_below_0_9"] == 2
    assert result["percentile_1_cosine"] < 0.1
