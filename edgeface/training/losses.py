"""Training losses: FaceNet's triplet loss with online semi-hard mining, softmax, and teacher distillation.

All take L2-normalised embeddings. Distances are squared Euclidean, as in the FaceNet paper (margin 0.2).
"""

from __future__ import annotations

import tensorflow as tf


def pairwise_squared_distances(embeddings: tf.Tensor) -> tf.Tensor:
    dot = tf.matmul(embeddings, embeddings, transpose_b=True)
    norms = tf.linalg.diag_part(dot)
    return tf.maximum(norms[:, None] - 2.0 * dot + norms[None, :], 0.0)


def triplet_semihard_loss(labels: tf.Tensor, embeddings: tf.Tensor, margin: float = 0.2) -> tf.Tensor:
    """Mean over all anchor-positive pairs of max(d(a,p) - d(a,n) + margin, 0).

    The negative n for each (a, p) is FaceNet's semi-hard choice: the closest negative that is still farther
    from the anchor than the positive. When no such negative exists, the farthest negative is used (as in
    the reference TensorFlow implementation), so the pair contributes only if it is truly violating.
    Labels < 0 (no identity) take part as negatives only.
    """
    labels = tf.reshape(tf.cast(labels, tf.int64), [-1])
    dist = pairwise_squared_distances(tf.cast(embeddings, tf.float32))
    same = tf.equal(labels[:, None], labels[None, :])
    known = labels >= 0
    batch = tf.shape(labels)[0]
    positive = same & ~tf.eye(batch, dtype=tf.bool) & known[:, None] & known[None, :]
    negative = ~same | ~known[:, None] | ~known[None, :]
    negative = negative & ~tf.eye(batch, dtype=tf.bool)
    big = tf.reduce_max(dist) + 1.0
    # For every (a, p): distances to negatives farther than the positive.
    d_ap = dist[:, :, None]  # [a, p, 1]
    d_an = dist[:, None, :]  # [a, 1, n]
    neg = negative[:, None, :]
    farther = neg & (d_an > d_ap)
    semi_hard = tf.reduce_min(tf.where(farther, d_an, big), axis=2)
    farthest = tf.reduce_max(tf.where(neg, d_an, -1.0), axis=2)
    has_farther = tf.reduce_any(farther, axis=2)
    chosen = tf.where(has_farther, semi_hard, farthest)
    losses = tf.maximum(dist - chosen + margin, 0.0)
    mask = tf.cast(positive & tf.reduce_any(neg, axis=2), tf.float32)
    return tf.math.divide_no_nan(tf.reduce_sum(losses * mask), tf.reduce_sum(mask))


def cosine_softmax_loss(labels: tf.Tensor, embeddings: tf.Tensor, class_weights: tf.Tensor, scale: float = 30.0,
                        margin: float = 0.0) -> tf.Tensor:
    """Softmax cross-entropy over cosine logits; samples with label < 0 are ignored.

    `margin` > 0 makes it CosFace's large-margin cosine loss (Wang et al., CVPR 2018): the true class's cosine
    counts `margin` less, so a face is only done once it is nearer its own identity than every other by that much.
    Why for the tail: unlike matching the teacher's same-person cosines, it pushes each face away from the other
    identities' centres as it pulls it to its own, the side a false accept at FAR 1e-5 comes from.
    """
    labels = tf.reshape(tf.cast(labels, tf.int64), [-1])
    weights = tf.math.l2_normalize(tf.cast(class_weights, tf.float32), axis=0)
    cosines = tf.matmul(tf.math.l2_normalize(tf.cast(embeddings, tf.float32), axis=1), weights)
    known = labels >= 0
    safe_labels = tf.where(known, labels, 0)  # an unknown sample's loss is computed on class 0, then dropped
    logits = scale * (cosines - margin * tf.one_hot(safe_labels, tf.shape(weights)[1], dtype=tf.float32))
    per_sample = tf.nn.sparse_softmax_cross_entropy_with_logits(safe_labels, logits)
    return tf.math.divide_no_nan(tf.reduce_sum(tf.where(known, per_sample, 0.0)),
                                 tf.reduce_sum(tf.cast(known, tf.float32)))


def unit_cosines(vectors: tf.Tensor) -> tf.Tensor:
    """The in-batch cosine-similarity matrix of `vectors` (normalised here)."""
    unit = tf.math.l2_normalize(tf.cast(vectors, tf.float32), axis=1)
    return tf.matmul(unit, unit, transpose_b=True)


