"""The fast twins of normalization.py's batch normalization (``impl='fast'``).

Same signatures and results as the references (the math is in normalization.py).

NOTE: how the arithmetic is laid out: an (N, H, W, C) array is
viewed as rows of W*C values, ``(N*H, W*C)``, and each per-channel vector is tiled W times
to match (``tiled``). NumPy then works along rows of W*C values instead of rows of C (16
or 32 here), which its loops handle several times faster; and the sums over M become one
sum over the rows followed by folding the W copies of each channel together
(``channel_sums``); sums of a product, sum(a * b), go through np.einsum, which never builds
the a * b array (``channel_dots``).

Every pass over x costs about the same (the arrays are larger than the cache), so the code
is arranged to make few of them: the forward keeps x - mean rather than xhat, which saves
the pass that would scale it (backward needs only a per-channel scale of it), and neither
direction builds a product array just to sum it.
"""

from typing import NamedTuple

import numpy as np

from ..core.ops import normalization, register
from ..core.ops.normalization import BatchNormInferenceCache


class BatchNormCache(NamedTuple):
    """What batch_norm_backward needs from a training-mode forward pass (this impl's)."""

    xc: np.ndarray       # (R, k*C) the centred input x - mean, in the rows layout of rows
    inv_std: np.ndarray  # (C,) 1 / sqrt(var + epsilon)
    gamma: np.ndarray    # (C,) the scale used
    x_shape: tuple       # the shape of x, to give dx the same shape


def as_rows(x):
    """A 2-D view (R, k*C) of x whose rows hold k whole pixels of C channels each.

    (N, C) stays (N, C) with k = 1; (N, H, W, C) becomes (N*H, W*C) with k = W.
    """
    if x.ndim <= 2:
        return x.reshape(-1, x.shape[-1])
    return x.reshape(-1, x.shape[-2] * x.shape[-1])


