"""Metric functions: ``(y_true, y_pred)`` for one batch -> one value per sample, as Keras's return."""
import numpy as np


def _per_sample(values):
    """Mean over every axis but the first: ``(N, ...) -> (N,)``."""
    values = np.asarray(values, dtype=np.float64)
    return values.reshape(len(values), -1).mean(axis=1) if values.ndim > 1 else values


def same_shape(y_true, y_pred):
    """``y_true`` in ``y_pred``'s shape (``(N,)`` labels against ``(N, 1)`` outputs and the reverse)."""
    y_true = np.asarray(y_true)
    return y_true.reshape(y_pred.shape) if y_true.size == y_pred.size else y_true


def _sparse(y_true, y_pred):
    """Integer labels ``(N,)`` from ``(N,)`` or ``(N, 1)``."""
    return np.asarray(y_true).reshape(len(y_pred))


def accuracy(y_true, y_pred):
    """1 where the prediction equals the label exactly (Keras's ``Accuracy``)."""
    y_pred = np.asarray(y_pred)
    return _per_sample(same_shape(y_true, y_pred) == y_pred)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Fraction of outputs on the right side of ``threshold``: ``y_true == (y_pred > threshold)``."""
    y_pred = np.asarray(y_pred)
    return _per_sample(same_shape(y_true, y_pred) == (y_pred > threshold))


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
    return _per_sample((y_pred - same_shape(y_true, y_pred)) ** 2)


def mean_absolute_error(y_true, y_pred):
    """``mean(|y_pred - y_true|)`` over each sample's outputs."""
    y_pred = np.asarray(y_pred, dtype=np.float64)
    return _per_sample(np.abs(y_pred - same_shape(y_true, y_pred)))
