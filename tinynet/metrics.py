"""Metrics reported during training, as functions and as Keras's metric objects.

Functions take ``(y_true, y_pred)`` for one batch and return one value per sample,
as Keras's do: ``categorical_accuracy(y, p)`` is an array of 0s and 1s of shape ``(N,)``.

Objects accumulate over many batches and give the value for all of them:

    m = metrics.AUC()
    for x, y in batches:
        m.update_state(y, model.predict(x))
    m.result()          # the AUC of every sample seen since the last m.reset_state()

An average of per-batch values is right for the mean metrics (accuracies, MAE)
but not for AUC, precision or recall, which is why they keep counts instead.
``get_metric`` turns anything ``compile(metrics=[...])`` accepts into such an object.

The metrics for a finished model (confusion matrix, classification report, ROC
curves and AUC) live in ``evaluation.py`` and are re-exported here, so
``tinynet.metrics.confusion_matrix`` works like scikit-learn's.
"""
import copy

import numpy as np

from .checks import check_choice, check_float, check_int, invalid
from .evaluation import (auc, classification_report, confusion_matrix, precision_recall_fscore_support,  # noqa: F401
                         roc_curve, roc_curves)


# ----- functions: one value per sample -----------------------------------------------

def _per_sample(values):
    """Mean over every axis but the first: ``(N, ...) -> (N,)``."""
    values = np.asarray(values, dtype=np.float64)
    return values.reshape(len(values), -1).mean(axis=1) if values.ndim > 1 else values


def _like(y_true, y_pred):
    """``y_true`` in ``y_pred``'s shape (``(N,)`` labels against ``(N, 1)`` outputs and the reverse)."""
    y_true = np.asarray(y_true)
    return y_true.reshape(y_pred.shape) if y_true.size == y_pred.size else y_true


def _sparse(y_true, y_pred):
    """Integer labels ``(N,)`` from ``(N,)`` or ``(N, 1)``."""
    return np.asarray(y_true).reshape(len(y_pred))


def accuracy(y_true, y_pred):
    """1 where the prediction equals the label exactly (Keras's ``Accuracy``)."""
    y_pred = np.asarray(y_pred)
    return _per_sample(_like(y_true, y_pred) == y_pred)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Fraction of outputs on the right side of ``threshold``: ``y_true == (y_pred > threshold)``."""
    y_pred = np.asarray(y_pred)
    return _per_sample(_like(y_true, y_pred) == (y_pred > threshold))


def categorical_accuracy(y_true, y_pred):
    """1 where the predicted class (argmax) is the one-hot label's."""
    return _per_sample(np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1))


def sparse_categorical_accuracy(y_true, y_pred):
    """1 where the argmax equals the integer label."""
    y_pred = np.asarray(y_pred)
    return _per_sample(_sparse(y_true, y_pred) == y_pred.argmax(axis=-1))


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1 where the label's score is among the ``k`` largest of its row.

    NOTE: as ``tf.math.in_top_k``, classes tied with the k-th score all count as in
    the top k: the label is in when fewer than ``k`` classes score strictly higher.
    """
    y_pred = np.asarray(y_pred)
    label_scores = np.take_along_axis(y_pred, _sparse(y_true, y_pred).astype(np.int64)[:, None], axis=-1)
    return _per_sample(np.sum(y_pred > label_scores, axis=-1) < k)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """``sparse_top_k_categorical_accuracy`` with one-hot labels."""
    return sparse_top_k_categorical_accuracy(np.argmax(y_true, axis=-1), y_pred, k)


def mean_squared_error(y_true, y_pred):
    """``mean((y_pred - y_true)^2)`` over each sample's outputs."""
    y_pred = np.asarray(y_pred, dtype=np.float64)
    return _per_sample((y_pred - _like(y_true, y_pred)) ** 2)


def mean_absolute_error(y_true, y_pred):
    """``mean(|y_pred - y_true|)`` over each sample's outputs."""
    y_pred = np.asarray(y_pred, dtype=np.float64)
    return _per_sample(np.abs(y_pred - _like(y_true, y_pred)))


# ----- objects: state over many batches ----------------------------------------------

