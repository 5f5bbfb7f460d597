"""`edgeface train run --weight-softmax`: the class weights start at each identity's mean embedding."""

import numpy as np
import pytest

pytest.importorskip("tensorflow", reason="training needs the toolchain install (TensorFlow)")
from test_train_resume import tiny_set, train_steps  # noqa: E402

from edgeface.models.facenet import model_input  # noqa: E402
from edgeface.training.train import Trainer, TrainConfig  # noqa: E402


def test_identity_centres_are_the_mean_unit_embeddings_and_cosface_trains(tmp_path):
    config = TrainConfig(sets=[str(tiny_set(tmp_path))], out_dir=str(tmp_path / "run"), batch_size=8, epochs=1,
                         learning_rate=1e-3, warmup_steps=1, bfloat16=False, weight_softmax=1.0, softmax_margin=0.35)
    trainer = Trainer(config)
    centres = trainer.identity_centres(progress=False)
    assert centres.shape == (128, trainer.data.num_classes)
    embeddings = trainer.student(model_input(trainer.data.images), training=False).numpy()
    for c in range(trainer.data.num_classes):
        mean = embeddings[trainer.data.classes == c].mean(axis=0)
        np.testing.assert_allclose(centres[:, c], mean / np.linalg.norm(mean), atol=1e-5)

    trainer.class_weights.assign(centres)
    before = trainer.class_weights.numpy().copy()
    train_steps(trainer, 2)  # the first step is the warm-up's, at learning rate 0
    parts = trainer._train_step(*trainer.batch(np.arange(8)))
    assert np.isfinite(float(parts["softmax"])) and float(parts["softmax"]) > 0
    assert not np.array_equal(trainer.class_weights.numpy(), before)  # the class weights are trained too
