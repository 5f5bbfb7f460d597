import numpy as np

from edgeface import lfw
from edgeface.runtime.cascade import CascadeConfig, detect_faces, pick_face
from edgeface.runtime.images import read_rgb
from edgeface.weights import checked_path, recorded_sums, sha256_file


def test_shipped_weights_match_their_checksums():
    for name, digest in recorded_sums().items():
        assert sha256_file(checked_path(name).parent / name) == digest


def test_finds_the_face_and_landmarks_in_lfw_images(lfw_root, float_detector):
    names = lfw.pair_images(lfw.parse_pairs(lfw_root / "pairs.txt"))[::400]
    for name in names:
        image = read_rgb(lfw_root / lfw.IMAGES_SUBDIR / name)
        face = pick_face(float_detector.detect(image), image.shape)
        assert face is not None, name
        # deep-funneled LFW: the face is near the centre, 60-160 px wide
        centre = (face.box[:2] + face.box[2:4]) / 2
        assert np.all(np.abs(centre - 125) < 40), (name, face.box)
        assert 50 < face.width < 180, (name, face.box)
        left_eye, right_eye, nose, mouth_left, mouth_right = face.landmarks
        assert left_eye[0] < right_eye[0] and mouth_left[0] < mouth_right[0]  # (the nose may pass an eye in profile)
        assert max(left_eye[1], right_eye[1]) < max(mouth_left[1], mouth_right[1])
        assert face.score > 0.9


def test_no_face_in_flat_or_noise_images(float_detector):
    assert float_detector.detect(np.full((240, 320, 3), 127, np.uint8)) == []
    noise = np.random.default_rng(1).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    assert float_detector.detect(noise) == []


def test_min_face_size_limits_the_pyramid(lfw_root, float_detector):
    image = read_rgb(lfw_root / lfw.IMAGES_SUBDIR / "Aaron_Peirsol/Aaron_Peirsol_0001.jpg")
    assert detect_faces(image, float_detector.nets, CascadeConfig(min_face_size=40))  # no pyramid bug
    assert detect_faces(image, float_detector.nets, CascadeConfig(min_face_size=300)) == []