class Metric:
    """Base class: ``update_state`` adds a batch, ``result`` gives the value so far, ``reset_state`` forgets.

    ``m(y_true, y_pred)`` is ``m.update_state(y_true, y_pred)`` then ``m.result()``, as in Keras.
    ``m.batch_value(y_true, y_pred)`` is the value on that batch alone, and leaves the state alone.
    """

    default_name = "metric"

    def __init__(self, name=None, dtype=None):
        if name is not None and not isinstance(name, str):
            raise invalid("name", "a string", name, type(self).__name__)
        self.name = name or self.default_name
        self.dtype = dtype
        self.reset_state()

    def reset_state(self):
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def reset_states(self):  # the Keras 2 spelling
        self.reset_state()

    def __call__(self, y_true, y_pred, sample_weight=None):
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def batch_value(self, y_true, y_pred):
        fresh = copy.deepcopy(self)
        fresh.reset_state()
        fresh.update_state(y_true, y_pred)
        return fresh.result()

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} result={self.result():.4f}>"


def _sample_weight(sample_weight, n):
    if sample_weight is None:
        return np.ones(n)
    weight = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    if weight.shape != (n,) or not np.all(np.isfinite(weight)) or np.any(weight < 0):
        raise invalid("sample_weight", f"{n} finite non-negative weights, one per sample", sample_weight)
    return weight


