"""export-embeddings, cluster and identify: scoring and classifier logic on made-up vectors, the commands on LFW."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from edgeface import lfw
from edgeface.clustering import cluster_vectors, pairwise_scores
from edgeface.identify import UNKNOWN, load_identity_model, train_identity_model
from clirunner import run_runtime_cli


def test_pairwise_and_bcubed_scores_on_a_hand_case():
    truth = np.array([0, 0, 0, 1, 1])
    predicted = np.array([0, 0, 1, 1, 1])
    scores = pairwise_scores(truth, predicted)
    # same-cluster ordered pairs: {0,1} x2, {2,3,4} x6 = 8; of them truly same: (0,1),(1,0),(3,4),(4,3) = 4
    assert scores["pairwise_precision"] == pytest.approx(4 / 8)
    # truly same ordered pairs: {0,1,2} x6 + {3,4} x2 = 8; found 4
    assert scores["pairwise_recall"] == pytest.approx(4 / 8)
    # BCubed precision per item: 1, 1, 1/3, 2/3, 2/3 → mean 11/15
    assert scores["bcubed_precision"] == pytest.approx(11 / 15)
    perfect = pairwise_scores(truth, truth)
    assert perfect["pairwise_f1"] == pytest.approx(1.0) and perfect["bcubed_f1"] == pytest.approx(1.0)
    # noise points count as singletons: all-noise has perfect precision and poor recall
    noise = pairwise_scores(truth, np.full(5, -1))
    assert noise["bcubed_precision"] == pytest.approx(1.0) and noise["pairwise_recall"] == 0.0


def blobs(centres: int, per: int, spread: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(centres, 128))
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    vectors = np.repeat(means, per, axis=0) + rng.normal(0, spread, (centres * per, 128))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True), np.repeat(np.arange(centres), per)


@pytest.mark.parametrize("method", ["agglomerative", "dbscan"])
def test_clustering_recovers_separated_people_and_sends_loners_to_noise(method):
    vectors, truth = blobs(4, 6, 0.03)
    loner = -vectors[:1]  # far from everyone
    labels = cluster_vectors(np.concatenate([vectors, loner]), 0.8, 2, method)
    assert labels[-1] == -1
    assert labels.max() + 1 == 4
    assert pairwise_scores(truth, labels[:-1])["pairwise_f1"] == pytest.approx(1.0)
    sizes = np.bincount(labels[labels >= 0])
    assert list(sizes) == sorted(sizes, reverse=True)  # person_000 is the largest cluster


def test_identity_model_names_known_people_and_refuses_strangers(tmp_path):
    vectors, truth = blobs(3, 8, 0.05)
    names = ["ann", "bob", "cy"]
    model = train_identity_model(vectors[::2], [names[t] for t in truth[::2]], threshold=0.8, model_id="m")
    answers = model.predict(vectors[1::2])
    assert [a for a, _ in answers] == [names[t] for t in truth[1::2]]
    strangers, _ = blobs(2, 3, 0.05, seed=99)
    assert all(a == UNKNOWN for a, _ in model.predict(strangers))
    path = tmp_path / "who.npz"
    model.save(path)
    loaded = load_identity_model(path)
    assert loaded.predict(vectors[1::2]) == answers
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="not an edgeface identity model"):
        load_identity_model(path)
    with pytest.raises(ValueError, match="two people"):
        train_identity_model(vectors[:3], ["ann"] * 3, 0.8, "m")


# --- the commands on a few LFW people ----------------------------------------------------------------------
PEOPLE = {"Colin_Powell": 6, "Gloria_Macapagal_Arroyo": 6, "Jean_Chretien": 6}


def lfw_subset(root: Path, folder: Path, labelled: bool, start: int = 1) -> list[Path]:
    copied = []
    for person, count in PEOPLE.items():
        target = folder / person if labelled else folder
        target.mkdir(parents=True, exist_ok=True)
        for n in range(start, start + count):
            source = root / lfw.IMAGES_SUBDIR / person / f"{person}_{n:04d}.jpg"
            copied.append(Path(shutil.copy(source, target / source.name)))
    return copied


def test_export_embeddings_writes_arrays_and_resumes(models_dir, lfw_root, tmp_path):
    from edgeface.export_embeddings import export_embeddings, partial_path
    from edgeface.runtime.pipeline import open_runtime

    folder = tmp_path / "people"
    lfw_subset(lfw_root, folder, labelled=True)
    (folder / "Colin_Powell" / "blank.png").write_bytes(b"")  # listed under no_face with its reason
    pipeline = open_runtime(models_dir, "int8")

    class Interrupting:
        def __init__(self, inner, after):
            self.inner, self.after, self.calls = inner, after, 0

        def __getattr__(self, name):  # crops, embed_crops, embedder: the real pipeline's
            return getattr(self.inner, name)

        def detect(self, image):
            self.calls += 1
            if self.calls > self.after:
                raise KeyboardInterrupt
            return self.inner.detect(image)

    out = tmp_path / "emb.npz"
    with pytest.raises(KeyboardInterrupt):
        export_embeddings(folder, out, Interrupting(pipeline, 7), save_every=3, progress=False)
    assert partial_path(out).is_file() and not out.exists()
    counting = Interrupting(pipeline, 10**6)
    counts = export_embeddings(folder, out, counting, save_every=3, progress=False)
    assert counts["resumed_from"] == 6 and counting.calls == 18 - 6  # the blank file never reaches detect
    assert not partial_path(out).exists()
    with np.load(out, allow_pickle=False) as data:
        assert data["embeddings"].shape == (18, 128) and data["embeddings"].dtype == np.float32
        assert list(data["label_strings"]) == sorted(PEOPLE)
        assert list(data["no_face"]) == ["Colin_Powell/blank.png"]
        for path, label in zip(data["image_paths"], data["labels"]):
            assert path.startswith(data["label_strings"][label] + "/")
    fresh = export_embeddings(folder, tmp_path / "again.npz", pipeline, progress=False)
    with np.load(out) as a, np.load(tmp_path / "again.npz") as b:
        np.testing.assert_array_equal(a["embeddings"][np.argsort(a["image_paths"])],
                                      b["embeddings"][np.argsort(b["image_paths"])])
    assert fresh["embedded"] == 18


def test_cluster_and_identify_commands_on_lfw(models_dir, lfw_root, tmp_path):
    dump = tmp_path / "dump"
    lfw_subset(lfw_root, dump, labelled=False)
    result = run_runtime_cli(tmp_path, "cluster", str(dump), str(tmp_path / "clusters"), "--faces", "central",
                             "--models", str(models_dir))
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads((tmp_path / "clusters" / "summary.json").read_text())
    people_per_cluster = [[m["image"].rsplit("_", 1)[0] for m in members]
                          for name, members in summary["members"].items() if name != "noise"]
    assert all(len(set(p)) == 1 for p in people_per_cluster)  # the default cut never mixes two people ...
    for person in PEOPLE:  # ... and still gathers most of each person's photos
        assert max((len(p) for p in people_per_cluster if p[0] == person), default=0) >= 3
    assert sum(len(list((tmp_path / "clusters" / n).glob("*.png"))) for n in summary["members"]) == 18
    result = run_runtime_cli(tmp_path, "cluster", str(dump), str(tmp_path / "clusters"), "--models", str(models_dir))
    assert result.returncode == 2 and "not empty" in result.stderr

    train = tmp_path / "train"
    lfw_subset(lfw_root, train, labelled=True)
    result = run_runtime_cli(tmp_path, "identify", "train", str(train), str(tmp_path / "who.npz"), "--models", str(models_dir))
    assert result.returncode == 0, result.stderr[-2000:]
    probes = lfw_subset(lfw_root, tmp_path / "probes", labelled=False, start=7)[::2]
    stranger = lfw_root / lfw.IMAGES_SUBDIR / "Aaron_Peirsol" / "Aaron_Peirsol_0001.jpg"
    result = run_runtime_cli(tmp_path, "identify", "predict", str(tmp_path / "who.npz"), *map(str, probes),
                             str(stranger), "--models", str(models_dir))
    assert result.returncode == 0, result.stderr[-2000:]
    answers = dict(line.split("\t")[:2] for line in result.stdout.splitlines())
    right = sum(answers[str(p)] == p.name.rsplit("_", 1)[0] for p in probes)
    assert right >= len(probes) - 1
    assert answers[str(stranger)] == UNKNOWN
