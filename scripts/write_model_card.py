"""Write the NNS2 FaceNet model card (edgeface/weights/nns2_facenet.json) from measured facts.

Usage: python scripts/write_model_card.py [--after-card CARD.json] RUN_DIR [RUN_DIR ...] reports/eval_nns2.json
       python scripts/write_model_card.py --deployed --allpairs-int8 A.json --door-policy P.json
              [--allpairs-float F.json] [--compare C.json]
Parameters and MACs are counted from the model, LFW numbers are read from the `edgeface eval` report, the
training facts from the run folders (config.json, log.jsonl; several when each run warm-started from the one
before, oldest first), the float time per face measured here.

--after-card: the run folders continue the chain of an earlier card's weights (their first run warm-started
from them); that card's stages come first. Why: run folders are training-machine scratch and can be gone by
the time a later run ships, while the shipped card keeps what each of its stages was.

--deployed: add (or replace) the card's `deployed` section once the weights are converted and measured as the
lock runs them: TAR at FAR 1e-3..1e-6 on all of LFW (`edgeface eval-allpairs`; int8, and float beside it when
given), the 6,000 pairs through the int8 pipeline (`edgeface eval --compare`) and the door policy's price at its
security targets (`edgeface lock calibrate --policy-out`). Why in the card: these are the numbers a door is
bought on, and the card travels with the weights.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

try:  # an installed edgeface (editable or not); else this checkout's sources
    import edgeface.runtime  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from edgeface.household import policy_rule  # noqa: E402
from edgeface.runtime.fileio import atomic_write_json  # noqa: E402
from edgeface.weights import WEIGHTS_DIR  # noqa: E402
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling script, run as a file or a module
from record_operating_point import update_sums  # noqa: E402


def time_per_face(model) -> dict:
    import tensorflow as tf

    infer = tf.function(model)
    one = np.zeros((1, 96, 96, 3), np.float32)
    batch = np.zeros((64, 96, 96, 3), np.float32)
    for _ in range(3):
        infer(one), infer(batch)
    start = time.perf_counter()
    for _ in range(50):
        infer(one)
    single = (time.perf_counter() - start) / 50
    start = time.perf_counter()
    for _ in range(5):
        infer(batch)
    batched = (time.perf_counter() - start) / (5 * 64)
    return {"batch_1_ms": round(1000 * single, 2), "batch_64_ms_per_face": round(1000 * batched, 2),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, TensorFlow float32"}


def run_stage(run: Path) -> tuple[dict, list[dict]]:
    """One training run's settings (paths reduced to file names: they were the trainer's machine's) and log."""
    config = json.loads((run / "config.json").read_text())
    for key in ("sets", "out_dir", "init_weights"):
        value = config.get(key)
        if value:
            config[key] = [Path(v).name for v in value] if isinstance(value, list) else Path(value).name
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line.strip()]
    config["steps"] = log[-1]["step"] if log else None
    config["last_lfw_dev_accuracy"] = next((r["lfw_dev_accuracy"] for r in reversed(log) if "lfw_dev_accuracy" in r),
                                           None)
    removed = run / "removed_duplicates.txt"
    if removed.is_file():
        config["lfw_near_duplicates_removed"] = int(removed.read_text().strip())
    return config, log


# aligned set file (docs/TRAINING.md) -> what it is and where it is from
TRAINING_SETS = {
    "celeba_test.npz": "CelebA test-split crops (GitHub Trung-Jeager-2019/validation)",
    "celeba_10k.npz": "CelebA aligned first 10k (GitHub karthikSingireddy/cs389-hw4, celebA/)",
    "utkface.npz": "UTKFace aligned & cropped (GitHub mattans/AgeProgression, data/UTKFace/unlabeled/)",
    "fairface.npz": "FairFace, padding 0.25 (Karkkainen & Joo, WACV 2021; GitHub sumanvithaeadala/EthnicityDetection, "
                    "fair_face/train and fair_face/val)",
}


def training_data(stages: list[dict]) -> dict:
    """The sets any stage trained on, and the licences they bring (FairFace's CC BY asks for attribution)."""
    used = sorted({name for stage in stages for name in stage["sets"]}, key=list(TRAINING_SETS).index)
    licences = "CelebA and UTKFace: non-commercial research use only; these weights inherit that restriction."
    if "fairface.npz" in used:
        licences += (" FairFace: CC BY 4.0, attribution: K. Karkkainen and J. Joo, \"FairFace: Face Attribute Dataset"
                     " for Balanced Race, Gender, and Age\", WACV 2021.")
    licences += " The MobileFaceNet teacher is Apache-2.0."
    return {"sets": [TRAINING_SETS[name] for name in used], "licences": licences,
            "lfw_near_duplicates_removed": stages[-1].get("lfw_near_duplicates_removed")}


def allpairs_tail(report: dict) -> dict:
    """TAR at each FAR of an `edgeface eval-allpairs` report, with the pair counts they rest on."""
    return {"embeddings": report["embeddings"], "genuine_pairs": report["genuine_pairs"],
            "impostor_pairs": report["impostor_pairs"], "images_without_face": report["images_without_face"],
            "tar_at_far": {far: round(point["tar"], 5) for far, point in report["at_far"].items()}}


