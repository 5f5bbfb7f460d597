"""`edgeface identify train/predict`: who is this, among known people — or nobody we know.

A linear SVM (scikit-learn) over the embeddings picks the person; the answer is "unknown" when the face is
farther than the threshold from every training face of that person — an SVM alone always names somebody. The
default threshold is the model's LFW operating point at FAR = 1e-3: a stranger is compared with every known face,
so the per-pair false-accept rate must be small (at the best-accuracy threshold nearly every stranger got a name). The model file is an .npz of plain arrays (SVM coefficients,
training embeddings, names), loaded with allow_pickle=False, so opening it cannot run code, unlike facenet's
pickled classifier. Prediction needs only numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeface.runtime.fileio import atomic_save_npz
from edgeface.runtime.errors import UsageError

FORMAT_VERSION = 1
UNKNOWN = "unknown"


@dataclass
class IdentityModel:
    names: np.ndarray  # (K,) str
    coef: np.ndarray  # (K, D) or (1, D) for two people
    intercept: np.ndarray
    train_vectors: np.ndarray  # (N, D)
    train_labels: np.ndarray  # (N,) int
    threshold: float
    model_id: str

    def save(self, path: Path) -> None:
        atomic_save_npz(path, format_version=np.array(FORMAT_VERSION), names=self.names.astype(str), coef=self.coef,
                        intercept=self.intercept, train_vectors=self.train_vectors, train_labels=self.train_labels,
                        threshold=np.array(self.threshold), model_id=np.array(self.model_id))

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        raw = vectors @ self.coef.T + self.intercept
        return np.concatenate([-raw, raw], axis=1) if self.coef.shape[0] == 1 else raw

    def predict(self, vectors: np.ndarray) -> list[tuple[str, float]]:
        """(name or "unknown", distance to the nearest training face of the SVM's choice) per vector."""
        chosen = np.argmax(self.scores(vectors), axis=1)
        answers = []
        for vector, k in zip(vectors, chosen):
            own = self.train_vectors[self.train_labels == k]
            distance = float(np.min(np.linalg.norm(own - vector[None], axis=1)))
            answers.append((str(self.names[k]) if distance < self.threshold else UNKNOWN, distance))
        return answers


def train_identity_model(vectors: np.ndarray, people: list[str], threshold: float, model_id: str) -> IdentityModel:
    """Fit on embeddings and the person each belongs to."""
    names = sorted(set(people))
    if len(names) < 2:
        raise UsageError("identify train needs at least two people with a usable face")
    labels = np.array([names.index(p) for p in people], np.int32)
    from sklearn.svm import LinearSVC

    svm = LinearSVC(C=1.0, dual="auto", max_iter=20000, random_state=0).fit(vectors, labels)
    return IdentityModel(np.array(names, dtype=str), svm.coef_.astype(np.float32), svm.intercept_.astype(np.float32),
                         vectors.astype(np.float32), labels, float(threshold), model_id)


def train_from_folder(folder: Path, pipeline, threshold: float | None = None,
                      on_skip=lambda error: None) -> tuple[IdentityModel, int]:
    """An identity model from a labelled folder (Person/image.jpg): the central face of every image embedded,
    unknown beyond `threshold` (default: the pipeline's LFW threshold at FAR 1e-3). Returns the model and the
    number of images skipped (each also passed to `on_skip`)."""
    from edgeface.facesets import embed_images, labelled_images

    images = labelled_images(folder)
    person_of = dict(images)
    vectors, people, skipped = [], [], 0
    for path, faces, error in embed_images([p for p, _ in images], pipeline):
        if error:
            skipped += 1
            on_skip(error)
            continue
        vectors.append(faces[0].vector)
        people.append(person_of[path])
    model = train_identity_model(np.stack(vectors) if vectors else np.zeros((0, pipeline.embedder.dim)), people,
                                 pipeline.threshold(threshold, strict=True), pipeline.model_id)
    return model, skipped


def load_identity_model(path: Path) -> IdentityModel:
    import zipfile

    if not path.is_file():
        raise UsageError(f"{path}: no such identity model (make one with `edgeface identify train`)")
    try:
        with np.load(path, allow_pickle=False) as data:
            if int(data["format_version"]) > FORMAT_VERSION:
                raise UsageError(f"{path}: made by a newer edgeface (format {int(data['format_version'])})")
            return IdentityModel(data["names"], data["coef"], data["intercept"], data["train_vectors"],
                                 data["train_labels"], float(data["threshold"]), str(data["model_id"]))
    except (zipfile.BadZipFile, KeyError, OSError, EOFError) as error:
        raise UsageError(f"{path}: not an edgeface identity model ({error})") from None
