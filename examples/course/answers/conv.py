"""Lesson 3 -- convolution: first with loops (to see it), then with im2col (to run it).

Grade: python examples/course/grade.py conv_naive conv_im2col

Channels-last, as Keras: x: (N, H, W, C) images, w: (kh, kw, C, F) kernels, b: (F,).
No padding ('valid'; pad x yourself with np.pad for 'same'); stride s in both directions:

    out[n, i, j, f] = b[f] + sum over di, dj, c of x[n, i*s + di, j*s + dj, c] * w[di, dj, c, f]

with out_h = (H - kh) // s + 1, out_w = (W - kw) // s + 1. (Deep-learning "convolution" is a
cross-correlation: the kernel is not flipped.)
"""
import numpy as np


def conv_forward_naive(x, w, b, stride):
    """The sum above, with loops over the output pixels. Returns (out, cache), out: (N, out_h, out_w, F)."""
    n, h, wd, c = x.shape
    kh, kw, _, f = w.shape
    out_h, out_w = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((n, out_h, out_w, f))
    for i in range(out_h):
        for j in range(out_w):
            patch = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :]     # (N, kh, kw, C)
            out[:, i, j, :] = np.tensordot(patch, w, axes=3) + b
    return out, (x, w, stride)


def conv_backward_naive(dout, cache):
    """dout: (N, out_h, out_w, F) -> (dx, dw, db) with the shapes of x, w and b."""
    x, w, stride = cache
    kh, kw = w.shape[:2]
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    for i in range(dout.shape[1]):
        for j in range(dout.shape[2]):
            rows, cols = slice(i * stride, i * stride + kh), slice(j * stride, j * stride + kw)
            d = dout[:, i, j, :]                                                        # (N, F)
            dw += np.tensordot(x[:, rows, cols, :], d, axes=([0], [0]))               # every pixel used w
            dx[:, rows, cols, :] += np.tensordot(d, w, axes=([1], [3]))               # windows overlap: add
    return dx, dw, dout.sum(axis=(0, 1, 2))


def im2col(x, kh, kw, stride):
    """Each output pixel's window as one row: (N*out_h*out_w, kh*kw*C).

    Row (n*out_h + i)*out_w + j holds x[n, i*s + di, j*s + dj, c] in (di, dj, c) order, the order of
    w.reshape(kh*kw*C, F). Loop over the kh*kw offsets only, with strided slices.
    """
    n, h, wd, c = x.shape
    out_h, out_w = (h - kh) // stride + 1, (wd - kw) // stride + 1
    cols = np.empty((n, out_h, out_w, kh, kw, c))
    for di in range(kh):
        for dj in range(kw):       # tinynet/core/ops/conv.py, im2col
            cols[:, :, :, di, dj, :] = x[:, di:di + stride * (out_h - 1) + 1:stride,
                                         dj:dj + stride * (out_w - 1) + 1:stride, :]
    return cols.reshape(n * out_h * out_w, kh * kw * c)


def col2im(dcols, x_shape, kh, kw, stride):
    """The adjoint of im2col: each row's values added back onto the pixels they came from. Returns x_shape."""
    n, h, wd, c = x_shape
    out_h, out_w = (h - kh) // stride + 1, (wd - kw) // stride + 1
    d = dcols.reshape(n, out_h, out_w, kh, kw, c)
    dx = np.zeros(x_shape)
    for di in range(kh):
        for dj in range(kw):       # tinynet/core/ops/conv.py, col2im
            dx[:, di:di + stride * (out_h - 1) + 1:stride, dj:dj + stride * (out_w - 1) + 1:stride, :] += \
                d[:, :, :, di, dj, :]
    return dx


def conv_forward_im2col(x, w, b, stride):
    """The same convolution as one matrix product: im2col(x) @ w.reshape(kh*kw*C, F) + b. Returns (out, cache)."""
    n, h, wd, _ = x.shape
    kh, kw, c, f = w.shape
    out_h, out_w = (h - kh) // stride + 1, (wd - kw) // stride + 1
    cols = im2col(x, kh, kw, stride)
    out = cols @ w.reshape(kh * kw * c, f) + b          # tinynet/core/ops/conv.py, conv2d_forward
    return out.reshape(n, out_h, out_w, f), (x.shape, cols, w, stride)


def conv_backward_im2col(dout, cache):
    """dout: (N, out_h, out_w, F) -> (dx, dw, db): affine_backward on the rows, then col2im."""
    x_shape, cols, w, stride = cache
    kh, kw, c, f = w.shape
    dz = dout.reshape(-1, f)                             # one row per output pixel
    w_col = w.reshape(kh * kw * c, f)
    dw = (cols.T @ dz).reshape(w.shape)                  # tinynet/core/ops/conv.py, conv2d_backward
    db = dz.sum(axis=0)
    dx = col2im(dz @ w_col.T, x_shape, kh, kw, stride)
    return dx, dw, db
