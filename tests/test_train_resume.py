"""`edgeface train run --resume` continues a run exactly: batch-norm statistics included, best files kept."""

import json

import numpy as np
import pytest

pytest.importorskip("tensorflow", reason="training needs the toolchain install (TensorFlow)")
from edgeface.runtime.fileio import atomic_save_npz  # noqa: E402
from edgeface.training.dedup import duplicates_path  # noqa: E402
from edgeface.training.teachers import teacher_cache_path, teacher_fingerprint  # noqa: E402
from edgeface.training.train import BestWeights, LossWindow, Trainer, TrainConfig  # noqa: E402


def tiny_set(folder, count=16):
    """Aligned crops with identities, a teacher cache and a (clean) LFW near-duplicate record, as prepared sets have."""
    rng = np.random.default_rng(7)
    path = folder / "tiny.npz"
    images = rng.integers(0, 256, (count, 112, 112, 3), dtype=np.uint8)
    np.savez(path, images=images, identity=np.arange(count) // 2)
    targets = rng.normal(size=(2, count, 192)).astype(np.float32)
    np.savez(teacher_cache_path(path, "mobilefacenet"), plain=targets[0], flipped=targets[1], count=np.asarray(count),
             fingerprint=np.asarray(teacher_fingerprint("mobilefacenet")))
    atomic_save_npz(duplicates_path(path), drop=np.zeros(0, np.int64), nearest=np.zeros(0), threshold=np.asarray(0.9))
    return path


def train_steps(trainer, steps):
    for _ in range(steps):
        index = np.sort(np.arange(trainer.config.batch_size) + trainer.step)
        trainer._train_step(*trainer.batch(index))
        trainer.step += 1


def test_resume_restores_the_batch_norm_statistics(tmp_path):
    config = TrainConfig(sets=[str(tiny_set(tmp_path))], out_dir=str(tmp_path / "run"), batch_size=8, epochs=4,
                         learning_rate=1e-3, warmup_steps=1, bfloat16=False)
    first = Trainer(config)
    train_steps(first, 3)
    first.save_checkpoint()
    saved = first.student.get_weights()
    statistics = [v.numpy() for v in first.student.non_trainable_variables]
    assert statistics and any(np.abs(s - np.round(s)).max() > 0 for s in statistics)  # moved off their 0/1 start

    resumed = Trainer(config)
    resumed.load_checkpoint()
    assert resumed.step == 3
    for ours, theirs in zip(resumed.student.get_weights(), saved):
        np.testing.assert_array_equal(ours, theirs)

    # a checkpoint from before statistics were saved takes them from student.weights.h5, written with it
    with np.load(tmp_path / "run" / "checkpoint.npz") as state:
        older = {k: state[k] for k in state.files if not k.startswith("stat_")}
    atomic_save_npz(tmp_path / "run" / "checkpoint.npz", **older)
    from_older = Trainer(config)
    from_older.load_checkpoint()
    for ours, theirs in zip(from_older.student.get_weights(), saved):
        np.testing.assert_array_equal(ours, theirs)


def test_best_weights_survive_a_resume(tmp_path):
    saved = []
    best = BestWeights(tmp_path, resumed=False)
    assert best.offer("best_tail", [0.75, 0.57], saved.append)
    assert not best.offer("best_tail", [0.75, 0.56], saved.append)  # ties at 1e-4 are broken at 1e-5
    assert json.loads((tmp_path / "best.json").read_text()) == {"best_tail": [0.75, 0.57]}

    after_resume = BestWeights(tmp_path, resumed=True)
    assert not after_resume.offer("best_tail", [0.72, 0.55], saved.append)  # worse than before the stop: kept
    assert after_resume.offer("best_tail", [0.76, 0.50], saved.append)
    assert saved == [tmp_path / "best_tail.weights.h5"] * 2 and after_resume.score("best_tail") == 0.76
    assert BestWeights(tmp_path, resumed=False).score("best_tail") == -1.0  # a new run starts from nothing


def test_logged_losses_are_means_over_the_steps_the_window_holds():
    window = LossWindow()
    for _ in range(25):  # the first window after a resume at step 125 with log_every 50
        window.add({"embedding": 0.14, "total": 0.23}, 128)
    record = window.close()
    assert record["embedding"] == pytest.approx(0.14) and record["total"] == pytest.approx(0.23)
    assert record["images_per_s"] > 0
    window.add({"embedding": 0.1}, 128)
    assert window.close()["embedding"] == pytest.approx(0.1)  # a closed window starts again


def test_bfloat16_defaults_to_what_the_cpu_computes_natively():
    from edgeface.runtime.cpu import native_bfloat16

    assert TrainConfig().bfloat16 == native_bfloat16()  # the default is resolved, and recorded in config.json
    assert TrainConfig(bfloat16=True).bfloat16 and not TrainConfig(bfloat16=False).bfloat16


def test_a_run_kept_mid_way_continues_its_schedule_with_fresh_moments(tmp_path):
    from dataclasses import asdict

    from edgeface.runtime.errors import UsageError
    from edgeface.runtime.fileio import atomic_write_json

    config = TrainConfig(sets=[str(tiny_set(tmp_path))], out_dir=str(tmp_path / "run"), batch_size=8, epochs=8,
                         learning_rate=1e-3, warmup_steps=2, bfloat16=False)
    first = Trainer(config)  # 16 crops / 8 = 2 steps an epoch: 16 steps
    train_steps(first, 5)
    first.save_checkpoint()
    atomic_write_json(tmp_path / "run" / "config.json", asdict(config))
    kept = tmp_path / "run" / "student.weights.h5"

    later = TrainConfig(**{**asdict(config), "out_dir": str(tmp_path / "run2"), "init_weights": str(kept),
                           "init_projection": str(tmp_path / "run" / "checkpoint.npz"), "continue_schedule": True})
    continued = Trainer(later)
    assert continued.start_step == continued.step == 5 and continued.total_steps == 16
    for ours, theirs in zip(continued.student.get_weights(), first.student.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    schedule, base = continued.optimizer._learning_rate, first.optimizer._learning_rate
    assert float(continued.optimizer.iterations) == 0  # Adam's moments and bias correction start afresh
    assert float(schedule(0)) == pytest.approx(float(base(5)) / 2)  # ramped up again over the warm-up steps
    for step in (1, 4, 10):
        assert float(schedule(step)) == pytest.approx(float(base(5 + step)))
    assert float(base(5)) < config.learning_rate  # already on the decay: not the fresh schedule's peak

    with pytest.raises(UsageError, match="--learning-rate 0.001"):  # another schedule cannot continue this one
        Trainer(TrainConfig(**{**asdict(later), "learning_rate": 5e-4}))
    with pytest.raises(UsageError, match="nothing to continue"):
        Trainer(TrainConfig(**{**asdict(later), "epochs": 2, "init_projection": str(_without_config(tmp_path))}))
    with pytest.raises(UsageError, match="needs --init-weights"):
        TrainConfig(continue_schedule=True)


def _without_config(tmp_path):
    """The kept checkpoint alone (no config.json beside it), as from a hand-copied folder."""
    import shutil

    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copyfile(tmp_path / "run" / "checkpoint.npz", alone / "checkpoint.npz")
    return alone / "checkpoint.npz"
