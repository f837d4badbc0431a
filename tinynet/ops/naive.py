"""Slow, obvious reference implementations of the layers whose fast versions are hard to read.

``Conv2D(..., impl='naive')``, ``MaxPooling2D(..., impl='naive')`` and
``BatchNormalization(..., impl='naive')`` call these instead of the vectorised ops in
``conv.py``, ``pooling.py`` and ``normalization.py``. Each is the textbook formula
written with plain loops, one output value (or one channel) at a time, and its
backward is the chain rule applied to that same loop: wherever forward read a value
to make an output, backward sends that output's gradient back to it. They are
hundreds of times slower (``benchmarks/naive_vs_fast.py``) and exist to be read and
to be compared with the fast versions (``tests/test_naive_impl.py``).

Shapes, padding and tie rules are those of the fast ops, channels-last:
x: (N, H, W, C), conv kernel w: (kh, kw, C_in, C_out).
"""
from typing import NamedTuple

import numpy as np

from .conv import as_pair, check_padding, conv_output_size, crop2d, pad2d, pad_widths_2d
from .pooling import MaxPool2DCache

IMPLS = ("fast", "naive")


def check_impl(impl, layer_name):
    """``impl`` if it is 'fast' or 'naive', else a ValueError naming the layer."""
    if impl not in IMPLS:
        raise ValueError(f"Layer '{layer_name}': received an invalid value for `impl`, expected one of "
                         f"{IMPLS} ('naive' is the slow nested-loop reference). Received: impl={impl!r}")
    return impl


# ----- convolution -----------------------------------------------------------------

def conv2d_forward(x, w, b, strides, padding):
    """out[n, i, j, o] = b[o] + sum_{di, dj, c} xp[n, i*sh + di, j*sw + dj, c] * w[di, dj, c, o].

    x: (N, H, W, C_in), w: (kh, kw, C_in, C_out), b: (C_out,) or None -> (N, out_h, out_w, C_out)
    """
    N, H, W, C_in = x.shape
    kh, kw, _, C_out = w.shape
    sh, sw = as_pair(strides, "strides")
    padding = check_padding(padding)
    xp = pad2d(x, pad_widths_2d(H, W, kh, kw, (sh, sw), padding))
    out_h, out_w = conv_output_size(H, kh, sh, padding), conv_output_size(W, kw, sw, padding)
    out = np.zeros((N, out_h, out_w, C_out), dtype=np.result_type(x, w))
    for n in range(N):
        for i in range(out_h):
            for j in range(out_w):
                patch = xp[n, i * sh:i * sh + kh, j * sw:j * sw + kw, :]        # (kh, kw, C_in)
                for o in range(C_out):
                    out[n, i, j, o] = np.sum(patch * w[:, :, :, o]) + (0 if b is None else b[o])
    return out


def conv2d_backward(dout, x, w, strides, padding):
    """Gradients of ``conv2d_forward``: each output pixel's dout flows back along the products that made it.

    out[n,i,j,o] used patch = xp[n, i*sh:i*sh+kh, j*sw:j*sw+kw, :] and w[..., o], so
        dw[..., o] += patch * dout[n,i,j,o]     dpatch += w[..., o] * dout[n,i,j,o]     db[o] += dout[n,i,j,o]
    and the padding's share of dxp is cropped away.

    dout: (N, out_h, out_w, C_out) -> dx: x.shape, dw: w.shape, db: (C_out,)
    """
    N, H, W, C_in = x.shape
    kh, kw, _, C_out = w.shape
    sh, sw = as_pair(strides, "strides")
    pads = pad_widths_2d(H, W, kh, kw, (sh, sw), check_padding(padding))
    xp = pad2d(x, pads)
    dxp, dw, db = np.zeros(xp.shape, dout.dtype), np.zeros(w.shape, dout.dtype), np.zeros(C_out, dout.dtype)
    _, out_h, out_w, _ = dout.shape
    for n in range(N):
        for i in range(out_h):
            for j in range(out_w):
                rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
                for o in range(C_out):
                    g = dout[n, i, j, o]
                    dw[:, :, :, o] += xp[n, rows, cols, :] * g
                    dxp[n, rows, cols, :] += w[:, :, :, o] * g
                    db[o] += g
    return crop2d(dxp, pads), dw, db


# ----- max pooling -----------------------------------------------------------------

def maxpool2d_forward(x, pool_size, strides, padding):
    """out[n, i, j, c] = max of the window xp[n, i*sh : i*sh+ph, j*sw : j*sw+pw, c] (padding is -inf).

    x: (N, H, W, C) -> out: (N, out_h, out_w, C), cache (the same MaxPool2DCache as the fast op)
    """
    N, H, W, C = x.shape
    ph, pw = as_pair(pool_size, "pool_size")
    sh, sw = as_pair(strides, "strides")
    padding = check_padding(padding)
    pads = pad_widths_2d(H, W, ph, pw, (sh, sw), padding)
    xp = pad2d(x, pads, value=-np.inf)
    out_h, out_w = conv_output_size(H, ph, sh, padding), conv_output_size(W, pw, sw, padding)
    out = np.empty((N, out_h, out_w, C), dtype=x.dtype)
    for n in range(N):
        for i in range(out_h):
            for j in range(out_w):
                for c in range(C):
                    out[n, i, j, c] = xp[n, i * sh:i * sh + ph, j * sw:j * sw + pw, c].max()
    return out, MaxPool2DCache(xp=xp, out=out, pool_size=(ph, pw), strides=(sh, sw), pads=pads)


