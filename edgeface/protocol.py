"""The LFW 10-fold verification protocol, computed as facenet's validate_on_lfw computes it.

Scores are squared Euclidean distances between L2-normalised embeddings (0..4). For each fold the accuracy
threshold is chosen on the other nine folds and applied to it; VAL is the true-accept rate at the threshold
where the nine training folds give FAR = 1e-3 (interpolated), exactly as facenet.calculate_val does.
Reported thresholds are also given as plain Euclidean distances, the unit the runtime compares.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

ACCURACY_THRESHOLDS = np.arange(0, 4, 0.01)
VAL_THRESHOLDS = np.arange(0, 4, 0.001)


@dataclass
class VerificationReport:
    accuracy_mean: float
    accuracy_std: float
    fold_accuracies: list[float]
    val: float
    val_std: float
    far: float
    far_target: float
    auc: float
    eer: float
    threshold_accuracy: float  # squared distance; median of the 10 per-fold best thresholds
    threshold_val: float  # squared distance at FAR target, mean over folds
    roc_fpr: list[float]
    roc_tpr: list[float]

    @property
    def euclidean_threshold_accuracy(self) -> float:
        return float(np.sqrt(self.threshold_accuracy))

    @property
    def euclidean_threshold_val(self) -> float:
        return float(np.sqrt(self.threshold_val))

    def summary(self) -> dict:
        data = asdict(self)
        data.pop("roc_fpr")
        data.pop("roc_tpr")
        data["euclidean_threshold_accuracy"] = self.euclidean_threshold_accuracy
        data["euclidean_threshold_val"] = self.euclidean_threshold_val
        return data


def squared_distances(emb_a: np.ndarray, emb_b: np.ndarray) -> np.ndarray:
    return np.sum(np.square(emb_a - emb_b), axis=1)


def _accuracy_rates(threshold: float, dist: np.ndarray, same: np.ndarray) -> tuple[float, float, float]:
    predict = dist < threshold
    tp = np.sum(predict & same)
    fp = np.sum(predict & ~same)
    tn = np.sum(~predict & ~same)
    fn = np.sum(~predict & same)
    tpr = 0.0 if tp + fn == 0 else tp / (tp + fn)
    fpr = 0.0 if fp + tn == 0 else fp / (fp + tn)
    return float(tpr), float(fpr), float((tp + tn) / dist.size)


def _val_far(threshold: float, dist: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    accept = dist < threshold
    n_same, n_diff = np.sum(same), np.sum(~same)
    val = np.sum(accept & same) / n_same if n_same else 0.0
    far = np.sum(accept & ~same) / n_diff if n_diff else 0.0
    return float(val), float(far)


def _threshold_at_far(far_train: np.ndarray, far_target: float) -> float:
    """Linear interpolation of threshold against FAR (FAR never decreases with the threshold), as facenet does."""
    if np.max(far_train) >= far_target:
        return float(np.interp(far_target, far_train, VAL_THRESHOLDS))
    return 0.0


def evaluate(distances: np.ndarray, same: np.ndarray, folds: np.ndarray, far_target: float = 1e-3) -> VerificationReport:
    """Run the protocol on per-pair squared distances, same-person flags and fold ids (0..9)."""
    from scipy import optimize

    distances = np.asarray(distances, np.float64)
    same = np.asarray(same, bool)
    folds = np.asarray(folds)
    if not (distances.shape == same.shape == folds.shape) or distances.ndim != 1:
        raise ValueError("distances, same and folds must be 1-D arrays of equal length")
    if not np.all(np.isfinite(distances)):
        raise ValueError("distances contain NaN or infinity")
    fold_ids = np.unique(folds)
    if fold_ids.size < 2:
        raise ValueError("the protocol needs at least two folds")
    tprs = np.zeros((fold_ids.size, ACCURACY_THRESHOLDS.size))
    fprs = np.zeros_like(tprs)
    accuracies, best_thresholds, vals, fars, val_thresholds = [], [], [], [], []
    for k, fold in enumerate(fold_ids):
        test, train = folds == fold, folds != fold
        train_acc = [_accuracy_rates(t, distances[train], same[train])[2] for t in ACCURACY_THRESHOLDS]
        best = ACCURACY_THRESHOLDS[int(np.argmax(train_acc))]
        for i, t in enumerate(ACCURACY_THRESHOLDS):
            tprs[k, i], fprs[k, i], _ = _accuracy_rates(t, distances[test], same[test])
        accuracies.append(_accuracy_rates(best, distances[test], same[test])[2])
        best_thresholds.append(best)
        far_train = np.array([_val_far(t, distances[train], same[train])[1] for t in VAL_THRESHOLDS])
        threshold = _threshold_at_far(far_train, far_target)
        val, far = _val_far(threshold, distances[test], same[test])
        vals.append(val)
        fars.append(far)
        val_thresholds.append(threshold)
    tpr, fpr = tprs.mean(0), fprs.mean(0)
    order = np.argsort(fpr, kind="stable")
    auc = float(np.trapezoid(tpr[order], fpr[order]))
    try:
        eer = float(optimize.brentq(lambda x: 1.0 - x - float(np.interp(x, fpr[order], tpr[order])), 0.0, 1.0))
    except ValueError:
        eer = float("nan")
    return VerificationReport(
        accuracy_mean=float(np.mean(accuracies)),
        accuracy_std=float(np.std(accuracies)),
        fold_accuracies=[float(a) for a in accuracies],
        val=float(np.mean(vals)),
        val_std=float(np.std(vals)),
        far=float(np.mean(fars)),
        far_target=far_target,
        auc=auc,
        eer=eer,
        threshold_accuracy=float(np.median(best_thresholds)),
        threshold_val=float(np.mean(val_thresholds)),
        roc_fpr=[float(v) for v in fpr],
        roc_tpr=[float(v) for v in tpr],
    )


def plot_roc(curves: dict[str, VerificationReport], path, title: str = "LFW ROC (10-fold)") -> None:
    """Write a ROC PNG with one curve per report (log-scale FAR), atomically."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from edgeface.runtime.fileio import atomic_write_bytes

    fig, ax = plt.subplots(figsize=(6, 5), dpi=110)
    for label, report in curves.items():
        fpr, tpr = np.asarray(report.roc_fpr), np.asarray(report.roc_tpr)
        keep = fpr > 0
        ax.plot(fpr[keep], tpr[keep], label=f"{label}: acc {100 * report.accuracy_mean:.2f}%, AUC {report.auc:.4f}")
    ax.set_xscale("log")
    ax.set_xlim(1e-4, 1)
    ax.set_ylim(0.5, 1.0)
    ax.set_xlabel("false accept rate")
    ax.set_ylabel("true accept rate")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())
