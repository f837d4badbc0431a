"""Lesson 4 -- pooling: max and average pooling, forward and backward.

Grade: python examples/course/grade.py maxpool avgpool

x: (N, H, W, C); each channel pooled on its own over p x p windows moved by stride s, no
padding: out_h = (H - p) // s + 1. Windows overlap when s < p.
"""
import numpy as np


def maxpool_forward(x, pool, stride):
    """out[n, i, j, c] = max of x[n, i*s:i*s+p, j*s:j*s+p, c]. Returns (out, cache)."""
    n, h, w, c = x.shape
    out_h, out_w = (h - pool) // stride + 1, (w - pool) // stride + 1
    out = np.full((n, out_h, out_w, c), -np.inf)
    for di in range(pool):
        for dj in range(pool):     # the window's cells, one offset at a time
            out = np.maximum(out, x[:, di:di + stride * (out_h - 1) + 1:stride,
                                    dj:dj + stride * (out_w - 1) + 1:stride, :])
    return out, (x, out, pool, stride)


def maxpool_backward(dout, cache):
    """dx. A window's gradient goes to its maximum; on a tie, to the FIRST maximum in row-major window
    order (top row first, left to right), as np.argmax and tinynet choose."""
    x, out, pool, stride = cache
    out_h, out_w = out.shape[1:3]
    dx = np.zeros_like(x)
    taken = np.zeros(out.shape, dtype=bool)            # windows whose winner is already found
    for di in range(pool):
        for dj in range(pool):     # row-major: the first offset that holds the max wins
            rows = slice(di, di + stride * (out_h - 1) + 1, stride)
            cols = slice(dj, dj + stride * (out_w - 1) + 1, stride)
            wins = (x[:, rows, cols, :] == out) & ~taken
            dx[:, rows, cols, :] += wins * dout        # overlapping windows: a pixel can win several
            taken |= wins
    return dx                      # tinynet/core/ops/pooling.py, maxpool2d_backward


def avgpool_forward(x, pool, stride):
    """out[n, i, j, c] = mean of x[n, i*s:i*s+p, j*s:j*s+p, c]. Returns (out, cache)."""
    n, h, w, c = x.shape
    out_h, out_w = (h - pool) // stride + 1, (w - pool) // stride + 1
    out = np.zeros((n, out_h, out_w, c))
    for di in range(pool):
        for dj in range(pool):
            out += x[:, di:di + stride * (out_h - 1) + 1:stride, dj:dj + stride * (out_w - 1) + 1:stride, :]
    return out / pool ** 2, (x.shape, pool, stride)


def avgpool_backward(dout, cache):
    """dx: every cell of a window receives dout / (p * p) from it."""
    x_shape, pool, stride = cache
    out_h, out_w = dout.shape[1:3]
    dx = np.zeros(x_shape)
    for di in range(pool):
        for dj in range(pool):     # tinynet/core/ops/pooling.py, avgpool2d_backward
            dx[:, di:di + stride * (out_h - 1) + 1:stride, dj:dj + stride * (out_w - 1) + 1:stride, :] += \
                dout / pool ** 2
    return dx
