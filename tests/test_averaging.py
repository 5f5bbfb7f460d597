"""Weight averaging across a warm-restart chain (edgeface/training/averaging.py, scripts/average_weights.py)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow", reason="averaging builds the NNS2 (the toolchain install: TensorFlow)")
from edgeface.training.averaging import average_students, batch_norm_layers, recompute_batch_norm  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def saved_students(folder, count=2):
    """`count` NNS2 weight files whose every variable is filled with one distinct random draw."""
    from edgeface.models.facenet import build_nns2

    model = build_nns2()
    rng = np.random.default_rng(3)
    paths, values = [], []
    for i in range(count):
        drawn = [rng.normal(size=v.shape).astype(np.float32) for v in model.weights]
        for variable, value in zip(model.weights, drawn):
            variable.assign(np.abs(value) if "variance" in variable.path else value)
        path = folder / f"w{i}.weights.h5"
        model.save_weights(str(path))
        paths.append(path)
        values.append([v.numpy() for v in model.weights])
    return paths, values


def test_the_average_is_the_mean_of_every_variable_statistics_included(tmp_path):
    paths, values = saved_students(tmp_path, 3)
    model = average_students(paths)
    for i, variable in enumerate(model.weights):
        np.testing.assert_allclose(variable.numpy(), np.mean([v[i] for v in values], axis=0), rtol=1e-5, atol=1e-6)
    weighted = average_students(paths, [1.0, 0.0, 3.0])
    for i, variable in enumerate(weighted.weights):
        np.testing.assert_allclose(variable.numpy(), 0.25 * values[0][i] + 0.75 * values[2][i], rtol=1e-5, atol=1e-6)


def test_averaging_refuses_what_it_cannot_average(tmp_path):
    paths, _ = saved_students(tmp_path, 2)
    with pytest.raises(ValueError, match="at least two"):
        average_students(paths[:1])
    with pytest.raises(ValueError, match="one non-negative weight per file"):
        average_students(paths, [1.0])
    with pytest.raises(FileNotFoundError, match="no such weights file"):
        average_students([paths[0], tmp_path / "missing.weights.h5"])


def test_recomputed_batch_norm_statistics_are_the_mean_over_the_batches_whatever_came_before(tmp_path):
    from tensorflow import keras

    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.BatchNormalization()(inputs))
    layer = batch_norm_layers(model)[0]
    layer.moving_mean.assign(np.full(4, 100.0, np.float32))
    rng = np.random.default_rng(0)
    batches = [rng.normal(loc=i, size=(32, 4)).astype(np.float32) for i in range(5)]
    assert recompute_batch_norm(model, iter(batches)) == 5
    np.testing.assert_allclose(layer.moving_mean.numpy(), np.mean([b.mean(axis=0) for b in batches], axis=0),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), np.mean([b.var(axis=0) for b in batches], axis=0),
                               rtol=1e-4, atol=1e-4)
    assert layer.momentum == pytest.approx(0.99)  # the layer's own momentum is back


def test_the_script_writes_the_average_atomically(tmp_path):
    paths, values = saved_students(tmp_path, 2)
    out = tmp_path / "mean.weights.h5"
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "average_weights.py"), str(out), *map(str, paths)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "mean of 2 weight files" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mean.weights.h5", "w0.weights.h5", "w1.weights.h5"]
    model = average_students([out, out])
    np.testing.assert_allclose(model.weights[0].numpy(), (values[0][0] + values[1][0]) / 2, rtol=1e-5, atol=1e-6)