def deployed_section(allpairs_int8: dict, policy: dict, allpairs_float: dict | None = None,
                     compare: dict | None = None) -> dict:
    """The card's numbers for the weights as the lock runs them (int8 models, its operating point); the 6,000
    pairs through the int8 pipeline only when an `eval --compare` of these weights is given."""
    door = {target: {residents: None if row is None else {  # None: no threshold of the sweep is that safe
                         "threshold": row["threshold"], "resident_visits_refused": row["frr_per_visit"],
                         "stranger_visits_let_in": f"{row['stranger_visits_let_in']} / {row['stranger_visits']}",
                         "stranger_people_let_in": row["stranger_people_let_in"],
                         "far_per_visit_upper_95": row["far_per_visit_upper_95"],
                         "far_per_visit_upper_95_by_person": row["far_per_visit_upper_95_by_person"]}
                     for residents, row in by_size.items()}
            for target, by_size in policy["by_target"].items()}
    section = {"all_lfw_int8": allpairs_tail(allpairs_int8),
               "door_policy": {"protocol": f"edgeface lock calibrate, {policy['config']['half']} half of LFW's people, "
                                           f"{policy['config']['stranger_visits_per_household']} stranger visits per "
                                           f"household of {policy['config']['households']}; "
                                           + policy_rule(policy),
                               "by_target_and_residents": door}}
    if allpairs_float is not None:
        section["all_lfw_float"] = allpairs_tail(allpairs_float)
    if compare is not None:
        keep = ("accuracy_mean", "accuracy_std", "val", "auc", "eer")
        section["lfw_6000_pairs"] = {
            "protocol": f"edgeface eval --compare ({compare['variant']} models, {'flip' if compare['flip'] else 'no flip'})",
            "results": {name: {k: round(result[k], 5) for k in keep} for name, result in compare["results"].items()},
            "deployed_drop_points": compare["deployed_drop"]}
    return section


def add_deployed(args: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="write_model_card.py --deployed")
    for name, required in (("--allpairs-int8", True), ("--door-policy", True), ("--allpairs-float", False),
                           ("--compare", False)):
        parser.add_argument(name, required=required)
    given = parser.parse_args(args)
    read = lambda path: json.loads(Path(path).read_text()) if path else None  # noqa: E731
    card_path = WEIGHTS_DIR / "nns2_facenet.json"
    card = json.loads(card_path.read_text())
    card["deployed"] = deployed_section(read(given.allpairs_int8), read(given.door_policy),
                                        read(given.allpairs_float), read(given.compare))
    atomic_write_json(card_path, card)
    update_sums("nns2_facenet.json")
    print(json.dumps(card["deployed"]["all_lfw_int8"]["tar_at_far"]))


def main(*args: str) -> None:
    from edgeface.models.facenet import PREPROCESSING, build_nns2, count_macs

    earlier: list[dict] = []
    if args and args[0] == "--after-card":
        earlier = json.loads(Path(args[1]).read_text())["recipe"]["stages"]
        args = args[2:]
    *run_dirs, eval_report = args
    stages = [run_stage(Path(d)) for d in run_dirs]
    log = stages[-1][1]
    report = json.loads(Path(eval_report).read_text())
    model = build_nns2()
    model.load_weights(str(WEIGHTS_DIR / "nns2_facenet.weights.h5"))
    keep = ("accuracy_mean", "accuracy_std", "val", "val_std", "far", "auc", "eer", "euclidean_threshold_accuracy",
            "euclidean_threshold_val")
    card = {
        "name": "edgeface NNS2 FaceNet",
        "architecture": "Inception-style (1x1 | 1x1-dw3x3 | 1x1-dw3x3-dw3x3 | maxpool-1x1 branches, residual), "
                        "ReLU6, batch norm, global depthwise conv head, 1536-wide hidden FC, 128-D linear "
                        "embedding, L2 normalisation (edgeface/models/facenet.py)",
        "parameters": int(model.count_params()),
        "macs_per_face": int(count_macs(model)),
        "input": [96, 96, 3],
        "preprocessing": PREPROCESSING,
        "embedding": "128-D, L2-normalised, compared by Euclidean distance",
        "training_data": training_data(earlier + [config for config, _ in stages]),
        "recipe": {"command": "scripts/train_nns2.sh RAW_DIR WORK_DIR EPOCHS, then warm-started runs "
                              "(edgeface train run --init-weights; docs/TRAINING.md)",
                   "stages": earlier + [config for config, _ in stages]},
        "lfw": {
            "protocol": "edgeface eval --embedder nns2: float MTCNN, 5-point alignment, 6,000 View-2 pairs, 10 folds",
            "plain": {k: report["results"]["nns2"][k] for k in keep},
            "flip": {k: report["results"]["nns2 + flip"][k] for k in keep},
            "images_without_face": report["images_without_face"],
        },
        "last_lfw_dev_accuracy": next((r["lfw_dev_accuracy"] for r in reversed(log) if "lfw_dev_accuracy" in r), None),
        "time_per_face": time_per_face(model),
        "known_limits": [
            "trained on the public face sets above: weaker on faces unlike them (children, heavy occlusion, "
            "infrared cameras)",
            "a distilled student: it inherits MobileFaceNet's biases and cannot exceed it",
            "LFW accuracy is a benchmark number, not a false-accept guarantee at a real door; use the "
            "FAR = 1e-3 operating point and multi-frame confirmation",
        ],
    }
    atomic_write_json(WEIGHTS_DIR / "nns2_facenet.json", card)
    update_sums("nns2_facenet.weights.h5")
    update_sums("nns2_facenet.json")
    print(json.dumps({k: card[k] for k in ("parameters", "macs_per_face", "lfw", "time_per_face")}, indent=1))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--deployed"]:
        add_deployed(sys.argv[2:])
    else:
        main(*sys.argv[1:])