class MeanMetricWrapper(Metric):
    """The (weighted) mean of ``fn(y_true, y_pred)`` over every sample seen.

        result = sum_i w_i v_i / sum_i w_i

    ``fn`` returns one value per sample, or one value for the batch (then it counts
    for each of the batch's samples, which is how ``fit`` has always averaged).
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise invalid("fn", "a function (y_true, y_pred) -> values", fn, "MeanMetricWrapper", error=TypeError)
        self.fn, self.kwargs = fn, kwargs
        super().__init__(name or getattr(fn, "__name__", None), dtype)

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        n = len(y_pred)
        values = np.asarray(self.fn(y_true, y_pred, **self.kwargs), dtype=np.float64)
        values = np.full(n, float(values)) if values.ndim == 0 else values.reshape(n, -1).mean(axis=1)
        weight = _sample_weight(sample_weight, n)
        self.total += float(values @ weight)
        self.count += float(weight.sum())

    def result(self):
        return self.total / self.count if self.count else 0.0

    def batch_value(self, y_true, y_pred):
        return float(np.mean(self.fn(y_true, y_pred, **self.kwargs)))


class Accuracy(MeanMetricWrapper):
    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name, dtype)


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name, dtype, threshold=check_float(threshold, "threshold", owner="BinaryAccuracy"))


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name, dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name, dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name, dtype, k=check_int(k, "k", minimum=1, owner=type(self).__name__))


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name, dtype, k=check_int(k, "k", minimum=1, owner=type(self).__name__))


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name, dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name, dtype)


def _confusion_counts(y_true, y_pred, thresholds, sample_weight, class_id, top_k):
    """Weighted true/false positives/negatives at each threshold: four arrays ``(T,)``.

    Every output counts as one binary prediction ``y_pred > threshold`` against
    ``y_true`` (Keras's ``update_confusion_matrix_variables``).
    """
    y_pred = np.asarray(y_pred, dtype=np.float64)
    y_true = _like(y_true, y_pred).astype(bool) if np.size(y_true) == y_pred.size else None
    if y_true is None:
        raise ValueError(f"y_true and y_pred must hold one label per output. Received: {np.size(y_true)} labels "
                         f"for y_pred of shape {y_pred.shape}")
    weight = _sample_weight(sample_weight, len(y_pred))
    weight = np.broadcast_to(weight.reshape((-1,) + (1,) * (y_pred.ndim - 1)), y_pred.shape)
    if top_k is not None:  # only each row's k largest outputs may count as positive
        kth = np.sort(y_pred, axis=-1)[..., -top_k][..., None]
        y_pred = np.where(y_pred >= kth, y_pred, -np.inf)
    if class_id is not None:
        y_true, y_pred, weight = y_true[..., class_id], y_pred[..., class_id], weight[..., class_id]
    y_true, y_pred, weight = y_true.reshape(-1), y_pred.reshape(-1), weight.reshape(-1)
    predicted = y_pred[None, :] > np.asarray(thresholds)[:, None]        # (T, n)
    tp = (predicted & y_true) @ weight
    fp = (predicted & ~y_true) @ weight
    fn = (~predicted & y_true) @ weight
    tn = (~predicted & ~y_true) @ weight
    return tp, fp, tn, fn


def _divide(numerator, denominator):
    """numerator / denominator, 0 where the denominator is 0 (Keras's ``divide_no_nan``)."""
    numerator, denominator = np.asarray(numerator, float), np.asarray(denominator, float)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator != 0)


class _ThresholdCounts(Metric):
    """Keeps true/false positives/negatives at fixed thresholds, summed over every batch."""

    def __init__(self, thresholds, top_k, class_id, name, dtype):
        self.thresholds = np.atleast_1d(np.asarray(thresholds, dtype=np.float64))
        owner = type(self).__name__
        self.top_k = None if top_k is None else check_int(top_k, "top_k", minimum=1, owner=owner)
        self.class_id = None if class_id is None else check_int(class_id, "class_id", minimum=0, owner=owner)
        super().__init__(name, dtype)

    def reset_state(self):
        zeros = np.zeros(len(self.thresholds))
        self.true_positives, self.false_positives = zeros.copy(), zeros.copy()
        self.true_negatives, self.false_negatives = zeros.copy(), zeros.copy()

    def update_state(self, y_true, y_pred, sample_weight=None):
        tp, fp, tn, fn = _confusion_counts(y_true, y_pred, self.thresholds, sample_weight, self.class_id, self.top_k)
        self.true_positives += tp
        self.false_positives += fp
        self.true_negatives += tn
        self.false_negatives += fn


def _thresholds(thresholds, owner):
    if thresholds is None:
        return [0.5]
    values = np.atleast_1d(np.asarray(thresholds, dtype=object))
    for value in values:
        check_float(value, "thresholds", 0, 1, owner=owner, expected="numbers in [0, 1]")
    return values.astype(np.float64)


class Precision(_ThresholdCounts):
    """Of the outputs predicted positive (``y_pred > threshold``), the fraction that are: ``TP / (TP + FP)``."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="precision", dtype=None):
        super().__init__(_thresholds(thresholds, type(self).__name__), top_k, class_id, name, dtype)

    def result(self):
        value = _divide(self.true_positives, self.true_positives + self.false_positives)
        return float(value[0]) if len(value) == 1 else value


class Recall(_ThresholdCounts):
    """Of the positive outputs, the fraction predicted positive: ``TP / (TP + FN)``."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="recall", dtype=None):
        super().__init__(_thresholds(thresholds, type(self).__name__), top_k, class_id, name, dtype)

    def result(self):
        value = _divide(self.true_positives, self.true_positives + self.false_negatives)
        return float(value[0]) if len(value) == 1 else value


class AUC(_ThresholdCounts):
    """Area under the ROC (or precision-recall) curve, from counts at ``num_thresholds`` thresholds.

    As Keras: thresholds ``-eps, 1/(T-1), ..., (T-2)/(T-1), 1+eps`` (``eps = 1e-7``);
    at each, every output is a positive prediction when ``y_pred > threshold``. The
    curve's points are ``(FPR, TPR)`` for ROC, ``(recall, precision)`` for PR, and the
    area is a sum over the T-1 intervals of width times height, the height being the
    mean of the two ends (``'interpolation'``), the larger (``'majoring'``) or the
    smaller (``'minoring'``). For PR with ``'interpolation'``, precision is interpolated
    along the curve as Davis & Goadrich (2006) show, as Keras does.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name="auc", dtype=None,
                 thresholds=None, multi_label=False):
        self.curve = check_choice(curve, "curve", ("roc", "pr"), owner="AUC").upper()
        self.summation_method = check_choice(summation_method, "summation_method",
                                             ("interpolation", "majoring", "minoring"), owner="AUC")
        if multi_label:
            raise invalid("multi_label", "False (tinynet's AUC flattens all outputs into one curve)", multi_label,
                          "AUC")
        if thresholds is None:
            num_thresholds = check_int(num_thresholds, "num_thresholds", minimum=2, owner="AUC")
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        else:
            inner = sorted(_thresholds(thresholds, "AUC"))
        epsilon = 1e-7
        self.num_thresholds = len(inner) + 2
        super().__init__([0.0 - epsilon, *inner, 1.0 + epsilon], None, None, name, dtype)

    def result(self):
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolated_pr_auc()
        recall = _divide(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide(fp, fp + tn), recall
        else:
            x, y = recall, _divide(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "majoring":
            heights = np.maximum(y[:-1], y[1:])
        else:
            heights = np.minimum(y[:-1], y[1:])
        # The thresholds rise, so x falls: each interval's width is x[i] - x[i+1].
        return float(np.sum((x[:-1] - x[1:]) * heights))

    def _interpolated_pr_auc(self):
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        # Between two thresholds precision follows tp = slope * p + intercept; integrate it over recall.
        slope = _divide(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        ratio = np.where((p[:-1] > 0) & (p[1:] > 0), _divide(p[:-1], np.maximum(p[1:], 0)), 1.0)
        increments = _divide(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0))
        return float(np.sum(increments))


# ----- names, as compile(metrics=[...]) accepts them ---------------------------------

FUNCTIONS = {
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "binary_accuracy": binary_accuracy,
    "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
    "mse": mean_squared_error,
    "mean_squared_error": mean_squared_error,
    "mae": mean_absolute_error,
    "mean_absolute_error": mean_absolute_error,
}

# Names that stand for a stateful object; the History key is the object's name ('AUC' -> 'auc').
CLASSES = {"auc": AUC, "precision": Precision, "recall": Recall}

OBJECTS = {cls.__name__: cls for cls in (
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError, Precision, Recall, AUC)}


def _accuracy_for(loss_name):
    """'accuracy' means the accuracy that matches the loss, as in Keras."""
    if loss_name == "sparse_categorical_crossentropy":
        return sparse_categorical_accuracy
    if loss_name == "binary_crossentropy":
        return binary_accuracy
    return categorical_accuracy


def get_metric(identifier, loss_name=None):
    """A ``Metric`` object for anything ``compile(metrics=[...])`` accepts.

    - a ``Metric`` object: itself;
    - ``'accuracy'`` / ``'acc'``: the accuracy that matches the loss (sparse for sparse
      labels, binary for binary cross-entropy, categorical otherwise), named as spelled;
    - a function name (``'mae'``, ``'top_k_categorical_accuracy'``, ...) or a function:
      the mean of its values, named as spelled (a function by its ``__name__``);
    - ``'AUC'``, ``'precision'``, ``'recall'`` or a class name (``'SparseCategoricalAccuracy'``):
      a new object of that class, named as Keras names it (``'auc'``).
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier) and not isinstance(identifier, str):
        return MeanMetricWrapper(identifier, getattr(identifier, "__name__", type(identifier).__name__))
    if not isinstance(identifier, str):
        raise invalid("metrics", "a metric name such as 'accuracy', a function or a tinynet.metrics.Metric",
                      identifier, error=TypeError)
    name = identifier.lower()
    if name in ("accuracy", "acc"):
        return MeanMetricWrapper(_accuracy_for(loss_name), identifier)
    if name in FUNCTIONS:
        return MeanMetricWrapper(FUNCTIONS[name], identifier)
    if name in CLASSES:
        return CLASSES[name]()
    if identifier in OBJECTS:
        return OBJECTS[identifier]()
    known = sorted(["accuracy", "acc", *FUNCTIONS, *CLASSES, *OBJECTS])
    raise ValueError(f"Unknown metric: {identifier!r}. Expected one of {known}, a function or a "
                     "tinynet.metrics.Metric object.")


def get(identifier, loss_name):
    """``(name, function)`` for a metric given as Keras accepts it: ``function(y_true, y_pred)``
    is the metric's value on one batch (a float), which ``fit`` averages over an epoch.

    For AUC, precision and recall a mean of batch values is not the epoch's value;
    a training loop that wants the exact one uses ``get_metric`` and the object's
    ``reset_state`` / ``update_state`` / ``result``.
    """
    metric = get_metric(identifier, loss_name)
    return metric.name, metric.batch_value
