"""The command line as a user meets it: no TensorFlow for --help, clear errors and exit codes on bad input."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edgeface import lfw
from clirunner import run_cli



def test_help_does_not_import_tensorflow(tmp_path):
    result = run_cli("--help", block_tensorflow=True, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    for command in ("align", "eval", "compare", "detect", "train"):
        assert command in result.stdout


def test_a_missing_optional_package_is_one_line_not_a_traceback(tmp_path):
    # No LFW either (as in a fresh wheel install): the package is what the user is told about first.
    result = run_cli("check-mtcnn", "--lfw", str(tmp_path / "no-lfw"), "--limit", "1", block=("mtcnn",),
                     tmp_path=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "check-mtcnn needs the reference package" in result.stderr and "Traceback" not in result.stderr
    picture = tmp_path / "door.png"
    cv2.imwrite(str(picture), np.full((120, 160, 3), 90, np.uint8))
    result = run_cli("detect", str(picture), block_tensorflow=True, tmp_path=tmp_path)
    assert result.returncode == 2 and "needs the toolchain" in result.stderr and "Traceback" not in result.stderr


def test_only_user_errors_are_one_line_messages():
    """`guarded` turns an EdgefaceError into `error: ...` and exit 2; a bug's ValueError keeps its traceback."""
    import pytest
    import typer

    from edgeface.cli import guarded
    from edgeface.runtime.errors import UsageError

    @guarded
    def user_mistake():
        raise UsageError("--fps must be a finite number > 0")

    @guarded
    def our_bug():
        return np.stack([])

    with pytest.raises(typer.Exit) as stopped:
        user_mistake()
    assert stopped.value.exit_code == 2
    with pytest.raises(ValueError, match="need at least one array"):
        our_bug()


def test_compare_rejects_unreadable_and_faceless_images(tmp_path, lfw_root):
    face = lfw_root / lfw.IMAGES_SUBDIR / "Aaron_Peirsol/Aaron_Peirsol_0001.jpg"
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image at all")
    result = run_cli("compare", str(face), str(broken))
    assert result.returncode == 2 and "broken.jpg: not a readable image" in result.stderr
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((200, 200, 3), 90, np.uint8))
    result = run_cli("compare", str(face), str(blank))
    assert result.returncode == 2 and "blank.png: no face found" in result.stderr
    result = run_cli("compare", str(face), str(tmp_path / "missing.jpg"))
    assert result.returncode == 2 and "no such image file" in result.stderr


def test_compare_same_and_different_people(lfw_root):
    images = lfw_root / lfw.IMAGES_SUBDIR
    a1, a2 = images / "Aaron_Peirsol/Aaron_Peirsol_0001.jpg", images / "Aaron_Peirsol/Aaron_Peirsol_0002.jpg"
    other = images / "Abdullah_Gul/Abdullah_Gul_0001.jpg"
    result = run_cli("compare", str(a1), str(a2), str(other))
    assert result.returncode == 0, result.stderr
    assert "Aaron_Peirsol_0001.jpg vs Aaron_Peirsol_0002.jpg" in result.stdout
    lines = {line.split(":")[0]: line for line in result.stdout.splitlines() if " vs " in line}
    assert lines["Aaron_Peirsol_0001.jpg vs Aaron_Peirsol_0002.jpg"].endswith("same person")
    assert lines["Aaron_Peirsol_0001.jpg vs Abdullah_Gul_0001.jpg"].endswith("different people")


