import numpy as np
import pytest

from edgeface.runtime import geometry


def test_pyramid_scales_stop_at_pnet_window():
    scales = geometry.pyramid_scales(250, 250, min_face_size=20, scale_factor=0.709)
    assert scales[0] == pytest.approx(0.6)
    assert len(scales) == 8  # 150, 106, 75.4, 53.5, 37.9, 26.9, 19.1, 13.5 px; next 9.6 < 12
    assert min(scales) * 250 >= 12
    with pytest.raises(ValueError):
        geometry.pyramid_scales(100, 100, 0, 0.7)


def test_nms_keeps_best_of_overlapping_and_disjoint_boxes():
    boxes = np.array([
        [0, 0, 10, 10, 0.9],
        [1, 1, 11, 11, 0.8],   # IoU with first = 81/119 = 0.68
        [50, 50, 60, 60, 0.7],  # disjoint
        [0, 0, 10, 10, 0.95],  # identical to the first, better score
    ], np.float32)
    assert geometry.nms(boxes, 0.5).tolist() == [3, 2]
    assert geometry.nms(boxes, 0.7).tolist() == [3, 1, 2]


def test_nms_min_drops_nested_box():
    boxes = np.array([[0, 0, 100, 100, 0.9], [10, 10, 30, 30, 0.8]], np.float32)
    assert geometry.nms(boxes, 0.7, "union").tolist() == [0, 1]  # IoU 0.04
    assert geometry.nms(boxes, 0.7, "min").tolist() == [0]  # fully inside: overlap/min = 1
    with pytest.raises(ValueError):
        geometry.nms(boxes, 0.5, "max")


def test_nms_suppression_by_a_suppressed_box_counts():
    # b overlaps a (IoU 0.82) and is dropped; c overlaps b (0.82) but not a (0.67): the package rule drops c too.
    boxes = np.array([[0, 0, 10, 10, 0.9], [1, 0, 11, 10, 0.8], [2, 0, 12, 10, 0.7]], np.float32)
    assert geometry.nms(boxes, 0.75).tolist() == [0]


def test_regress_boxes_by_hand():
    boxes = np.array([[10, 20, 29, 59, 0.9]], np.float32)  # width+1 = 20, height+1 = 40
    offsets = np.array([[0.1, -0.05, 0.5, 0.25]], np.float32)
    out = geometry.regress_boxes(boxes, offsets)
    assert out[0].tolist() == pytest.approx([12, 18, 39, 69, 0.9])


def test_square_boxes_grow_short_side_around_centre():
    out = geometry.square_boxes(np.array([[10, 20, 30, 60, 0.5]], np.float32))
    assert out[0].tolist() == pytest.approx([0, 20, 40, 60, 0.5])


def test_pnet_candidates_by_hand():
    prob = np.zeros((3, 4), np.float32)
    prob[1, 2] = 0.9
    reg = np.zeros((3, 4, 4), np.float32)
    reg[1, 2] = [0.1, 0.0, -0.1, 0.2]
    out = geometry.pnet_candidates(prob, reg, scale=0.5, threshold=0.6)
    # window (2*2+1, 2*1+1)..(2*2+12, 2*1+12) = (5, 3)..(16, 14); offsets x 11; then / 0.5
    assert out.tolist() == [pytest.approx([(5 + 1.1) * 2, 3 * 2, (16 - 1.1) * 2, (14 + 2.2) * 2, 0.9])]
    assert geometry.pnet_candidates(prob, reg, 0.5, 0.95).shape == (0, 5)


def test_crop_batch_samples_exact_bilinear_grid_and_zero_outside():
    image = np.arange(10 * 10 * 3, dtype=np.float32).reshape(10, 10, 3)
    outside = geometry.crop_batch(image, np.array([[-20.0, -20, -11, -11]]), 4)
    assert np.all(outside == 0)  # normalised 0 = mid-grey
    # box (0,0)-(10,10) on a 10-pixel image: normalised 0..1 → samples 0, 3, 6, 9 (crop_and_resize's grid)
    crop = geometry.crop_batch(image, np.array([[0.0, 0, 10, 10]]), 4)[0]
    expected = geometry.normalize_pixels(image[np.ix_([0, 3, 6, 9], [0, 3, 6, 9])])
    assert crop == pytest.approx(expected, abs=1e-5)
    # half-pixel position: the mean of two neighbours
    half = geometry.crop_batch(image, np.array([[0.0, 0, 5.0 * 10 / 9 / 2, 10]]), 2)[0]
    assert half[0, 1] == pytest.approx(geometry.normalize_pixels((image[0, 2] + image[0, 3]) / 2), abs=1e-4)
    with pytest.raises(ValueError):
        geometry.crop_batch(image, np.array([[5.0, 5, 5, 9]]), 4)


def test_iou():
    assert geometry.iou(np.array([0, 0, 10, 10]), np.array([5, 0, 15, 10])) == pytest.approx(50 / 150)
    assert geometry.iou(np.array([0, 0, 1, 1]), np.array([2, 2, 3, 3])) == 0.0
