"""`edgeface train run`: train the NNS2 FaceNet on aligned crop caches with teacher targets.

Shipped recipe (see docs/TRAINING.md for why): distillation from MobileFaceNet, the student's 128-D embedding
matched to the teacher's 192-D one through a training-only linear projection (1 - cosine), plus 10 x the
mean squared difference of the in-batch cosine-similarity matrices. Triplet (semi-hard) and softmax losses
are selectable with their weights. Checkpoints every few minutes, `--resume` continues a run exactly where
its last checkpoint stopped, and every `dev_every` steps the LFW View-1 test pairs (pairsDevTest.txt, never
the 6,000 View-2 pairs) give a development accuracy in the log.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from edgeface.runtime.cpu import native_bfloat16
from edgeface.runtime.embedder import l2_normalize
from edgeface.runtime.errors import UsageError
from edgeface.runtime.fileio import atomic_save_npz, atomic_write_json, atomic_write_text


@dataclass
class TrainConfig:
    sets: list[str] = field(default_factory=list)
    out_dir: str = "runs/nns2"
    epochs: float = 10.0
    batch_size: int = 128
    learning_rate: float = 2e-3
    warmup_steps: int = 300
    weight_embedding: float = 1.0
    weight_similarity: float = 10.0
    weight_triplet: float = 0.0
    weight_softmax: float = 0.0
    softmax_margin: float = 0.0  # CosFace margin on the softmax's true-class cosine (0: plain cosine softmax)
    triplet_margin: float = 0.2
    identities_per_batch: int = 16  # triplet / genuine pairs / neighbours: grouped part of a batch (P x 4)
    seed: int = 20261121
    bfloat16: bool | None = None  # mixed bfloat16; None: on where the CPU computes it natively (`native_bfloat16`)
    log_every: int = 50
    dev_every: int = 1000
    checkpoint_minutes: float = 10.0
    lfw_root: str | None = None
    init_weights: str | None = None  # warm start: a student weights file from an earlier run (new schedule)
    init_projection: str | None = None  # an earlier run's checkpoint.npz: its teacher projection, not a random one
    jitter: float = 0.0  # geometric augmentation: up to this fraction of scale change and of shift
    mirror_fused_targets: bool = False  # a crop and its mirror share one target: see `teacher_targets`
    online_teacher: bool = False  # the teacher embeds the exact augmented view the student sees (function matching)
    mixup: float = 0.0  # online teacher only: this fraction of each batch is two faces blended (see `augment_views`)
    weight_hard_pairs: float = 0.0  # teacher's similarity matched on the hardest in-batch pairs (the FAR tail)
    hard_pair_fraction: float = 0.02
    weight_genuine_pairs: float = 0.0  # teacher's similarity matched on same-identity pairs (grouped batches)
    weight_neighbours: float = 0.0  # teacher's softmax over each face's in-batch neighbours (grouped batches)
    neighbour_temperature: float = 0.05
    dev_tail: bool = False  # also log all-vs-all TAR at FAR 1e-3..1e-5 on LFW View-1 images (alone and mirror-fused)
    continue_schedule: bool = False  # with --init-projection: go on with that run's schedule (see `continued_step`)
    fused_student: bool = False  # distil the student's mirror-fused embedding, as the lock computes it (see `batch`)

    def __post_init__(self) -> None:
        if self.bfloat16 is None:
            self.bfloat16 = native_bfloat16()
        if self.mixup > 0 and not self.online_teacher:
            raise UsageError("--mixup needs --online-teacher: a blend of two faces has no cached teacher target")
        if not 0.0 <= self.mixup <= 1.0 or not 0.0 < self.hard_pair_fraction <= 1.0:
            raise UsageError("--mixup and the hard-pair fraction are fractions of the batch (0..1)")
        if self.continue_schedule and not (self.init_weights and self.init_projection):
            raise UsageError("--continue-schedule needs --init-weights and --init-projection from the run it continues")
        if self.fused_student and (self.online_teacher or not self.mirror_fused_targets or self.batch_size % 2):
            raise UsageError("--fused-student needs --mirror-fused-targets, cached targets and an even batch size")

    @property
    def crops_per_step(self) -> int:
        """Crops in a step's batch: with `fused_student` each crop takes two of the batch's student passes."""
        return self.batch_size // 2 if self.fused_student else self.batch_size


SCHEDULE_FIELDS = ("epochs", "batch_size", "learning_rate", "warmup_steps", "fused_student")


def continued_step(config: TrainConfig) -> int:
    """The step at which a run kept mid-schedule stopped: where `--continue-schedule` takes its schedule up.

    Why: the training machine's work folder can be gone by the next session, and with it the optimiser state
    `--resume` needs. A fresh warm start pays a full warm-up dip (about a point at FAR 1e-4 on View-1 for 400
    steps); going on along the same cosine schedule from the kept weights only re-estimates Adam's moments.
    The step is the one the kept checkpoint.npz records; the schedule flags must be that run's (config.json)."""
    projection = Path(config.init_projection)
    with np.load(projection, allow_pickle=False) as state:
        if "step" not in state:
            raise UsageError(f"{projection}: it records no step to continue the schedule from")
        step = int(state["step"])
    earlier = projection.with_name("config.json")
    if earlier.is_file():
        settings = json.loads(earlier.read_text())
        differ = [f"--{f.replace('_', '-')} {settings[f]} (here {getattr(config, f)})" for f in SCHEDULE_FIELDS
                  if f in settings and settings[f] != getattr(config, f)]
        if differ:
            raise UsageError(f"--continue-schedule: the run in {earlier.parent} used " + ", ".join(differ))
    return step


