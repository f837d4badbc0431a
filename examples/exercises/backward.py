"""Write the backward passes. Then grade them: python examples/exercises/grade.py

Each function gets what the layer's forward computed and dout = dL/d(output), and returns
the gradients named in its docstring, with the shapes of the arrays they belong to.
Notation: @ matrix product, * elementwise; N samples; images (N, H, W, C).
Stuck? python examples/exercises/grade.py --hints   (the answer key: answers.py, and the
library's own layers, named in each hint).
"""
import numpy as np

from tools import col2im  # noqa: F401  (for conv2d_backward)


def sigmoid_backward(dout, y):
    """y = 1 / (1 + exp(-x)), any shape. Return dx."""
    raise NotImplementedError("write dx")


def tanh_backward(dout, y):
    """y = tanh(x), any shape. Return dx."""
    raise NotImplementedError("write dx")


def dense_backward(dout, x, w, b):
    """y = x @ w + b with x: (N, D), w: (D, M), b: (M,), dout: (N, M). Return (dx, dw, db)."""
    raise NotImplementedError("write dx, dw, db")


def softmax_cross_entropy_backward(z, y):
    """L = -(1/N) sum_n sum_k y[n, k] log softmax(z)[n, k], z and one-hot y: (N, K). Return dz = dL/dz."""
    raise NotImplementedError("write dz")


def conv2d_backward(dout, x, w, b, cols):
    """z = cols @ w.reshape(kh*kw*C, F) + b, reshaped to (N, out_h, out_w, F); stride 1, 'valid'.

    x: (N, H, W, C), w: (kh, kw, C, F), b: (F,), cols = im2col(x, kh, kw): (N*out_h*out_w, kh*kw*C),
    dout: (N, out_h, out_w, F). Return (dx, dw, db); col2im(dcols, x.shape, kh, kw) folds dcols back.
    """
    raise NotImplementedError("write dx, dw, db")


def maxpool_backward(dout, x):
    """y[n, i, j, c] = max of the 2x2 window x[n, 2i:2i+2, 2j:2j+2, c]; no ties. Return dx (x's shape)."""
    raise NotImplementedError("write dx")


def batchnorm_backward(dout, x, gamma, eps):
    """Training mode, x: (N, C): xhat = (x - mean) / sqrt(var + eps), y = gamma * xhat + beta.

    mean and var (biased) are over the N samples of each channel. Return (dx, dgamma, dbeta).
    """
    raise NotImplementedError("write dx, dgamma, dbeta")