def test_align_folder_resumes_and_lists_failures(tmp_path, lfw_root):
    source = tmp_path / "in"
    for name in ("Aaron_Peirsol/Aaron_Peirsol_0001.jpg", "Aaron_Peirsol/Aaron_Peirsol_0002.jpg"):
        (source / Path(name).parent).mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes((lfw_root / lfw.IMAGES_SUBDIR / name).read_bytes())
    (source / "Nobody").mkdir()
    cv2.imwrite(str(source / "Nobody/Nobody_0001.png"), np.full((120, 120, 3), 200, np.uint8))
    (source / "Nobody/Nobody_0002.jpg").write_bytes(b"")
    out = tmp_path / "out"
    result = run_cli("align", str(source), str(out), "--image-size", "160", "--margin", "32")
    assert result.returncode == 0, result.stderr
    assert "aligned=2" in result.stdout and "failed=2" in result.stdout
    aligned = cv2.imread(str(out / "Aaron_Peirsol/Aaron_Peirsol_0001.png"))
    assert aligned.shape == (160, 160, 3)
    failed = (out / "failed.txt").read_text()
    assert "Nobody_0001.png" in failed and "no face found" in failed and "Nobody_0002.jpg" in failed
    again = run_cli("align", str(source), str(out), "--template", "112")
    assert "skipped_existing=2" in again.stdout and "aligned=0" in again.stdout


def test_convert_refuses_a_range_clip_that_is_not_a_small_fraction(tmp_path):
    for value in ("-0.001", "0.5"):
        result = run_cli("convert", "--int8", "--mtcnn-range-clip", value, "--out", str(tmp_path / "m"),
                         block_tensorflow=True, tmp_path=tmp_path)
        assert result.returncode == 2 and "--mtcnn-range-clip" in result.stderr, result.stderr
        assert not (tmp_path / "m").exists()


def test_convert_refuses_missing_or_altered_weights_before_any_work(tmp_path):
    """`convert` exits non-zero, in one line, and leaves no folder when the NNS2 weights it must export are
    missing or altered (it used to print "skipped" and exit 0 with a folder the lock cannot run from)."""
    import subprocess
    import sys

    weights = tmp_path / "weights"
    weights.mkdir()
    from edgeface.weights import WEIGHTS_DIR

    (weights / "SHA256SUMS").write_text((WEIGHTS_DIR / "SHA256SUMS").read_text())
    code = ("import sys, pathlib, edgeface.weights as w\n"
            f"w.WEIGHTS_DIR = pathlib.Path({str(weights)!r})\n"
            "from edgeface.cli import app\n"
            "app(['convert', '--int8', '--out', 'X'])")
    for state in ("missing", "altered"):
        if state == "altered":
            (weights / "nns2_facenet.weights.h5").write_bytes(b"not the weights")
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
        assert result.returncode == 2, result.stderr[-2000:]
        assert result.stderr.startswith("error: ") and "nns2_facenet.weights.h5" in result.stderr
        assert ("missing" if state == "missing" else "does not match") in result.stderr
        assert "Traceback" not in result.stderr
        assert not (tmp_path / "X").exists() and not (tmp_path / "X.incomplete").exists()


def test_convert_refuses_to_replace_a_folder_it_did_not_write(tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "holiday.jpg").write_bytes(b"precious")
    result = run_cli("convert", "--int8", "--out", str(tmp_path / "photos"), cwd=tmp_path)
    assert result.returncode == 2 and "not a models folder" in result.stderr
    assert (tmp_path / "photos" / "holiday.jpg").read_bytes() == b"precious"


def test_an_unreadable_weights_file_is_a_weights_error(tmp_path, monkeypatch):
    """chmod 000 cannot be simulated as root (CI runs as root), so the read itself fails here."""
    import pytest

    from edgeface import weights

    def denied(path):
        raise PermissionError(13, "Permission denied", str(path))

    weights.checked_path.cache_clear()
    monkeypatch.setattr(weights, "sha256_file", denied)
    with pytest.raises(weights.WeightsError, match="cannot be read .Permission denied"):
        weights.checked_path("nns2_facenet.weights.h5")
    weights.checked_path.cache_clear()


def test_compare_stage_options_are_checked():
    import pytest

    from edgeface.evaluate import parse_stages
    from edgeface.runtime.errors import UsageError

    assert parse_stages(["pnet=fp32", "rnet=dynamic"]) == {"pnet": "fp32", "rnet": "dynamic"}
    for bad in ("qnet=fp32", "pnet=float", "pnet"):
        with pytest.raises(UsageError, match="STAGE=VARIANT"):
            parse_stages([bad])
