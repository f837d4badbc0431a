"""Lesson 5 -- batch normalization: the forward, the backward step by step, then simplified.

Grade: python examples/course/grade.py batchnorm batchnorm_simplified

x: (N, D) after a Dense layer, or (N, H, W, C) after a convolution: one mean and one variance
per channel (the last axis), over the M values of every other axis (M = N, or N*H*W):

    mean = (1/M) sum x      var = (1/M) sum (x - mean)^2      (biased, as Keras)
    xhat = (x - mean) / sqrt(var + eps)      out = gamma * xhat + beta

bn = {'mode': 'train' or 'test', 'eps': ..., 'momentum': ..., 'running_mean': (C,), 'running_var': (C,)}.
In 'train' mode the running statistics follow the batch's, as Keras's moving statistics do:
running = momentum * running + (1 - momentum) * batch statistic (written into bn). In 'test'
mode they replace the batch's.
"""
import numpy as np


def batchnorm_forward(x, gamma, beta, bn):
    """Returns (out, cache); in 'train' mode also updates bn['running_mean'] and bn['running_var']."""
    raise NotImplementedError("write batchnorm_forward")


def batchnorm_backward(dout, cache):
    """(dx, dgamma, dbeta), through the forward's steps in reverse: xhat, then var, then mean.

    x reaches the output three ways -- directly, through mean, through var: dx adds the three.
    """
    raise NotImplementedError("write batchnorm_backward")


def batchnorm_backward_simplified(dout, cache):
    """The same three gradients, with dx simplified on paper to one line (no dvar, no dmean)."""
    raise NotImplementedError("write batchnorm_backward_simplified")
