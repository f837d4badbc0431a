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
    raise NotImplementedError("write conv_forward_naive")


def conv_backward_naive(dout, cache):
    """dout: (N, out_h, out_w, F) -> (dx, dw, db) with the shapes of x, w and b."""
    raise NotImplementedError("write conv_backward_naive")


def im2col(x, kh, kw, stride):
    """Each output pixel's window as one row: (N*out_h*out_w, kh*kw*C).

    Row (n*out_h + i)*out_w + j holds x[n, i*s + di, j*s + dj, c] in (di, dj, c) order, the order of
    w.reshape(kh*kw*C, F). Loop over the kh*kw offsets only, with strided slices.
    """
    raise NotImplementedError("write im2col")


def col2im(dcols, x_shape, kh, kw, stride):
    """The adjoint of im2col: each row's values added back onto the pixels they came from. Returns x_shape."""
    raise NotImplementedError("write col2im")


def conv_forward_im2col(x, w, b, stride):
    """The same convolution as one matrix product: im2col(x) @ w.reshape(kh*kw*C, F) + b. Returns (out, cache)."""
    raise NotImplementedError("write conv_forward_im2col")


def conv_backward_im2col(dout, cache):
    """dout: (N, out_h, out_w, F) -> (dx, dw, db): affine_backward on the rows, then col2im."""
    raise NotImplementedError("write conv_backward_im2col")
