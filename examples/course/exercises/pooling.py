"""Lesson 4 -- pooling: max and average pooling, forward and backward.

Grade: python examples/course/grade.py maxpool avgpool

x: (N, H, W, C); each channel pooled on its own over p x p windows moved by stride s, no
padding: out_h = (H - p) // s + 1. Windows overlap when s < p.
"""
import numpy as np


def maxpool_forward(x, pool, stride):
    """out[n, i, j, c] = max of x[n, i*s:i*s+p, j*s:j*s+p, c]. Returns (out, cache)."""
    raise NotImplementedError("write maxpool_forward")


def maxpool_backward(dout, cache):
    """dx. A window's gradient goes to its maximum; on a tie, to the FIRST maximum in row-major window
    order (top row first, left to right), as np.argmax and tinynet choose."""
    raise NotImplementedError("write maxpool_backward")


def avgpool_forward(x, pool, stride):
    """out[n, i, j, c] = mean of x[n, i*s:i*s+p, j*s:j*s+p, c]. Returns (out, cache)."""
    raise NotImplementedError("write avgpool_forward")


def avgpool_backward(dout, cache):
    """dx: every cell of a window receives dout / (p * p) from it."""
    raise NotImplementedError("write avgpool_backward")
