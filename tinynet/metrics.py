"""Metrics reported during training: accuracy (categorical, sparse, binary) and MSE.

Each metric function takes ``(y_true, y_pred)`` for one batch and returns the
batch mean; ``fit`` and ``evaluate`` average them over an epoch weighted by batch size.

The metrics for a finished model (confusion matrix, classification report, ROC
curves and AUC) live in ``evaluation.py`` and are re-exported here, so
``tinynet.metrics.confusion_matrix`` works like scikit-learn's.
"""
import numpy as np

from .evaluation import (auc, classification_report, confusion_matrix, precision_recall_fscore_support,  # noqa: F401
                         roc_curve, roc_curves)


def categorical_accuracy(y_true, y_pred):
    """Fraction of samples whose predicted class (argmax) equals the one-hot label's."""
    return float(np.mean(y_true.argmax(axis=-1) == y_pred.argmax(axis=-1)))


def sparse_categorical_accuracy(y_true, y_pred):
    """Fraction of samples whose argmax equals the integer label."""
    return float(np.mean(np.asarray(y_true).reshape(len(y_pred)) == y_pred.argmax(axis=-1)))


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Fraction of outputs on the right side of ``threshold``."""
    return float(np.mean((y_pred > threshold) == (np.asarray(y_true).reshape(y_pred.shape) > threshold)))


def mean_squared_error(y_true, y_pred):
    return float(np.mean((y_pred - np.asarray(y_true).reshape(y_pred.shape)) ** 2))


FUNCTIONS = {
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "binary_accuracy": binary_accuracy,
    "mse": mean_squared_error,
    "mean_squared_error": mean_squared_error,
}


def get(identifier, loss_name):
    """``(name, function)`` for a metric given as Keras accepts it.

    ``'accuracy'`` / ``'acc'`` picks the accuracy that matches the loss, as Keras
    does (sparse for sparse labels, binary for binary cross-entropy, categorical
    otherwise); the name stays as the user spelled it, so History keys match.
    """
    if callable(identifier) and not isinstance(identifier, str):
        return identifier.__name__, identifier
    if not isinstance(identifier, str):
        raise ValueError(f"Unknown metric: {identifier!r}. Expected a name such as 'accuracy' or a function.")
    name = identifier.lower()
    if name in ("accuracy", "acc"):
        if loss_name == "sparse_categorical_crossentropy":
            return identifier, sparse_categorical_accuracy
        if loss_name == "binary_crossentropy":
            return identifier, binary_accuracy
        return identifier, categorical_accuracy
    if name in FUNCTIONS:
        return identifier, FUNCTIONS[name]
    raise ValueError(
        f"Unknown metric: {identifier!r}. Expected one of {sorted(['accuracy', 'acc', *FUNCTIONS])} or a function.")