def tiled(v, row_length):
    """A per-channel vector (C,) repeated to match rows of ``row_length`` = k*C values."""
    # NOTE: np.tile(v, k) with three C calls: np.tile itself is a dozen Python-level calls, and a
    # training step of the seed CNN tiles 18 vectors.
    return v.reshape(1, -1).repeat(row_length // v.shape[0], axis=0).reshape(-1)


def channel_sums(rows, C):
    """Per-channel sums of a (R, k*C) rows array -> (C,).

    The R rows are added (rows of k*C values, which NumPy adds at full vector speed), then the k
    copies of each channel are folded together.
    NOTE: not ``ones @ rows`` in BLAS: that runs on both cores and, on a machine shared with other
    processes, waits for the busy second one (median 44 ms against 0.9 ms for this sum, rows of
    128x28x28x16, load average 7; the fastest of each 10 and 0.3 ms).
    """
    return rows.sum(axis=0).reshape(-1, C).sum(axis=0)


def channel_dots(a, b, C):
    """Per-channel sums of a * b for two (R, k*C) rows arrays -> (C,).

    np.einsum multiplies and adds in one pass without building a * b: measured 1.2-1.4x
    faster than ``channel_sums(a * b, C)``, which builds a * b first.
    """
    return np.einsum("ij,ij->j", a, b).reshape(-1, C).sum(axis=0)


def batch_norm_forward(x, gamma, beta, epsilon):
    """normalization.batch_norm_forward in the rows layout, keeping x - mean rather than xhat.

    x: (..., C), gamma, beta: (C,) -> y: x.shape, mean: (C,), var: (C,), cache
    """
    C = x.shape[-1]
    rows = as_rows(x)
    M = rows.size // C
    row_length = rows.shape[1]
    mean = channel_sums(rows, C) / M
    xc = rows - tiled(mean, row_length)               # x - mean
    var = channel_dots(xc, xc, C) / M                 # biased: divide by M, not M - 1
    inv_std = 1.0 / np.sqrt(var + epsilon)
    # y = gamma * xhat + beta with xhat = xc * inv_std, without building xhat.
    y = xc * tiled(gamma * inv_std, row_length)
    y += tiled(beta, row_length)
    cache = BatchNormCache(xc=xc, inv_std=inv_std, gamma=gamma, x_shape=x.shape)
    return y.reshape(x.shape), mean, var, cache


def batch_norm_backward(dout, cache):
    """normalization.batch_norm_backward, in the compact form.

    dout: x.shape -> dx: x.shape, dgamma: (C,), dbeta: (C,)

    With dxhat = dout * gamma, the chain rule through xhat, var and mean (each of which
    depends on every x of the channel) gives the compact form

        dx = (1/M) * inv_std * (M * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))

    and since sum(dxhat) = gamma * dbeta and sum(dxhat * xhat) = gamma * dgamma, it is

        dx = gamma * inv_std * (dout - dbeta / M - xhat * dgamma / M).

    The cache holds xc = x - mean, not xhat = xc * inv_std, so the code uses
    dgamma = inv_std * sum(dout * xc) and xhat * dgamma / M = xc * (inv_std * dgamma / M):
    per-channel factors instead of a pass over every value.

    Derivation, per channel: xhat_i = (x_i - mean) * inv_std, so
    d xhat_i / d x_j = inv_std * ([i = j] - 1/M - xhat_i * xhat_j / M); the first term is
    the direct path, the second comes through the mean, the third through the variance
    (d var / d x_j = 2 (x_j - mean) / M). Summing dxhat_i times this over i gives the above.
    """
    xc, inv_std, gamma, x_shape = cache
    C = gamma.shape[0]
    drows = as_rows(dout)
    M = drows.size // C
    row_length = drows.shape[1]
    dbeta = channel_sums(drows, C)
    dgamma = channel_dots(drows, xc, C) * inv_std     # sum(dout * xhat)
    dx = xc * tiled(inv_std * dgamma / M, row_length)  # xhat * dgamma / M
    np.subtract(drows, dx, out=dx)
    dx -= tiled(dbeta / M, row_length)
    dx *= tiled(gamma * inv_std, row_length)
    return dx.reshape(x_shape), dgamma, dbeta


def batch_norm_inference(x, gamma, beta, mean, var, epsilon):
    """normalization.batch_norm_inference as a per-channel affine map.

    NOTE: y = gamma * (x - mean) / sqrt(var + epsilon) + beta = x * scale + shift, with
    scale = gamma / sqrt(var + epsilon) and shift = beta - mean * scale: two passes over x.
    """
    rows = as_rows(x)
    scale = gamma / np.sqrt(var + epsilon)
    shift = beta - mean * scale
    y = rows * tiled(scale, rows.shape[1])
    y += tiled(shift, rows.shape[1])
    return y.reshape(x.shape), BatchNormInferenceCache(x, gamma, mean, var, epsilon)


def batch_norm_inference_backward(dout, cache):
    """normalization.batch_norm_inference_backward in the rows layout."""
    x, gamma, mean, var, epsilon = cache
    C = x.shape[-1]
    rows, drows = as_rows(x), as_rows(dout)
    inv_std = 1.0 / np.sqrt(var + epsilon)
    xhat = (rows - tiled(mean, rows.shape[1])) * tiled(inv_std, rows.shape[1])
    dgamma = channel_dots(drows, xhat, C)
    dbeta = channel_sums(drows, C)
    dx = drows * tiled(gamma * inv_std, rows.shape[1])
    return dx.reshape(x.shape), dgamma, dbeta


register("batch_norm_forward", reference=normalization.batch_norm_forward, fast=batch_norm_forward)
register("batch_norm_backward", reference=normalization.batch_norm_backward, fast=batch_norm_backward)
register("batch_norm_inference", reference=normalization.batch_norm_inference, fast=batch_norm_inference)
register("batch_norm_inference_backward", reference=normalization.batch_norm_inference_backward,
         fast=batch_norm_inference_backward)
