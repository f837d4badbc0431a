"""Helpers the exercises may use: im2col and col2im for a stride-1, 'valid' convolution.

Notation (as in docs/backprop.md): images x: (N, H, W, C); kernel w: (kh, kw, C, F);
output pixel (i, j), kernel offset (di, dj), channel c, filter f.

    cols = im2col(x, kh, kw)          (N*out_h*out_w, kh*kw*C): row (n, i, j) holds x[n, i+di, j+dj, c]
    z = cols @ w.reshape(kh*kw*C, F)  the convolution, one row per output pixel
    col2im(dcols, x.shape, kh, kw)    the adjoint: each pixel sums the rows it appeared in
"""
import numpy as np


def im2col(x, kh, kw):
    n, h, w, c = x.shape
    out_h, out_w = h - kh + 1, w - kw + 1
    cols = np.empty((n, out_h, out_w, kh, kw, c))
    for di in range(kh):
        for dj in range(kw):
            cols[:, :, :, di, dj, :] = x[:, di:di + out_h, dj:dj + out_w, :]
    return cols.reshape(n * out_h * out_w, kh * kw * c)


def col2im(dcols, x_shape, kh, kw):
    n, h, w, c = x_shape
    out_h, out_w = h - kh + 1, w - kw + 1
    dcols = dcols.reshape(n, out_h, out_w, kh, kw, c)
    dx = np.zeros(x_shape)
    for di in range(kh):
        for dj in range(kw):
            dx[:, di:di + out_h, dj:dj + out_w, :] += dcols[:, :, :, di, dj, :]
    return dx
