"""Lesson 2 -- losses: softmax + cross-entropy, mean squared error, and an L2 penalty.

Grade: python examples/course/grade.py softmax_cross_entropy mse l2_penalty

Each returns (loss, gradient): the loss a float, its gradient with the shape of the array it
is taken with respect to. Every loss is a mean, as in Keras: its count is in every gradient.
"""
import numpy as np


def softmax_cross_entropy(z, y):
    """L = -(1/N) sum_n log softmax(z)[n, y[n]].   z: (N, K) logits, any size; y: (N,) integer labels.

    Returns (L, dz) with dz = dL/dz: (N, K).
    """
    n = len(z)
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))   # tinynet/core/ops/softmax.py
    loss = -log_p[np.arange(n), y].mean()
    dz = np.exp(log_p)
    dz[np.arange(n), y] -= 1            # p - y, with y one-hot
    return float(loss), dz / n          # tinynet/core/losses.py, SparseCategoricalCrossentropy.backward


def mse(y_pred, y):
    """L = mean over all N*K entries of (y_pred - y)^2.   y_pred, y: (N, K).  Returns (L, dy_pred)."""
    diff = y_pred - y
    return float(np.mean(diff ** 2)), 2 * diff / diff.size   # MeanSquaredError.backward


def l2_penalty(w, l2):
    """P = l2 * sum(w^2), Keras's regularizers.l2(l2). Returns (P, dP/dw)."""
    return float(l2 * np.sum(w ** 2)), 2 * l2 * w   # tinynet/core/regularizers.py
