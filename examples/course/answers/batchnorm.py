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
    axes = tuple(range(x.ndim - 1))                     # every axis but the channels
    if bn["mode"] == "test":
        xhat = (x - bn["running_mean"]) / np.sqrt(bn["running_var"] + bn["eps"])
        return gamma * xhat + beta, None
    mean = x.mean(axis=axes)
    var = ((x - mean) ** 2).mean(axis=axes)             # tinynet/core/ops/normalization.py, batch_norm_forward
    m = bn["momentum"]
    bn["running_mean"] = m * bn["running_mean"] + (1 - m) * mean
    bn["running_var"] = m * bn["running_var"] + (1 - m) * var
    xhat = (x - mean) / np.sqrt(var + bn["eps"])
    return gamma * xhat + beta, (x, mean, var, gamma, bn["eps"])


def batchnorm_backward(dout, cache):
    """(dx, dgamma, dbeta), through the forward's steps in reverse: xhat, then var, then mean.

    x reaches the output three ways -- directly, through mean, through var: dx adds the three.
    """
    x, mean, var, gamma, eps = cache
    axes = tuple(range(x.ndim - 1))
    m = x.size // x.shape[-1]
    d, s = x - mean, np.sqrt(var + eps)
    xhat = d / s
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * xhat).sum(axis=axes)
    dxhat = dout * gamma                                # tinynet/core/ops/normalization.py, batch_norm_backward
    dvar = (dxhat * d * -0.5 * s ** -3).sum(axis=axes)
    dmean = (-dxhat / s).sum(axis=axes) + dvar * (-2 * d).sum(axis=axes) / m
    dx = dxhat / s + dvar * 2 * d / m + dmean / m
    return dx, dgamma, dbeta


def batchnorm_backward_simplified(dout, cache):
    """The same three gradients, with dx simplified on paper to one line (no dvar, no dmean)."""
    x, mean, var, gamma, eps = cache
    axes = tuple(range(x.ndim - 1))
    m = x.size // x.shape[-1]
    s = np.sqrt(var + eps)
    xhat = (x - mean) / s
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * xhat).sum(axis=axes)
    dx = gamma / s * (dout - dbeta / m - xhat * dgamma / m)   # tinynet/fast/normalization.py, batch_norm_backward
    return dx, dgamma, dbeta
