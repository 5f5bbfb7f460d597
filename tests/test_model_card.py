"""The model card's training facts (scripts/write_model_card.py) and the candidate-weights keeper
(scripts/keep_candidate.py), on small run folders made here."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from maintainer_scripts import load_script


def make_run(folder: Path, sets: list[str], removed: int, steps: int) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"sets": [f"/scratch/aligned/{s}" for s in sets],
                                                    "out_dir": str(folder), "init_weights": "/scratch/w.h5"}))
    (folder / "log.jsonl").write_text(json.dumps({"step": steps // 2, "lfw_dev_accuracy": 0.97}) + "\n"
                                      + json.dumps({"step": steps, "loss": 0.1}) + "\n")
    (folder / "removed_duplicates.txt").write_text(f"{removed}\n")
    return folder


def test_run_stage_reduces_paths_and_reads_the_duplicates_it_removed(tmp_path):
    card = load_script("write_model_card")
    config, log = card.run_stage(make_run(tmp_path / "run", ["fairface.npz", "utkface.npz"], 2, 400))
    assert config["sets"] == ["fairface.npz", "utkface.npz"] and config["init_weights"] == "w.h5"
    assert config["steps"] == 400 and config["last_lfw_dev_accuracy"] == 0.97
    assert config["lfw_near_duplicates_removed"] == 2 and len(log) == 2


def test_training_data_names_every_set_of_the_chain_and_fairface_attribution():
    card = load_script("write_model_card")
    v5 = [{"sets": ["celeba_test.npz", "celeba_10k.npz", "utkface.npz"], "lfw_near_duplicates_removed": 2}]
    data = card.training_data(v5)
    assert len(data["sets"]) == 3 and "FairFace" not in data["licences"] and data["lfw_near_duplicates_removed"] == 2
    v6 = v5 + [{"sets": ["fairface.npz", "celeba_test.npz", "celeba_10k.npz", "utkface.npz"],
                "lfw_near_duplicates_removed": 3}]
    data = card.training_data(v6)
    assert len(data["sets"]) == 4 and any("FairFace" in s for s in data["sets"])
    assert "CC BY 4.0" in data["licences"] and "non-commercial" in data["licences"]
    assert data["lfw_near_duplicates_removed"] == 3  # the last stage's: it trained on every set


def test_keep_candidate_keeps_weights_projection_and_run_facts_with_sums(tmp_path):
    from edgeface.models.facenet import build_nns2
    from edgeface.training.train import checkpoint_projection

    student = build_nns2()
    run = make_run(tmp_path / "run", ["fairface.npz"], 0, 10)
    student.save_weights(str(run / "best_tail.weights.h5"))
    key = f"var_{len(student.trainable_variables)}"
    projection = np.random.default_rng(0).normal(size=(128, 192)).astype(np.float32)
    np.savez(run / "checkpoint.npz", var_0=np.zeros(3), **{key: projection}, opt_0=np.zeros(5), step=np.asarray(10))
    kept = tmp_path / "kept"
    load_script("keep_candidate").keep(run, "best_tail.weights.h5", kept)
    assert np.array_equal(checkpoint_projection(kept / "checkpoint.npz", student), projection)
    with np.load(kept / "checkpoint.npz") as state:
        assert sorted(state.files) == sorted([key, "step"])  # no optimiser state
    assert (kept / "student.weights.h5").read_bytes() == (run / "best_tail.weights.h5").read_bytes()
    sums = dict(line.split()[::-1] for line in (kept / "SHA256SUMS").read_text().splitlines())
    assert sorted(sums) == ["checkpoint.npz", "config.json", "log.jsonl", "removed_duplicates.txt",
                            "student.weights.h5"]
    assert all(hashlib.sha256((kept / n).read_bytes()).hexdigest() == h for n, h in sums.items())


def test_deployed_section_carries_the_tail_the_pairs_and_the_door_policy_of_the_reports():
    card = load_script("write_model_card")
    allpairs = {"embeddings": "E.npz", "genuine_pairs": 242257, "impostor_pairs": 87307271, "images_without_face": 1,
                "at_far": {"0.0001": {"tar": 0.8190123, "threshold": 0.9}, "1e-05": {"tar": 0.6381, "threshold": 0.8}}}
    result = {"accuracy_mean": 0.9752, "accuracy_std": 0.0084, "val": 0.8667, "auc": 0.99636, "eer": 0.0252, "far": 1e-3}
    compare = {"variant": "int8", "flip": True, "deployed_drop": {"accuracy_points": 0.12, "val_points": -1.4},
               "results": {"detector int8 + embedder int8": result, "detector float + embedder float": result}}
    row = {"threshold": 0.835, "frr_per_visit": 0.11, "stranger_visits_let_in": 8, "stranger_visits": 400000,
           "stranger_people_let_in": 1, "far_per_visit_upper_95": 3.6e-05, "far_per_visit_upper_95_by_person": 6e-05}
    policy = {"config": {"half": "calibration", "stranger_visits_per_household": 2000, "households": 200},
              "rule": "largest threshold whose far_per_visit_upper_95_by_person is under the target",
              "by_target": {"0.0001": {"1": dict(row, threshold=0.9), "4": row, "8": None}}}
    section = card.deployed_section(allpairs, policy)
    assert section["all_lfw_int8"]["tar_at_far"] == {"0.0001": 0.81901, "1e-05": 0.6381}
    assert section["all_lfw_int8"]["impostor_pairs"] == 87307271
    assert "all_lfw_float" not in section and "lfw_6000_pairs" not in section  # not measured: not claimed
    section = card.deployed_section(allpairs, policy, compare=compare)
    assert section["lfw_6000_pairs"]["results"]["detector int8 + embedder int8"]["accuracy_mean"] == 0.9752
    assert "far" not in section["lfw_6000_pairs"]["results"]["detector int8 + embedder int8"]
    door = section["door_policy"]["by_target_and_residents"]["0.0001"]
    assert door["4"] == {"threshold": 0.835, "resident_visits_refused": 0.11, "stranger_visits_let_in": "8 / 400000",
                         "stranger_people_let_in": 1, "far_per_visit_upper_95": 3.6e-05,
                         "far_per_visit_upper_95_by_person": 6e-05} and door["1"]["threshold"] == 0.9
    assert door["8"] is None  # no threshold that safe: said, not made up
    assert section["door_policy"]["protocol"].endswith(policy["rule"])
    with_float = card.deployed_section(allpairs, policy, dict(allpairs, embeddings="F.npz"))
    assert with_float["all_lfw_float"]["embeddings"] == "F.npz"
