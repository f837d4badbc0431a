"""Lesson 1 -- layers: forward and backward of affine, ReLU, sigmoid, tanh, softmax and dropout.

Grade: python examples/course/grade.py affine relu sigmoid tanh softmax dropout

Each forward returns (out, cache), cache holding what its backward needs. Each backward
takes dout = dL/d(out) and that cache, and returns the gradient of every array the forward
was given, each with the shape of its array. Notation as in docs/backprop.md: N samples,
x: (N, D), w: (D, M), b: (M,); @ is the matrix product, * elementwise.
"""
import numpy as np


def affine_forward(x, w, b):
    """out = x @ w + b.   x: (N, D), w: (D, M), b: (M,) -> out: (N, M), cache."""
    out = x @ w + b
    return out, (x, w)


def affine_backward(dout, cache):
    """dout: (N, M) -> (dx, dw, db) with the shapes of x, w and b."""
    x, w = cache
    dx = dout @ w.T                     # tinynet/core/layers/core.py, Dense.backward
    dw = x.T @ dout                     # every sample used w: its gradients add up
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    """out = max(x, 0), any shape."""
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    """dx. At x == 0 exactly, use the slope 0 (tinynet, Keras and PyTorch do)."""
    x = cache
    return dout * (x > 0)               # tinynet/core/layers/activations.py, ReLU.backward


def sigmoid_forward(x):
    """out = 1 / (1 + exp(-x)), any shape, for any x: x = -1000 too, without an overflow."""
    e = np.exp(-np.abs(x))              # never overflows; both branches are 1 / (1 + exp(-x))
    out = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return out, out


def sigmoid_backward(dout, cache):
    """dx."""
    out = cache
    return dout * out * (1 - out)       # tinynet/core/layers/activations.py, Sigmoid.backward


def tanh_forward(x):
    """out = tanh(x), any shape."""
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    """dx."""
    out = cache
    return dout * (1 - out ** 2)        # tinynet/core/layers/activations.py, Tanh.backward


def softmax_forward(z):
    """p[n, k] = exp(z[n, k]) / sum_j exp(z[n, j]) for each row n. z: (N, K), any logits: 1000 too."""
    e = np.exp(z - z.max(axis=1, keepdims=True))     # tinynet/core/ops/softmax.py, softmax
    p = e / e.sum(axis=1, keepdims=True)
    return p, p


def softmax_backward(dout, cache):
    """dz from dout = dL/dp, without building the K x K Jacobian of each row."""
    p = cache
    return p * (dout - (dout * p).sum(axis=1, keepdims=True))   # Softmax.backward


def dropout_forward(x, rate, training, seed):
    """Inverted dropout: in training, each entry is kept with probability 1 - rate and divided by it.

    training=False: out = x. Draw the mask from np.random.default_rng(seed), so one seed gives one mask.
    """
    if not training:
        return x, None
    keep = np.random.default_rng(seed).random(x.shape) >= rate
    scale = keep / (1 - rate)           # tinynet/core/layers/core.py, Dropout.forward
    return x * scale, scale


def dropout_backward(dout, cache):
    """dx, with the forward's mask (after a forward with training=False: dx = dout)."""
    if cache is None:
        return dout
    return dout * cache                 # the same mask, the same scale
