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
    raise NotImplementedError("write affine_forward")


def affine_backward(dout, cache):
    """dout: (N, M) -> (dx, dw, db) with the shapes of x, w and b."""
    raise NotImplementedError("write affine_backward")


def relu_forward(x):
    """out = max(x, 0), any shape."""
    raise NotImplementedError("write relu_forward")


def relu_backward(dout, cache):
    """dx. At x == 0 exactly, use the slope 0 (tinynet, Keras and PyTorch do)."""
    raise NotImplementedError("write relu_backward")


def sigmoid_forward(x):
    """out = 1 / (1 + exp(-x)), any shape, for any x: x = -1000 too, without an overflow."""
    raise NotImplementedError("write sigmoid_forward")


def sigmoid_backward(dout, cache):
    """dx."""
    raise NotImplementedError("write sigmoid_backward")


def tanh_forward(x):
    """out = tanh(x), any shape."""
    raise NotImplementedError("write tanh_forward")


def tanh_backward(dout, cache):
    """dx."""
    raise NotImplementedError("write tanh_backward")


def softmax_forward(z):
    """p[n, k] = exp(z[n, k]) / sum_j exp(z[n, j]) for each row n. z: (N, K), any logits: 1000 too."""
    raise NotImplementedError("write softmax_forward")


def softmax_backward(dout, cache):
    """dz from dout = dL/dp, without building the K x K Jacobian of each row."""
    raise NotImplementedError("write softmax_backward")


def dropout_forward(x, rate, training, seed):
    """Inverted dropout: in training, each entry is kept with probability 1 - rate and divided by it.

    training=False: out = x. Draw the mask from np.random.default_rng(seed), so one seed gives one mask.
    """
    raise NotImplementedError("write dropout_forward")


def dropout_backward(dout, cache):
    """dx, with the forward's mask (after a forward with training=False: dx = dout)."""
    raise NotImplementedError("write dropout_backward")
