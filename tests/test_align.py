import numpy as np
import pytest

from edgeface.runtime import align


def test_similarity_transform_recovers_known_transform():
    angle, scale, shift = np.deg2rad(17), 1.7, np.array([12.0, -3.0])
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    source = align.TEMPLATE_112
    target = source @ rotation.T + shift
    matrix = align.similarity_transform(source, target)
    assert matrix[:, :2] == pytest.approx(rotation, abs=1e-9)
    assert matrix[:, 2] == pytest.approx(shift, abs=1e-9)


def test_similarity_transform_rejects_degenerate_points():
    with pytest.raises(ValueError):
        align.similarity_transform(np.ones((5, 2)), align.TEMPLATE_112)


def test_align_five_points_moves_marks_onto_template():
    # Draw 5 bright dots at landmark positions of a face twice the template size, shifted; after alignment the
    # dots must sit on the template points.
    image = np.zeros((300, 300, 3), np.uint8)
    landmarks = align.TEMPLATE_112 * 2 + [40, 30]
    for x, y in landmarks:
        image[int(round(y)) - 1 : int(round(y)) + 2, int(round(x)) - 1 : int(round(x)) + 2] = 255
    aligned = align.align_five_points(image, landmarks, 112)
    assert aligned.shape == (112, 112, 3)
    for x, y in align.TEMPLATE_112:
        assert aligned[int(round(y)), int(round(x))].max() > 100


def test_template_scales_with_size():
    assert align.template_for(224) == pytest.approx(align.TEMPLATE_112 * 2)


def test_margin_crop_matches_facenet_rule():
    image = np.zeros((100, 200, 3), np.uint8)
    image[:, 100:] = 255
    crop = align.margin_crop(image, np.array([90.0, 10.0, 110.0, 50.0]), image_size=20, margin=20)
    # box grown by 10 each side: x 80..120, y 0..60 → left half dark, right half bright
    assert crop.shape == (20, 20, 3)
    assert crop[:, :9].max() == 0 and crop[:, 11:].min() == 255
    with pytest.raises(ValueError):
        align.margin_crop(image, np.array([300.0, 10, 320, 20]), 20, 0)
