"""`edgeface train run --fused-student`: the student is distilled in the mode the lock runs it, mirror-fused."""

import numpy as np
import pytest

pytest.importorskip("tensorflow", reason="training needs the toolchain install (TensorFlow)")
from edgeface.runtime.embedder import fuse_mirror  # noqa: E402
from edgeface.runtime.errors import UsageError  # noqa: E402
from edgeface.training.train import Trainer, TrainConfig  # noqa: E402
from test_train_resume import tiny_set  # noqa: E402


def test_fused_student_pairs_each_view_with_its_mirror_and_distils_their_fused_embedding(tmp_path):
    config = TrainConfig(sets=[str(tiny_set(tmp_path))], out_dir=str(tmp_path / "run"), batch_size=8, epochs=2,
                         learning_rate=1e-3, warmup_steps=1, bfloat16=False, mirror_fused_targets=True,
                         fused_student=True)
    trainer = Trainer(config)
    assert trainer.steps_per_epoch == 16 // 4  # 4 crops a step, each passing the student twice
    index = np.array([1, 4, 6, 9])
    images, targets, labels = trainer.batch(index)
    assert images.shape[0] == 8 and len(targets) == len(labels) == 4
    np.testing.assert_array_equal(images[4:], images[:4, :, ::-1])  # the second half mirrors the first

    # the step's embedding loss is that of the fused embedding: reproduced by hand from the same forward pass
    halves = trainer.student(images, training=True).numpy()
    fused = fuse_mirror(*(h / np.linalg.norm(h, axis=1, keepdims=True) for h in (halves[:4], halves[4:])))
    projected = trainer.projection(fused).numpy()
    cosine = np.sum(projected / np.linalg.norm(projected, axis=1, keepdims=True)
                    * targets / np.linalg.norm(targets, axis=1, keepdims=True), axis=1)
    before = [w.copy() for w in trainer.student.get_weights()]
    parts = trainer._train_step(images, targets, labels)
    assert float(parts["embedding"]) == pytest.approx(float(np.mean(1 - cosine)), abs=1e-4)
    assert any(not np.array_equal(a, b) for a, b in zip(before, trainer.student.get_weights()))


@pytest.mark.parametrize("settings", [dict(mirror_fused_targets=False),
                                      dict(online_teacher=True, mirror_fused_targets=True),
                                      dict(mirror_fused_targets=True, batch_size=7)])
def test_fused_student_refuses_what_it_cannot_pair(tmp_path, settings):
    with pytest.raises(UsageError, match="--fused-student"):
        TrainConfig(sets=[], out_dir=str(tmp_path), bfloat16=False, fused_student=True, **settings)
