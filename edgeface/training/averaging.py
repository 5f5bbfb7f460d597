"""Weight averaging across the ends of a warm-restart chain (stochastic weight averaging, Izmailov et al. 2018).

v6 trains as a chain of warm-started runs, each a cosine cycle of the learning rate that ends at 1% of its peak.
The ends of such cycles lie in one basin, and their average often generalises better than any of them: SWA is
exactly this, averaging the weights at the ends of cyclic learning-rate cycles. It costs no training step.

Batch-norm moving statistics are not weights: the statistics of an average are not the average of statistics.
`recompute_batch_norm` measures them again on training crops, as SWA does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import numpy as np


def average_students(paths: Sequence[Path], weights: Sequence[float] | None = None):
    """An NNS2 whose every variable is the (weighted) mean of those in the `.weights.h5` files at `paths`."""
    from edgeface.models.facenet import build_nns2

    if len(paths) < 2:
        raise ValueError("averaging needs at least two weight files")
    share = np.asarray(weights if weights is not None else [1.0] * len(paths), np.float64)
    if len(share) != len(paths) or np.any(share < 0) or share.sum() <= 0:
        raise ValueError(f"one non-negative weight per file is needed, got {list(share)}")
    share = share / share.sum()
    model = build_nns2()
    total = None
    for path, w in zip(paths, share):
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path}: no such weights file")
        model.load_weights(str(path))
        values = [v.numpy().astype(np.float64) * w for v in model.weights]
        total = values if total is None else [t + v for t, v in zip(total, values)]
    for variable, value in zip(model.weights, total):
        variable.assign(value.astype(variable.dtype))
    return model


def batch_norm_layers(model) -> list:
    from tensorflow import keras

    return [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)]


def recompute_batch_norm(model, batches: Iterable[np.ndarray]) -> int:
    """Replace every batch-norm layer's moving mean and variance by their average over `batches` (student inputs).

    Each layer's statistics become the cumulative average over the batches (momentum 1 - 1/k at the k-th), so the
    result does not depend on the statistics before. Returns the number of batches seen."""
    layers = batch_norm_layers(model)
    if not layers:
        return 0
    saved = [layer.momentum for layer in layers]
    count = 0
    try:
        for images in batches:
            count += 1
            for layer in layers:
                layer.momentum = 1.0 - 1.0 / count  # first batch: its statistics alone
            model(images, training=True)
    finally:
        for layer, momentum in zip(layers, saved):
            layer.momentum = momentum
    return count
