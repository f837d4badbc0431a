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
    raise NotImplementedError("write softmax_cross_entropy")


def mse(y_pred, y):
    """L = mean over all N*K entries of (y_pred - y)^2.   y_pred, y: (N, K).  Returns (L, dy_pred)."""
    raise NotImplementedError("write mse")


def l2_penalty(w, l2):
    """P = l2 * sum(w^2), Keras's regularizers.l2(l2). Returns (P, dP/dw)."""
    raise NotImplementedError("write l2_penalty")