def pair_masks(labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(upper: each unordered pair once, same: pairs of one known identity); label < 0 is unknown and never pairs."""
    labels = tf.reshape(tf.cast(labels, tf.int64), [-1])
    batch = tf.shape(labels)[0]
    upper = tf.linalg.band_part(tf.ones((batch, batch), tf.bool), 0, -1) & ~tf.eye(batch, dtype=tf.bool)
    known = labels >= 0
    return upper, tf.equal(labels[:, None], labels[None, :]) & known[:, None] & known[None, :]


def mirror_fused(embeddings: tf.Tensor) -> tf.Tensor:
    """The unit sum of each view's and its mirror's unit embeddings: a batch of N views followed by their N mirror
    images gives N rows, the embedding that a mirror-fusing lock compares (`runtime.embedder.fuse_mirror`)."""
    unit = tf.math.l2_normalize(tf.cast(embeddings, tf.float32), axis=1)
    half = tf.shape(unit)[0] // 2
    return tf.math.l2_normalize(unit[:half] + unit[half:], axis=1)


def embedding_distillation_loss(projected: tf.Tensor, teacher: tf.Tensor) -> tf.Tensor:
    """1 - cosine between the student's (projected) embedding and the teacher's, averaged over the batch."""
    student = tf.math.l2_normalize(tf.cast(projected, tf.float32), axis=1)
    teacher = tf.math.l2_normalize(tf.cast(teacher, tf.float32), axis=1)
    return tf.reduce_mean(1.0 - tf.reduce_sum(student * teacher, axis=1))


def similarity_distillation_loss(student: tf.Tensor, teacher: tf.Tensor) -> tf.Tensor:
    """Mean squared difference of the in-batch cosine-similarity matrices (the relations between faces)."""
    student = tf.math.l2_normalize(tf.cast(student, tf.float32), axis=1)
    teacher = tf.math.l2_normalize(tf.cast(teacher, tf.float32), axis=1)
    return tf.reduce_mean(tf.square(tf.matmul(student, student, transpose_b=True)
                                    - tf.matmul(teacher, teacher, transpose_b=True)))


def hard_pair_similarity_loss(labels: tf.Tensor, student: tf.Tensor, teacher: tf.Tensor,
                              fraction: float = 0.02) -> tf.Tensor:
    """Match the teacher's cosine similarity on the batch's hardest pairs: the tail a door runs in.

    The plain similarity loss averages over all in-batch pairs, nearly all of them easy strangers; a false
    accept at FAR 1e-5 comes from the rare different-face pair that looks alike, and a refused resident from
    the rare same-face pair that does not. This loss takes the `fraction` of different-face pairs whose
    similarity (student's or teacher's, whichever is higher) is highest, and the same fraction of same-identity
    pairs whose similarity is lowest, and returns the mean squared student - teacher difference over them.
    Pairs with an unknown identity (label < 0) count as different faces, as in the triplet loss.
    """
    s, t = unit_cosines(student), unit_cosines(teacher)
    upper, same = pair_masks(labels)
    squared = tf.square(s - t)
    total, count = tf.constant(0.0), tf.constant(0.0)
    for chosen, hardness in ((upper & ~same, tf.maximum(s, t)), (upper & same, -tf.minimum(s, t))):
        score = tf.boolean_mask(hardness, chosen)
        values = tf.boolean_mask(squared, chosen)
        k = tf.cast(tf.math.ceil(fraction * tf.cast(tf.size(score), tf.float32)), tf.int32)
        top = tf.math.top_k(score, k=k).indices
        total += tf.reduce_sum(tf.gather(values, top))
        count += tf.cast(k, tf.float32)
    return tf.math.divide_no_nan(total, count)


def genuine_pair_similarity_loss(labels: tf.Tensor, student: tf.Tensor, teacher: tf.Tensor) -> tf.Tensor:
    """Mean squared student - teacher difference of the cosine over the batch's same-identity pairs.

    Why: on LFW View-1 the student's impostor scores spread like the teacher's, but its genuine ones sit lower
    (mean cosine 0.66 against 0.75, v6 run 5): a refused resident is a same-person pair the student does not
    see as alike. The plain similarity loss averages over every in-batch pair, and a random batch of 128 from
    ~95,000 crops holds almost no same-person pair, so that relation is never taught. With identity-grouped
    batches (`--weight-genuine-pairs`) each holds P identities x 4 faces, and this loss teaches it. Unknown
    identities (label < 0) never pair. Zero when the batch has no same-identity pair.
    """
    upper, same = pair_masks(labels)
    same = upper & same
    squared = tf.square(unit_cosines(student) - unit_cosines(teacher))
    return tf.math.divide_no_nan(tf.reduce_sum(tf.where(same, squared, 0.0)), tf.reduce_sum(tf.cast(same, tf.float32)))


def neighbour_distribution_loss(student: tf.Tensor, teacher: tf.Tensor, temperature: float = 0.05) -> tf.Tensor:
    """KL divergence, per face, of the student's softmax over its cosines to the other faces of the batch from the
    teacher's (SEED, Fang et al. ICLR 2021, within the batch), averaged over faces.

    Why: matching same-person cosines alone (`genuine_pair_similarity_loss`) pulled the student's genuine pairs
    up (0.66 to 0.71 on View-1) and its impostors up more (0.045 to 0.095), so its 1e-4 threshold rose past
    what was gained. A softmax over each face's neighbours is relative: raising one neighbour's share lowers
    the others', so a same-person partner can only be pulled closer than the strangers around it. With
    identity-grouped batches each face has up to three same-person neighbours, whose share the teacher gives.
    """
    self_mask = tf.eye(tf.shape(student)[0]) * 1e9  # a face is not its own neighbour
    s = unit_cosines(student) / temperature - self_mask
    t = unit_cosines(teacher) / temperature - self_mask
    p_teacher = tf.nn.softmax(t, axis=1)
    return tf.reduce_mean(tf.reduce_sum(p_teacher * (tf.nn.log_softmax(t, axis=1) - tf.nn.log_softmax(s, axis=1)), axis=1))
