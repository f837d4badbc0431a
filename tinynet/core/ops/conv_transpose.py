"""The transposed convolution, the adjoint of ``conv2d``: its forward is conv2d's dx, its backward conv2d's forward.

A convolution maps big images to small ones; in the im2col form (``ops/conv.py``), with K = kh*kw*F,

    conv2d:        x_small = im2col(y_big) @ w_col                 (N*h*w, C) = (N*h*w, K) @ (K, C)

(here the kernel ``w: (kh, kw, F, C)`` takes F channels to C). Its transpose runs the arrows the other way,
small to big, exactly as conv2d's backward sends dz back to dx:

    conv2d_transpose:  y_big = col2im(x_small @ w_col.T) + b       (N, H, W, F)

That is why Keras stores a Conv2DTranspose kernel as (kh, kw, filters, in_channels): it is the kernel of the
convolution it is the transpose of. Backward is then the forward convolution, and the kernel's gradient the
same product as Conv2D's with the roles of input and output swapped:

    dx     = im2col(dy) @ w_col                                     (conv2d of dy, no bias)
    dw_col = im2col(dy).T @ x_rows                                  (K, C)
    db     = sum of dy over N, H, W

Output sizes, as Keras computes them (``conv_transpose_output_size``); the big image must be one the
convolution maps back onto the small one, which every Keras size is.
"""
from typing import NamedTuple

import numpy as np

from ..checks import check_int, check_pair
from .checks import check_padding
from .conv import col2im, conv_output_size, im2col


def conv_transpose_output_size(n, k, stride, padding, output_padding=None):
    """Output length along one axis, as Keras's ``compute_conv_transpose_output_length``.

    Without ``output_padding``:  valid: n * stride + max(k - stride, 0)      same: n * stride
    With it:                     (n - 1) * stride + k - 2 * pad + output_padding,  pad = k // 2 ('same') or 0
    """
    n, k, stride = check_int(n, "n", 1), check_int(k, "k", 1), check_int(stride, "stride", 1)
    padding = check_padding(padding)
    if output_padding is None:
        return n * stride + max(k - stride, 0) if padding == "valid" else n * stride
    pad = k // 2 if padding == "same" else 0
    return (n - 1) * stride + k - 2 * pad + output_padding


class ConvTransposeCache(NamedTuple):
    """What conv2d_transpose_backward needs from conv2d_transpose_forward."""

    x: np.ndarray      # (N, h, w, C) the input (the small image)
    w: np.ndarray      # (kh, kw, F, C) the kernel
    strides: tuple     # (sh, sw)
    padding: str       # 'valid' or 'same'


def conv2d_transpose_forward(x, w, b, out_hw, strides=1, padding="valid"):
    """y = col2im(x_rows @ w_col.T) + b, onto images of height and width ``out_hw``.

    x: (N, h, w, C), w: (kh, kw, F, C), b: (F,) or None, out_hw: (H, W) -> y: (N, H, W, F), cache
    """
    strides, padding = check_pair(strides, "strides"), check_padding(padding)
    N, h, w_in, C = x.shape
    kh, kw, F, _ = w.shape
    H, W = out_hw
    if (conv_output_size(H, kh, strides[0], padding), conv_output_size(W, kw, strides[1], padding)) != (h, w_in):
        raise ValueError(f"A {kh}x{kw} convolution with strides={strides}, padding={padding!r} does not map images "
                         f"of {H}x{W} onto the {h}x{w_in} input, so no transposed convolution gives that size.")
    w_col = w.reshape(kh * kw * F, C)
    x_rows = x.reshape(N * h * w_in, C)
    y = col2im(x_rows @ w_col.T, (N, H, W, F), kh, kw, strides, padding)      # col2im(x @ w_col.T)
    if b is not None:
        y = y + b
    return y, ConvTransposeCache(x, w, strides, padding)


def conv2d_transpose_backward(dy, cache, need_dx=True):
    """The convolution: dx = im2col(dy) @ w_col, dw_col = im2col(dy).T @ x_rows, db = sum of dy.

    dy: (N, H, W, F) -> dx: (N, h, w, C) (None unless ``need_dx``), dw: (kh, kw, F, C), db: (F,)
    """
    x, w, strides, padding = cache
    N, h, w_in, C = x.shape
    kh, kw, F, _ = w.shape
    cols = im2col(dy, kh, kw, strides, padding)                  # (N*h*w, kh*kw*F)
    dw = (cols.T @ x.reshape(N * h * w_in, C)).reshape(w.shape)  # dw_col = im2col(dy).T @ x_rows
    db = dy.sum(axis=(0, 1, 2))
    dx = (cols @ w.reshape(kh * kw * F, C)).reshape(x.shape) if need_dx else None
    return dx, dw, db
