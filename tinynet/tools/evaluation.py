"""Evaluating a trained classifier: confusion matrix, per-class report, ROC curves and AUC.

These work on a whole test set after training (the per-batch training metrics
live in ``metrics.py``, which re-exports everything here, so
``tinynet.metrics.confusion_matrix`` works as in the articles' scikit-learn code, docs/articles.md).

Labels may be given as integers ``(N,)`` or one-hot / probabilities ``(N, K)``
(then the argmax is the label), so ``model.predict(x)`` can be passed as it is.

Conventions, as in scikit-learn: rows of the confusion matrix are true classes,
columns predicted ones; a precision or recall whose denominator is 0 counts as 0.
"""
import numpy as np

from ..core.checks import check_bool, check_int, invalid


def class_labels(y, argument):
    """Integer class labels ``(N,)`` from integers, one-hot rows or probability rows."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    y = y.reshape(-1) if y.ndim == 2 else y
    if y.ndim != 1:
        raise invalid(f"{argument}.shape", "class labels of shape (N,) or one-hot / probability rows of shape (N, K)",
                      y.shape)
    if y.size and ((y.dtype.kind not in "iub" and not np.all(y == np.round(y))) or y.min() < 0):
        raise invalid(argument, "non-negative integer class labels", y)
    return y.astype(np.int64)


def confusion_matrix(y_true, y_pred, num_classes=None):
    """Counts ``cm[i, j]`` of samples of true class i predicted as class j.

    Args:
        y_true, y_pred: integer labels ``(N,)``, or ``(N, K)`` rows whose argmax is the label.
        num_classes: K; default the largest label seen plus one.

    Returns:
        int64 array ``(K, K)``; the diagonal holds the correct predictions.
    """
    t, p = class_labels(y_true, "y_true"), class_labels(y_pred, "y_pred")
    if len(t) != len(p):
        raise ValueError(f"y_true and y_pred must have the same length. Received: {len(t)} and {len(p)} samples.")
    if num_classes is not None:
        num_classes = check_int(num_classes, "num_classes", minimum=1, owner="confusion_matrix")
    k = int(max(t.max(initial=-1), p.max(initial=-1)) + 1) if num_classes is None else num_classes
    if t.size and max(t.max(), p.max()) >= k:
        raise ValueError(f"Received label {max(t.max(), p.max())}, which does not fit num_classes={k} "
                         f"(labels must be in [0, {k - 1}]).")
    # Each (true, predicted) pair gets its own bin number k * true + predicted.
    return np.bincount(k * t + p, minlength=k * k).reshape(k, k)


def precision_recall_fscore_support(y_true, y_pred, num_classes=None):
    """Per-class precision, recall, F1 and support from the confusion matrix.

        precision_i = cm[i, i] / sum_j cm[j, i]    (of those predicted i, how many are i)
        recall_i    = cm[i, i] / sum_j cm[i, j]    (of those that are i, how many were found)
        f1_i        = 2 precision_i recall_i / (precision_i + recall_i)
        support_i   = sum_j cm[i, j]               (how many samples are i)

    Returns:
        four arrays of shape ``(K,)``: precision, recall, f1 (float64), support (int64).
    """
    cm = confusion_matrix(y_true, y_pred, num_classes)
    tp = np.diag(cm).astype(np.float64)
    predicted, support = cm.sum(axis=0), cm.sum(axis=1)
    precision = _safe_divide(tp, predicted)
    recall = _safe_divide(tp, support)
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    return precision, recall, f1, support


def _safe_divide(numerator, denominator):
    # NOTE: 0/0 counts as 0 (scikit-learn's zero_division default, with its warning left out).
    out = np.zeros_like(numerator, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def classification_report(y_true, y_pred, target_names=None, digits=2, num_classes=None, output_dict=False):
    """scikit-learn's per-class table of precision, recall, F1 and support, and their averages.

    The layout is the one the CIFAR-100 article prints ("使用 Python+Keras 进行基础深度学习。第 2 章",
    docs/articles.md)::

                     precision    recall  f1-score   support

                  0       0.40      0.49      0.44       100
                  ...
          micro avg       0.22      0.22      0.22     10000
          macro avg       0.22      0.22      0.21     10000
        avg / total       0.22      0.22      0.21     10000

    ``micro avg`` pools every sample (for single-label data it equals the
    accuracy), ``macro avg`` is the plain mean over classes, and ``avg / total``
    the mean weighted by support (newer scikit-learn calls it "weighted avg").

    Args:
        target_names: a name for each class, default the class numbers.
        digits: decimals shown.
        output_dict: return ``{name: {'precision', 'recall', 'f1-score', 'support'}}`` instead of text.
    """
    digits = check_int(digits, "digits", minimum=0, owner="classification_report")
    output_dict = check_bool(output_dict, "output_dict", owner="classification_report")
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, num_classes)
    k = len(support)
    names = [str(i) for i in range(k)] if target_names is None else [str(name) for name in target_names]
    if len(names) != k:
        raise invalid("target_names", f"{k} names (one per class)", target_names)
    total = int(support.sum())
    micro = float(np.diag(confusion_matrix(y_true, y_pred, k)).sum() / total) if total else 0.0
    rows = {name: (p, r, f, int(s)) for name, p, r, f, s in zip(names, precision, recall, f1, support)}
    rows["micro avg"] = (micro, micro, micro, total)
    rows["macro avg"] = (precision.mean(), recall.mean(), f1.mean(), total)
    weights = support if total else np.ones(k)
    rows["avg / total"] = (np.average(precision, weights=weights), np.average(recall, weights=weights),
                           np.average(f1, weights=weights), total)
    if output_dict:
        return {name: dict(zip(("precision", "recall", "f1-score", "support"),
                               (float(p), float(r), float(f), s))) for name, (p, r, f, s) in rows.items()}
    width = max(len(name) for name in rows)
    lines = [" " * width + " " + "".join(f" {h:>9}" for h in ("precision", "recall", "f1-score", "support")), ""]
    for i, (name, (p, r, f, s)) in enumerate(rows.items()):
        if i == k:
            lines.append("")
        lines.append(f"{name:>{width}} " + "".join(f" {v:>9.{digits}f}" for v in (p, r, f)) + f" {s:>9}")
    return "\n".join(lines) + "\n"


def roc_curve(y_true, scores, pos_label=1):
    """The ROC curve of a binary problem: false and true positive rates at every threshold.

    A sample counts as positive when its score is >= the threshold. Going through
    the distinct scores from the highest down, each threshold lets in some more
    samples; ``tpr`` is the fraction of positives let in so far, ``fpr`` that of
    negatives. The curve starts at (0, 0) with threshold ``inf``.

    Args:
        y_true: ``(N,)`` labels; ``pos_label`` marks the positives, all else is negative.
        scores: ``(N,)`` scores, higher meaning more likely positive (e.g. ``probs[:, k]``).

    Returns:
        ``fpr, tpr, thresholds``, each ``(T + 1,)`` for T distinct scores.
    """
    y_true, scores = np.asarray(y_true).reshape(-1), np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(y_true) != len(scores):
        raise ValueError(f"y_true and scores must have the same length. Received: {len(y_true)} and {len(scores)}.")
    positive = y_true == pos_label
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"roc_curve needs both positive (label {pos_label!r}) and negative samples. "
                         f"Received: {n_pos} positives and {n_neg} negatives.")
    order = np.argsort(-scores, kind="stable")
    scores, positive = scores[order], positive[order]
    # The last index of each run of equal scores: a threshold lets in all tied samples at once.
    last_of_run = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]
    tps = np.cumsum(positive)[last_of_run]
    fps = (last_of_run + 1) - tps
    fpr = np.r_[0.0, fps / n_neg]
    tpr = np.r_[0.0, tps / n_pos]
    return fpr, tpr, np.r_[np.inf, scores[last_of_run]]


def auc(x, y):
    """Area under the curve through the points ``(x, y)`` by the trapezoid rule.

    ``x`` must be monotonic (increasing, like an ROC curve's fpr, or decreasing).
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2:
        raise ValueError(f"auc needs x and y of the same shape (n,), n >= 2. Received: {x.shape} and {y.shape}.")
    dx = np.diff(x)
    if np.all(dx >= 0):
        direction = 1.0
    elif np.all(dx <= 0):
        direction = -1.0
    else:
        raise ValueError("x is neither increasing nor decreasing: auc needs a monotonic x.")
    return float(direction * np.sum(dx * (y[1:] + y[:-1]) / 2))


def roc_curves(y_true, probs):
    """One-vs-rest ROC curves of a K-class classifier, with their micro and macro averages.

    Class k's curve treats class k as positive and the rest as negative, scored
    by ``probs[:, k]``. ``'micro'`` pools every (sample, class) pair into one
    binary problem; ``'macro'`` averages the K curves' tpr at every fpr where
    any of them has a point (then AUC of that mean curve), as the CIFAR-100 article draws them.

    Args:
        y_true: ``(N,)`` integer labels or ``(N, K)`` one-hot rows.
        probs: ``(N, K)`` scores, e.g. ``model.predict(x)``.

    Returns:
        ``fpr, tpr, roc_auc``: dicts keyed by class index 0..K-1, ``'micro'`` and ``'macro'``.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2:
        raise invalid("probs.shape", "scores of shape (N, K)", probs.shape)
    k = probs.shape[1]
    one_hot = np.eye(k)[class_labels(y_true, "y_true")] if np.asarray(y_true).ndim == 1 else np.asarray(y_true)
    fpr, tpr, roc_auc = {}, {}, {}
    for c in range(k):
        fpr[c], tpr[c], _ = roc_curve(one_hot[:, c], probs[:, c])
        roc_auc[c] = auc(fpr[c], tpr[c])
    fpr["micro"], tpr["micro"], _ = roc_curve(one_hot.ravel(), probs.ravel())
    roc_auc["micro"] = auc(fpr["micro"], tpr["micro"])
    all_fpr = np.unique(np.concatenate([fpr[c] for c in range(k)]))
    tpr["macro"] = np.mean([np.interp(all_fpr, fpr[c], tpr[c]) for c in range(k)], axis=0)
    fpr["macro"] = all_fpr
    roc_auc["macro"] = auc(fpr["macro"], tpr["macro"])
    return fpr, tpr, roc_auc


__all__ = ["confusion_matrix", "precision_recall_fscore_support", "classification_report", "roc_curve", "auc",
           "roc_curves"]
