"""Our float MTCNN against the PyPI `mtcnn` 1.0.0 package (installed by the dev extra) on LFW pair images.

CI checks every 5th of the 7,701 pair images (1,541) to stay within its time; `edgeface check-mtcnn` runs all.
"""

import pytest


def test_float_mtcnn_agrees_with_reference_package(lfw_root):
    pytest.importorskip("mtcnn", reason="the reference package comes with the dev extra: pip install '.[dev]'")
    from edgeface.faithfulness import run_check

    report = run_check(lfw_root, stride=5, progress=False)
    assert report["images"] == 1541
    assert report["found_rate"] >= 0.999
    assert report["iou_ge_095_rate"] >= 0.99, report["iou_below_095"][:20]
