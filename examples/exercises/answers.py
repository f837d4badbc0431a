"""The answer key: each backward as the library writes it (the file and method are named).

    python examples/exercises/grade.py --file examples/exercises/answers.py    # all correct
"""
import numpy as np

from tools import col2im


def sigmoid_backward(dout, y):
    return dout * y * (1 - y)                            # tinynet/core/layers/activations.py, Sigmoid.backward


def tanh_backward(dout, y):
    return dout * (1 - y * y)                            # tinynet/core/layers/activations.py, Tanh.backward


def dense_backward(dout, x, w, b):
    # tinynet/core/layers/core.py, Dense.backward: one line per gradient
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def softmax_cross_entropy_backward(z, y):
    # tinynet/core/losses.py, CategoricalCrossentropy with from_logits=True: (p - y) / N
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return (p - y) / len(z)


def conv2d_backward(dout, x, w, b, cols):
    # tinynet/core/layers/conv.py, Conv2D.backward: a Dense layer on im2col's rows
    kh, kw, c, f = w.shape
    dz = dout.reshape(-1, f)                             # one row per output pixel (n, i, j)
    w_col = w.reshape(kh * kw * c, f)
    dw = (cols.T @ dz).reshape(w.shape)
    db = dz.sum(axis=0)
    dx = col2im(dz @ w_col.T, x.shape, kh, kw)
    return dx, dw, db


def maxpool_backward(dout, x):
    # tinynet/core/ops/pooling.py (maxpool2d_backward): each window's gradient goes to its maximum
    n, h, w, c = x.shape
    windows = x.reshape(n, h // 2, 2, w // 2, 2, c)
    is_max = windows == windows.max(axis=(2, 4), keepdims=True)
    dx = is_max * dout[:, :, None, :, None, :]
    return dx.reshape(x.shape)


def batchnorm_backward(dout, x, gamma, eps):
    # tinynet/core/ops/normalization.py, batch_norm_backward
    m = len(x)
    mean, var = x.mean(axis=0), x.var(axis=0)
    inv_std = 1 / np.sqrt(var + eps)
    xhat = (x - mean) * inv_std
    dxhat = dout * gamma
    dx = inv_std / m * (m * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)