def maxpool2d_backward(dout, cache):
    """Each window's gradient goes to the input that was its maximum.

    NOTE: ties. np.argmax over the window flattened row by row picks the FIRST maximum
    (top row first, then left to right); it gets the whole gradient, the others none --
    the same rule as the fast op.

    dout: (N, out_h, out_w, C) -> dx: (N, H, W, C)
    """
    xp, out, (ph, pw), (sh, sw), pads = cache
    N, out_h, out_w, C = out.shape
    dxp = np.zeros(xp.shape, dtype=dout.dtype)
    for n in range(N):
        for i in range(out_h):
            for j in range(out_w):
                for c in range(C):
                    window = xp[n, i * sh:i * sh + ph, j * sw:j * sw + pw, c]
                    di, dj = np.unravel_index(np.argmax(window), window.shape)
                    dxp[n, i * sh + di, j * sw + dj, c] += dout[n, i, j, c]
    return crop2d(dxp, pads)


# ----- batch normalization -----------------------------------------------------------

class BatchNormCache(NamedTuple):
    """What batch_norm_backward needs: the input and every intermediate of the forward, per channel."""

    x: np.ndarray        # (M, C) the input, one row per value of each channel
    mean: np.ndarray     # (C,)
    var: np.ndarray      # (C,)
    gamma: np.ndarray    # (C,)
    epsilon: float
    x_shape: tuple


def batch_norm_forward(x, gamma, beta, epsilon):
    """Training mode, one channel at a time, each step of the formula on its own line.

    x: (..., C), gamma, beta: (C,) -> y: x.shape, mean: (C,), var: (C,), cache
    """
    x2 = x.reshape(-1, x.shape[-1])                     # (M, C): all values of a channel in one column
    M, C = x2.shape
    y2 = np.empty_like(x2)
    mean, var = np.empty(C, x.dtype), np.empty(C, x.dtype)
    for c in range(C):
        column = x2[:, c]
        mean[c] = column.sum() / M
        var[c] = ((column - mean[c]) ** 2).sum() / M       # biased, as Keras
        xhat = (column - mean[c]) / np.sqrt(var[c] + epsilon)
        y2[:, c] = gamma[c] * xhat + beta[c]
    return y2.reshape(x.shape), mean, var, BatchNormCache(x2, mean, var, gamma, epsilon, x.shape)


def batch_norm_backward(dout, cache):
    """Backward through the forward's steps in reverse, one channel at a time (the staged chain rule).

    Per channel, with d = x - mean, s = sqrt(var + eps), xhat = d / s, y = gamma * xhat + beta:

        dbeta  = sum dy                    dgamma = sum dy * xhat
        dxhat  = dy * gamma
        dvar   = sum dxhat * d * (-1/2) * s^-3              (var reaches every xhat)
        dmean  = sum dxhat * (-1/s) + dvar * sum(-2 d) / M  (mean reaches every xhat and var)
        dx     = dxhat / s + dvar * 2 d / M + dmean / M

    dout: x.shape -> dx: x.shape, dgamma: (C,), dbeta: (C,)
    """
    x2, mean, var, gamma, epsilon, x_shape = cache
    dy2 = dout.reshape(x2.shape)
    M, C = x2.shape
    dx2 = np.empty_like(x2)
    dgamma, dbeta = np.empty(C, dout.dtype), np.empty(C, dout.dtype)
    for c in range(C):
        d = x2[:, c] - mean[c]
        s = np.sqrt(var[c] + epsilon)
        xhat = d / s
        dy = dy2[:, c]
        dbeta[c] = dy.sum()
        dgamma[c] = (dy * xhat).sum()
        dxhat = dy * gamma[c]
        dvar = (dxhat * d * -0.5 * s ** -3).sum()
        dmean = (dxhat * -1 / s).sum() + dvar * (-2 * d).sum() / M
        dx2[:, c] = dxhat / s + dvar * 2 * d / M + dmean / M
    return dx2.reshape(x_shape), dgamma, dbeta


def batch_norm_inference(x, gamma, beta, mean, var, epsilon):
    """Inference mode: the same per-channel formula with fixed (moving) statistics.

    x: (..., C) -> y: x.shape
    """
    x2 = x.reshape(-1, x.shape[-1])
    y2 = np.empty_like(x2)
    for c in range(x2.shape[1]):
        y2[:, c] = gamma[c] * (x2[:, c] - mean[c]) / np.sqrt(var[c] + epsilon) + beta[c]
    return y2.reshape(x.shape)


def batch_norm_inference_backward(dout, x, gamma, mean, var, epsilon):
    """Gradients of batch_norm_inference: mean and var are constants, so per channel
    dx = dy * gamma / s, dgamma = sum dy * xhat, dbeta = sum dy.

    dout, x: (..., C) -> dx: x.shape, dgamma: (C,), dbeta: (C,)
    """
    x2, dy2 = x.reshape(-1, x.shape[-1]), dout.reshape(-1, x.shape[-1])
    C = x2.shape[1]
    dx2 = np.empty_like(dy2)
    dgamma, dbeta = np.empty(C, dout.dtype), np.empty(C, dout.dtype)
    for c in range(C):
        s = np.sqrt(var[c] + epsilon)
        dbeta[c] = dy2[:, c].sum()
        dgamma[c] = (dy2[:, c] * (x2[:, c] - mean[c]) / s).sum()
        dx2[:, c] = dy2[:, c] * gamma[c] / s
    return dx2.reshape(x.shape), dgamma, dbeta
