"""Metrics from counts of true / false positives / negatives, summed over every batch: ``Precision``,
``Recall`` and ``AUC``. An average of per-batch values would be wrong for them: they keep the counts."""
import numpy as np

from ..checks import check_choice, check_float, check_int, invalid
from .functions import same_shape
from .mean import Metric, checked_sample_weight


def _confusion_counts(y_true, y_pred, thresholds, sample_weight, class_id, top_k):
    """Weighted true/false positives/negatives at each threshold: four arrays ``(T,)``.

    Every output counts as one binary prediction ``y_pred > threshold`` against
    ``y_true`` (Keras's ``update_confusion_matrix_variables``).
    """
    y_pred = np.asarray(y_pred, dtype=np.float64)
    y_true = same_shape(y_true, y_pred).astype(bool) if np.size(y_true) == y_pred.size else None
    if y_true is None:
        raise ValueError(f"y_true and y_pred must hold one label per output. Received: {np.size(y_true)} labels "
                         f"for y_pred of shape {y_pred.shape}")
    weight = checked_sample_weight(sample_weight, len(y_pred))
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
        self.reset_state()

    def reset_state(self):
        zeros = np.zeros(len(self.thresholds))
        self.true_positives, self.false_positives = zeros.copy(), zeros.copy()
        self.true_negatives, self.false_negatives = zeros.copy(), zeros.copy()

    def get_config(self):
        thresholds = [float(t) for t in self.thresholds]
        return {**super().get_config(), "thresholds": thresholds[0] if len(thresholds) == 1 else thresholds,
                "top_k": self.top_k, "class_id": self.class_id}

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
        self.given_thresholds = None if thresholds is None else [float(t) for t in inner]
        super().__init__([0.0 - epsilon, *inner, 1.0 + epsilon], None, None, name, dtype)

    def get_config(self):
        config = {"name": self.name, "dtype": None if self.dtype is None else str(self.dtype),
                  "num_thresholds": self.num_thresholds, "curve": self.curve, "summation_method": self.summation_method,
                  "multi_label": False}
        if self.given_thresholds is not None:
            config["thresholds"] = self.given_thresholds
        return config

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