def learning_rate_schedule(total_steps: int, config: TrainConfig, start_step: int = 0):
    """Linear warm-up, then cosine decay to 1% over the run's `total_steps`.

    From `start_step` > 0 (a continued run, whose optimiser starts afresh) the schedule goes on from that step,
    ramped up again over `warmup_steps` while Adam's moment estimates refill."""
    from tensorflow import keras

    base = keras.optimizers.schedules.CosineDecay(
        0.0, max(1, total_steps - config.warmup_steps), alpha=0.01,
        warmup_target=config.learning_rate, warmup_steps=config.warmup_steps)
    if start_step == 0:
        return base

    class Continued(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            step = keras.ops.cast(step, "float32")
            ramp = keras.ops.minimum(1.0, (step + 1.0) / max(1, config.warmup_steps))
            return base(step + float(start_step)) * ramp

        def get_config(self) -> dict:
            return {"start_step": start_step, **base.get_config()}

    return Continued()


class TrainingData:
    """All aligned crops, identities and teacher targets in memory (about 38 KB per face)."""

    def __init__(self, sets: list[Path]) -> None:
        from edgeface.training.dedup import kept_indices
        from edgeface.training.teachers import load_teacher

        images, identity, plain, flipped = [], [], [], []
        self.removed_duplicates = 0
        for path in sets:
            with np.load(path, allow_pickle=False) as data:
                set_images, set_identity = data["images"], data["identity"]
            t_plain, t_flipped = load_teacher(path, len(set_images))
            keep = kept_indices(path, len(set_images))
            self.removed_duplicates += len(set_images) - len(keep)
            images.append(set_images[keep])
            identity.append(set_identity[keep])
            plain.append(t_plain[keep])
            flipped.append(t_flipped[keep])
        self.images = np.concatenate(images)
        self.identity = np.concatenate(identity)
        self.teacher = np.concatenate(plain)
        self.teacher_flipped = np.concatenate(flipped)
        labelled = self.identity >= 0
        ids, self.class_index = np.unique(self.identity[labelled], return_inverse=True)
        self.classes = np.full(len(self.identity), -1, np.int64)
        self.classes[labelled] = self.class_index
        self.num_classes = len(ids)
        counts = np.bincount(self.class_index, minlength=len(ids))
        self.multi_image_classes = np.nonzero(counts >= 2)[0]
        self.members = {c: np.nonzero(self.classes == c)[0] for c in self.multi_image_classes}

    def __len__(self) -> int:
        return len(self.images)


class LossWindow:
    """The losses and speed logged every `log_every` steps: means over the steps the window really holds (the
    first window after a resume holds fewer; dividing by log_every had logged it at about half)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.start, self.images, self.steps, self.sums = time.time(), 0, 0, {}

    def add(self, parts: dict, images: int) -> None:
        self.images, self.steps = self.images + images, self.steps + 1
        for key, value in parts.items():
            self.sums[key] = self.sums.get(key, 0.0) + float(value)

    def close(self) -> dict:
        """This window's record ({"images_per_s", loss means}); the next window starts now."""
        elapsed = max(time.time() - self.start, 1e-9)
        record = {"images_per_s": round(self.images / elapsed, 1),
                  **{key: round(total / max(self.steps, 1), 5) for key, total in self.sums.items()}}
        self.reset()
        return record


def batch_indices(data: TrainingData, config: TrainConfig, rng: np.random.Generator):
    """Endless batches: shuffled epochs; with a triplet, genuine-pair or neighbour weight, the first part is
    P identities x up to 4 faces (a random batch holds almost no two faces of one person)."""
    grouped_batches = config.weight_triplet > 0 or config.weight_genuine_pairs > 0 or config.weight_neighbours > 0
    while True:
        order = rng.permutation(len(data))
        for start in range(0, len(order) - config.crops_per_step + 1, config.crops_per_step):
            batch = order[start : start + config.crops_per_step]
            if grouped_batches and len(data.multi_image_classes):
                chosen = rng.choice(data.multi_image_classes, config.identities_per_batch, replace=False)
                grouped = np.concatenate([rng.choice(data.members[c], min(4, len(data.members[c])), replace=False)
                                          for c in chosen])
                batch = np.concatenate([grouped, batch[: config.crops_per_step - len(grouped)]])
            yield batch


def jitter_faces(crops: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Warp each crop by a small random scale/shift about its centre, as an imperfect alignment would.

    The teacher target stays the one of the unjittered crop: the student learns to be steady under the
    landmark noise that MTCNN's five points have on real frames.
    """
    out = np.empty_like(crops)
    size = crops.shape[1]
    for k, crop in enumerate(crops):
        scale = 1.0 + rng.uniform(-amount, amount)
        shift = rng.uniform(-amount, amount, 2) * size
        out[k] = warp_about_centre(crop, scale, shift[0], shift[1])
    return out


def warp_about_centre(crop: np.ndarray, scale: float, dx: float, dy: float) -> np.ndarray:
    """A square crop zoomed by `scale` about its centre and shifted by (dx, dy) pixels, edges replicated."""
    import cv2

    size = crop.shape[0]
    centre = (size - 1) / 2.0
    matrix = np.array([[scale, 0.0, centre * (1 - scale) + dx], [0.0, scale, centre * (1 - scale) + dy]])
    return cv2.warpAffine(crop, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def photometric(faces: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per-face contrast (x0.8..1.2 about the face's mean) and brightness (-20..20) on float pixels, unclipped."""
    contrast = rng.uniform(0.8, 1.2, (len(faces), 1, 1, 1)).astype(np.float32)
    brightness = rng.uniform(-20, 20, (len(faces), 1, 1, 1)).astype(np.float32)
    mean = faces.mean(axis=(1, 2, 3), keepdims=True)
    return (faces - mean) * contrast + mean + brightness


def augment(images: np.ndarray, rng: np.random.Generator, jitter: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Random mirror (reported so the mirrored teacher target is used), scale/shift and brightness/contrast jitter."""
    from edgeface.models.facenet import INPUT_SIZE
    from edgeface.runtime.align import resize_faces
    from edgeface.runtime.images import normalize_pixels

    flip = rng.random(len(images)) < 0.5
    if jitter > 0:
        images = jitter_faces(images, jitter, rng)
    out = resize_faces(images, INPUT_SIZE).astype(np.float32)
    out[flip] = out[flip, :, ::-1]
    out = np.clip(photometric(out, rng), 0, 255)
    return normalize_pixels(out), flip


def augment_views(crops: np.ndarray, labels: np.ndarray, rng: np.random.Generator, jitter: float = 0.0,
                  mixup: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """The augmented 112-px views that the online teacher and the student both see, and their labels.

    Beyer et al. (CVPR 2022) distil by matching the teacher's function on the same, aggressively augmented
    input: every augmentation happens here, on the uint8 crop, before either network looks. Mirror,
    scale/shift jitter and brightness/contrast as in `augment`; then a `mixup` fraction of the batch is each
    blended with another face of the batch (weight uniform in 0..1). A blend of two faces is a new, lookalike
    face, exactly the kind of pair a door's false accepts come from; its label becomes unknown (-1).
    """
    views = jitter_faces(crops, jitter, rng) if jitter > 0 else crops.copy()
    flip = rng.random(len(views)) < 0.5
    views[flip] = views[flip, :, ::-1]
    out = views.astype(np.float32)
    out = photometric(out, rng)
    labels = labels.copy()
    mixed = np.nonzero(rng.random(len(views)) < mixup)[0]
    if len(mixed):
        partner = rng.permutation(len(views))[: len(mixed)]
        weight = rng.uniform(0.0, 1.0, (len(mixed), 1, 1, 1)).astype(np.float32)
        out[mixed] = weight * out[mixed] + (1 - weight) * out[partner]
        labels[mixed] = -1
    return np.clip(np.rint(out), 0, 255).astype(np.uint8), labels


def online_targets(teacher, views: np.ndarray, mirror_fused: bool) -> np.ndarray:
    """The teacher's embedding of each view (with `mirror_fused`, plus that of its mirror image)."""
    plain = teacher.embed(views)
    if not mirror_fused:
        return plain
    return plain + teacher.embed(np.ascontiguousarray(views[:, :, ::-1]))


def lfw_dev_set(root: Path, cache: Path) -> dict[str, np.ndarray]:
    """Aligned crops for LFW View-1 pairsDevTest.txt (500 same + 500 different pairs), cached per run."""
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    from edgeface import lfw
    from edgeface.calibration.lfw_sets import central_crops
    from edgeface.detector import FloatDetector

    pairs = lfw.parse_pairs(root / "pairsDevTest.txt")
    names = lfw.pair_images(pairs)
    crops, found = central_crops(root, names, FloatDetector())
    index = {n: k for k, n in enumerate(names)}
    left = np.array([index[pair.images[0]] for pair in pairs])
    right = np.array([index[pair.images[1]] for pair in pairs])
    same = np.array([pair.same for pair in pairs])
    result = {"crops": crops, "found": found, "left": left, "right": right, "same": same}
    atomic_save_npz(cache, **result)
    return result


def teacher_targets(data: "TrainingData", index: np.ndarray, flipped: np.ndarray, mirror_fused: bool) -> np.ndarray:
    """The teacher embedding each (possibly mirrored) crop of the batch is distilled toward.

    By default the target of a mirrored crop is the teacher's embedding of the mirrored crop. With `mirror_fused`
    a crop and its mirror share one target, the sum of the two unit teacher embeddings: the flip-fused embedding
    that `--flip` evaluation computes at twice the cost, so the student learns to give it from one pass.
    """
    if mirror_fused:
        return l2_normalize(data.teacher[index]) + l2_normalize(data.teacher_flipped[index])
    return np.where(flipped[:, None], data.teacher_flipped[index], data.teacher[index])


def embed_crops(embed, crops: np.ndarray, batch: int = 256) -> np.ndarray:
    """The student's embeddings (no flip) of aligned uint8 crops, in batches."""
    from edgeface.models.facenet import model_input

    return np.concatenate([embed(model_input(crops[i : i + batch])) for i in range(0, len(crops), batch)])


def dev_accuracies(embed, dev: dict[str, np.ndarray]) -> dict[str, float]:
    """Best-threshold accuracy on the dev pairs with flip-fused embeddings (`flip`) and without (`no_flip`), from
    one pass over the crops and one over their mirror images; a quick learning signal, not the protocol."""
    from edgeface.models.facenet import model_input

    crops = model_input(dev["crops"])
    batches = [crops[i : i + 256] for i in range(0, len(crops), 256)]
    plain = np.concatenate([embed(batch) for batch in batches])
    mirrored = np.concatenate([embed(batch[:, :, ::-1]) for batch in batches])
    return {"flip": _best_dev_accuracy(l2_normalize(plain + mirrored), dev),
            "no_flip": _best_dev_accuracy(l2_normalize(plain), dev)}


def _best_dev_accuracy(vectors: np.ndarray, dev: dict[str, np.ndarray]) -> float:
    dist = np.sum((vectors[dev["left"]] - vectors[dev["right"]]) ** 2, axis=1)
    dist[~(dev["found"][dev["left"]] & dev["found"][dev["right"]])] = 4.0
    accuracies = [np.mean((dist < t) == dev["same"]) for t in np.arange(0, 4, 0.01)]
    return float(np.max(accuracies))


def checkpoint_projection(path: Path, student) -> np.ndarray:
    """The teacher projection in a run's checkpoint.npz: saved right after the student's trainable variables."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint to take the teacher projection from")
    with np.load(path, allow_pickle=False) as state:
        return state[f"var_{len(student.trainable_variables)}"]


class BestWeights:
    """The run's best development scores and the `NAME.weights.h5` files that hold them, kept in best.json.

    A resumed run compares against the run's best so far: starting again from nothing let the first dev check
    after a resume overwrite a better file from before the stop."""

    def __init__(self, out: Path, resumed: bool) -> None:
        self.out = out
        self.path = out / "best.json"
        self.scores: dict[str, list[float]] = {}
        if resumed and self.path.is_file():
            self.scores = json.loads(self.path.read_text())

    def offer(self, name: str, score: list[float], save) -> bool:
        """Keep these weights as NAME if `score` (compared in order) is at least the best so far; `save(path)`."""
        if name in self.scores and score < self.scores[name]:
            return False
        save(self.out / f"{name}.weights.h5")
        self.scores[name] = score
        atomic_write_json(self.path, self.scores)
        return True

    def score(self, name: str) -> float:
        return self.scores[name][0] if name in self.scores else -1.0


class Trainer:
    def __init__(self, config: TrainConfig) -> None:
        import tensorflow as tf
        from tensorflow import keras

        from edgeface.models.facenet import build_nns2

        self.config = config
        self.out = Path(config.out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        tf.keras.utils.set_random_seed(config.seed)
        if config.bfloat16:
            keras.mixed_precision.set_global_policy("mixed_bfloat16")
        self.data = TrainingData([Path(s) for s in config.sets])
        self.student = build_nns2()
        if config.init_weights:
            if not Path(config.init_weights).is_file():
                raise FileNotFoundError(f"{config.init_weights}: no such weights file to warm-start from")
            self.student.load_weights(config.init_weights)
        keras.mixed_precision.set_global_policy("float32")
        self.projection = keras.layers.Dense(self.data.teacher.shape[1], use_bias=False, name="teacher_projection")
        self.projection.build((None, 128))
        if config.init_projection:
            self.projection.kernel.assign(self.checkpoint_projection(Path(config.init_projection)))
        self.class_weights = tf.Variable(tf.random.normal((128, max(1, self.data.num_classes)), stddev=0.01),
                                         name="class_weights")
        self.steps_per_epoch = len(self.data) // config.crops_per_step
        self.total_steps = int(config.epochs * self.steps_per_epoch)
        self.start_step = continued_step(config) if config.continue_schedule else 0
        if self.start_step >= self.total_steps:
            raise UsageError(f"--continue-schedule: the run stopped at step {self.start_step}, "
                             f"this one has {self.total_steps} steps: nothing to continue")
        self.optimizer = keras.optimizers.Adam(learning_rate_schedule(self.total_steps, config, self.start_step))
        self.variables = self.student.trainable_variables + self.projection.trainable_variables
        if config.weight_softmax > 0:
            self.variables.append(self.class_weights)
        self.optimizer.build(self.variables)
        self.step = self.start_step
        self.rng = np.random.default_rng(config.seed)
        self.teacher = None
        if config.online_teacher:
            from edgeface.training.teachers import teacher_on_every_core

            self.teacher = teacher_on_every_core()  # it runs between steps: every core is free
        self._train_step = tf.function(self._step_fn)
        self._embed = tf.function(lambda x: tf.cast(self.student(x, training=False), tf.float32))

    def embed(self, inputs: np.ndarray) -> np.ndarray:
        """The student's embeddings (inference mode) of model inputs, as numpy."""
        return self._embed(inputs).numpy()

    def _step_fn(self, images, teacher, labels):
        import tensorflow as tf

        from edgeface.training import losses

        c = self.config
        with tf.GradientTape() as tape:
            embeddings = tf.cast(self.student(images, training=True), tf.float32)
            if c.fused_student:
                embeddings = losses.mirror_fused(embeddings)
            parts = {
                "embedding": losses.embedding_distillation_loss(self.projection(embeddings), teacher),
                "similarity": losses.similarity_distillation_loss(embeddings, teacher),
            }
            total = c.weight_embedding * parts["embedding"] + c.weight_similarity * parts["similarity"]
            if c.weight_hard_pairs > 0:
                parts["hard_pairs"] = losses.hard_pair_similarity_loss(labels, embeddings, teacher,
                                                                       c.hard_pair_fraction)
                total += c.weight_hard_pairs * parts["hard_pairs"]
            if c.weight_genuine_pairs > 0:
                parts["genuine_pairs"] = losses.genuine_pair_similarity_loss(labels, embeddings, teacher)
                total += c.weight_genuine_pairs * parts["genuine_pairs"]
            if c.weight_neighbours > 0:
                parts["neighbours"] = losses.neighbour_distribution_loss(embeddings, teacher, c.neighbour_temperature)
                total += c.weight_neighbours * parts["neighbours"]
            if c.weight_triplet > 0:
                parts["triplet"] = losses.triplet_semihard_loss(labels, embeddings, c.triplet_margin)
                total += c.weight_triplet * parts["triplet"]
            if c.weight_softmax > 0:
                parts["softmax"] = losses.cosine_softmax_loss(labels, embeddings, self.class_weights,
                                                              margin=c.softmax_margin)
                total += c.weight_softmax * parts["softmax"]
        gradients = tape.gradient(total, self.variables)
        self.optimizer.apply_gradients(zip(gradients, self.variables))
        parts["total"] = total
        return parts

    def batch(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Student inputs, teacher targets and labels for one batch of crop indices."""
        c = self.config
        if self.teacher is None:
            images, flipped = augment(self.data.images[index], self.rng, c.jitter)
            if c.fused_student:
                # each augmented view, then its mirror image: the two halves that `losses.mirror_fused` adds up,
                # toward the one fused target (`--fused-student` needs it); the student learns the embedding the
                # lock compares, not each half
                images = np.concatenate([images, images[:, :, ::-1]])
            return images, teacher_targets(self.data, index, flipped, c.mirror_fused_targets), self.data.classes[index]
        from edgeface.models.facenet import model_input

        views, labels = augment_views(self.data.images[index], self.data.classes[index], self.rng, c.jitter, c.mixup)
        targets = online_targets(self.teacher, views, c.mirror_fused_targets)
        return model_input(views), targets, labels

    def checkpoint_projection(self, path: Path) -> np.ndarray:
        """The teacher projection saved in another run's checkpoint (it follows the student's variables there).

        A warm start otherwise re-learns the projection from random over its first few hundred steps, while
        the student's gradients pass through it."""
        kernel = checkpoint_projection(path, self.student)
        if kernel.shape != tuple(self.projection.kernel.shape):
            raise UsageError(f"{path}: its projection is {kernel.shape}, this run's {tuple(self.projection.kernel.shape)}")
        return kernel

    def identity_centres(self, progress: bool = True) -> np.ndarray:
        """The softmax's class weights to start from: each identity's mean unit embedding under the student as
        it starts (128 x identities).

        Why: random centres make a warm-started student's first few hundred steps chase 6,400 arbitrary
        directions, undoing what the run it starts from learnt; from the means, the softmax starts near what
        the student already does, and its margin only has to push each face from the other identities."""
        from tqdm import tqdm

        labelled = np.nonzero(self.data.classes >= 0)[0]
        sums = np.zeros((self.data.num_classes, 128), np.float64)
        for start in tqdm(range(0, len(labelled), 512), desc="identity centres", disable=not progress,
                          mininterval=10):
            index = labelled[start : start + 512]
            np.add.at(sums, self.data.classes[index], embed_crops(self.embed, self.data.images[index]))
        return (sums / np.linalg.norm(sums, axis=1, keepdims=True).clip(1e-12)).T.astype(np.float32)

    # --- checkpoints -------------------------------------------------------------------------------
    def save_checkpoint(self) -> None:
        state = {f"opt_{i}": v.numpy() for i, v in enumerate(self.optimizer.variables)}
        state.update({f"var_{i}": v.numpy() for i, v in enumerate(self.variables)})
        # batch-norm moving statistics: not trained, but what the student computes with at evaluation
        state.update({f"stat_{i}": v.numpy() for i, v in enumerate(self.student.non_trainable_variables)})
        state["class_weights"] = self.class_weights.numpy()
        state["step"] = np.asarray(self.step)
        state["rng"] = np.frombuffer(json.dumps(self.rng.bit_generator.state).encode(), np.uint8)
        atomic_save_npz(self.out / "checkpoint.npz", **state)
        self.export_weights(self.out / "student.weights.h5")

    def load_checkpoint(self) -> None:
        """Restore the run exactly: optimiser, trained variables, batch-norm statistics, step and batch order."""
        with np.load(self.out / "checkpoint.npz", allow_pickle=False) as state:
            statistics = self.student.non_trainable_variables
            if "stat_0" in state:
                for i, v in enumerate(statistics):
                    v.assign(state[f"stat_{i}"])
            elif statistics:
                # an older checkpoint without them: student.weights.h5 was written with it, at the same step
                self.student.load_weights(str(self.out / "student.weights.h5"))
            for i, v in enumerate(self.optimizer.variables):
                v.assign(state[f"opt_{i}"])
            for i, v in enumerate(self.variables):
                v.assign(state[f"var_{i}"])
            self.class_weights.assign(state["class_weights"])
            self.step = int(state["step"])
            self.rng.bit_generator.state = json.loads(bytes(state["rng"]).decode())

    def export_weights(self, path: Path) -> None:
        temp = path.with_name(f".{path.name}.tmp.weights.h5")
        self.student.save_weights(str(temp))
        temp.replace(path)

    # --- loop --------------------------------------------------------------------------------------
    def run(self, resume: bool = False, progress: bool = True) -> dict:
        from tqdm import tqdm

        from edgeface.lfw import locate_lfw

        resumed = resume and (self.out / "checkpoint.npz").is_file()
        if resumed:
            self.load_checkpoint()
        elif self.config.weight_softmax > 0:
            self.class_weights.assign(self.identity_centres(progress))
        best = BestWeights(self.out, resumed)
        atomic_write_json(self.out / "config.json", asdict(self.config))
        atomic_write_text(self.out / "removed_duplicates.txt", f"{self.data.removed_duplicates}\n")
        dev = lfw_dev_set(locate_lfw(self.config.lfw_root), self.out / "lfw_dev_crops.npz")
        tail_set = None
        if self.config.dev_tail:
            from edgeface.training.dev_tail import dev_tail_set, single_and_mirror_fused, tail_report

            tail_set = dev_tail_set(locate_lfw(self.config.lfw_root), self.out / "lfw_dev_tail_crops.npz")
        log_path = self.out / "log.jsonl"
        batches = batch_indices(self.data, self.config, self.rng)
        last_checkpoint, window = time.time(), LossWindow()
        bar = tqdm(total=self.total_steps, initial=self.step, desc="train", disable=not progress, mininterval=10)
        # a resume: steps after the checkpoint are logged again from here; a continued run: where it took up
        start = ({"resumed": True} if resumed
                 else {"continued_from": self.config.init_weights} if self.start_step else None)
        if start:
            with open(log_path, "a") as log:
                log.write(json.dumps({"step": self.step, **start}) + "\n")
        while self.step < self.total_steps:
            index = np.sort(next(batches))
            images, teacher, labels = self.batch(index)
            parts = self._train_step(images, teacher, labels)
            self.step += 1
            window.add(parts, len(index))
            bar.update(1)
            record = None
            if self.step % self.config.log_every == 0:
                record = {"step": self.step, "epoch": round(self.step / self.steps_per_epoch, 3),
                          "lr": float(self.optimizer.learning_rate), **window.close()}
            if self.step % self.config.dev_every == 0 or self.step == self.total_steps:
                record = record or {"step": self.step}
                accuracy = dev_accuracies(self.embed, dev)
                record["lfw_dev_accuracy"], record["lfw_dev_accuracy_no_flip"] = accuracy["flip"], accuracy["no_flip"]
                best.offer("best", [record["lfw_dev_accuracy"]], self.export_weights)
                best.offer("best_no_flip", [record["lfw_dev_accuracy_no_flip"]], self.export_weights)
                if tail_set is not None:
                    single, fused = single_and_mirror_fused(lambda c: embed_crops(self.embed, c), tail_set["crops"])
                    tail, tail_fused = tail_report(single, tail_set), tail_report(fused, tail_set)
                    record["dev_tail"] = {k: v for k, v in tail.items() if k.startswith("tar@")}
                    record["dev_tail_fused"] = {k: v for k, v in tail_fused.items() if k.startswith("tar@")}
                    # chosen in the mode the lock runs: a run can gain single and not fused (runs 6 to 7)
                    best.offer("best_tail", [tail_fused["tar@0.0001"], tail_fused["tar@1e-05"]], self.export_weights)
            if record:
                with open(log_path, "a") as log:
                    log.write(json.dumps(record) + "\n")
                bar.write(json.dumps(record))
            if time.time() - last_checkpoint > 60 * self.config.checkpoint_minutes or self.step == self.total_steps:
                self.save_checkpoint()
                last_checkpoint = time.time()
        bar.close()
        atomic_write_text(self.out / "DONE", f"{self.step}\n")
        return {"steps": self.step, "best_lfw_dev_accuracy": best.score("best"),
                "best_lfw_dev_accuracy_no_flip": best.score("best_no_flip")}
