"""Numerically stable softmax and log-softmax over the last axis.

softmax(z)_i     = exp(z_i - m) / sum_j exp(z_j - m)
log_softmax(z)_i = (z_i - m) - log(sum_j exp(z_j - m)),   m = max_j z_j

NOTE: subtracting the row maximum ``m`` changes nothing mathematically (it cancels)
but keeps every exponent <= 0, so ``exp`` never overflows, and the largest term is
exactly 1, so the sum never underflows to 0 and the log stays finite.
"""
import numpy as np


def softmax(z):
    """``z: (..., K)`` -> probabilities ``(..., K)`` summing to 1 along the last axis."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(z):
    """``z: (..., K)`` -> ``log(softmax(z))``, finite for any finite logits."""
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
