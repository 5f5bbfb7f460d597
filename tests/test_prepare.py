"""`edgeface train prepare`: a face set aligned into a crop cache by worker processes (one shard each), with the
images it could not use listed by name, and the smallest face it searches for passed on to every worker."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from clirunner import run_cli

pytestmark = pytest.mark.lfw


@pytest.fixture(scope="module")
def face_set(tmp_path_factory, lfw_root):
    """Three LFW photos in nested folders (any layout is read), a corrupt file and a blank image: no face."""
    import cv2

    folder = tmp_path_factory.mktemp("faces")
    (folder / "a" / "b").mkdir(parents=True)
    people = lfw_root / "lfw-deepfunneled"
    shutil.copy(people / "Aaron_Peirsol" / "Aaron_Peirsol_0001.jpg", folder / "a" / "1.jpg")
    shutil.copy(people / "Aaron_Peirsol" / "Aaron_Peirsol_0002.jpg", folder / "a" / "b" / "2.jpg")
    shutil.copy(people / "Colin_Powell" / "Colin_Powell_0001.jpg", folder / "3.jpg")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    cv2.imwrite(str(folder / "blank.png"), np.full((200, 200, 3), 128, np.uint8))
    return folder


def test_prepare_aligns_every_face_in_two_workers_and_names_what_it_could_not_use(face_set, tmp_path):
    out = tmp_path / "set.npz"
    result = run_cli("train", "prepare", str(face_set), str(out), "--jobs", "2")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "aligned=3 failed=2" in result.stdout
    cache = np.load(out)
    assert cache["images"].shape == (3, 112, 112, 3) and cache["images"].dtype == np.uint8
    assert sorted(cache["files"]) == ["3.jpg", "a/1.jpg", "a/b/2.jpg"]
    assert sorted(cache["failed"]) == ["blank.png", "broken.jpg"]
    assert list(cache["identity"]) == [-1, -1, -1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set.npz"]  # the workers' shards are merged and gone


def test_the_smallest_face_searched_reaches_the_workers(face_set, tmp_path):
    """LFW's faces are about 100 px: searched from 300 px up (in the padded image), none is found."""
    out = tmp_path / "set.npz"
    result = run_cli("train", "prepare", str(face_set), str(out), "--jobs", "2", "--min-face-size", "300")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "aligned=0 failed=5" in result.stdout
    refused = run_cli("train", "prepare", str(face_set), str(out), "--min-face-size", "8")
    assert refused.returncode != 0 and "min-face-size" in refused.stderr
