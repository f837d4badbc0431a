"""Batch normalization, the textbook way: training and inference forward, and their backward.

Channels-last like Keras: the statistics are per channel (the last axis), taken over every
other axis: x: (N, C) after a Dense layer, or (N, H, W, C) after a Conv2D layer. M is the
number of values per channel (N, or N*H*W); vectors of length C broadcast over x.

    training:   mean = (1/M) sum x          var = (1/M) sum (x - mean)^2    (biased, as Keras)
                xhat = (x - mean) / sqrt(var + epsilon)
                y    = gamma * xhat + beta
    inference:  the same with the moving mean and variance in place of the batch's.

These are the references (``impl='naive'``); tinynet/fast/normalization.py has the fast twins.
Layer normalization (at the end) takes the same statistics per sample, over its features instead.
"""
from typing import NamedTuple

import numpy as np


class BatchNormCache(NamedTuple):
    """What batch_norm_backward needs from batch_norm_forward."""

    x: np.ndarray        # (..., C) the input
    mean: np.ndarray     # (C,)
    var: np.ndarray      # (C,)
    gamma: np.ndarray    # (C,)
    epsilon: float


class BatchNormInferenceCache(NamedTuple):
    """What batch_norm_inference_backward needs (the same for both impls)."""

    x: np.ndarray        # (..., C) the input
    gamma: np.ndarray    # (C,)
    mean: np.ndarray     # (C,) the moving mean used
    var: np.ndarray      # (C,) the moving variance used
    epsilon: float


def _channel_axes(x):
    return tuple(range(x.ndim - 1))                       # every axis but the channels


def batch_norm_forward(x, gamma, beta, epsilon):
    """Training mode, with the batch's own statistics.

    x: (..., C), gamma, beta: (C,) -> y: x.shape, mean: (C,), var: (C,), cache
    ``mean`` and ``var`` are returned so that the layer can update its moving statistics.
    """
    axes = _channel_axes(x)
    mean = x.mean(axis=axes)
    var = ((x - mean) ** 2).mean(axis=axes)               # biased: divide by M, not M - 1
    xhat = (x - mean) / np.sqrt(var + epsilon)
    y = gamma * xhat + beta
    return y, mean, var, BatchNormCache(x, mean, var, gamma, epsilon)


def batch_norm_backward(dout, cache):
    """The chain rule through the forward's steps in reverse: xhat, then var, then mean.

    dout: x.shape -> dx: x.shape, dgamma: (C,), dbeta: (C,)

    With d = x - mean, s = sqrt(var + eps), xhat = d / s, y = gamma * xhat + beta, per channel:

        dbeta  = sum dy                    dgamma = sum dy * xhat
        dxhat  = dy * gamma
        dvar   = sum dxhat * d * (-1/2) * s^-3                (var reaches every xhat)
        dmean  = sum dxhat * (-1/s) + dvar * sum(-2 d) / M    (mean reaches every xhat and var)
        dx     = dxhat / s + dvar * 2 d / M + dmean / M       (x reaches xhat, var and mean)
    """
    x, mean, var, gamma, epsilon = cache
    axes = _channel_axes(x)
    M = x.size // x.shape[-1]
    d = x - mean
    s = np.sqrt(var + epsilon)
    xhat = d / s
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * xhat).sum(axis=axes)
    dxhat = dout * gamma
    dvar = (dxhat * d * -0.5 * s ** -3).sum(axis=axes)
    dmean = (dxhat * -1 / s).sum(axis=axes) + dvar * (-2 * d).sum(axis=axes) / M
    dx = dxhat / s + dvar * 2 * d / M + dmean / M
    return dx, dgamma, dbeta


def batch_norm_inference(x, gamma, beta, mean, var, epsilon):
    """Inference mode: the same formula with fixed (moving) statistics.

    x: (..., C), gamma, beta, mean, var: (C,) -> y: x.shape, cache
    """
    y = gamma * (x - mean) / np.sqrt(var + epsilon) + beta
    return y, BatchNormInferenceCache(x, gamma, mean, var, epsilon)


def batch_norm_inference_backward(dout, cache):
    """Gradients of batch_norm_inference: mean and var are constants here, so per channel

        dx = dout * gamma / s        dgamma = sum dout * xhat        dbeta = sum dout

    dout: x.shape -> dx: x.shape, dgamma: (C,), dbeta: (C,)
    """
    x, gamma, mean, var, epsilon = cache
    axes = _channel_axes(x)
    s = np.sqrt(var + epsilon)
    xhat = (x - mean) / s
    return dout * gamma / s, (dout * xhat).sum(axis=axes), dout.sum(axis=axes)


class LayerNormCache(NamedTuple):
    """What layer_norm_backward needs from layer_norm_forward."""

    xhat: np.ndarray     # x normalized: (x - mean) / s
    s: np.ndarray        # sqrt(var + epsilon), one per sample (size 1 along ``axes``)
    gamma: np.ndarray    # broadcastable to x
    axes: tuple          # the normalized axes (every sample has its own statistics over them)


def layer_norm_forward(x, gamma, beta, axes, epsilon):
    """Layer normalization: each sample normalized by its OWN mean and (biased) variance over ``axes``.

        mean = mean of x over axes      var = mean of (x - mean)^2 over axes      s = sqrt(var + epsilon)
        y = gamma * (x - mean) / s + beta

    x: (N, ...), gamma, beta: shaped like x with size 1 along every axis not in ``axes`` -> y: x.shape, cache
    (the same sums as batch norm's, taken across a sample's features instead of across the batch).
    """
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    s = np.sqrt(var + epsilon)
    xhat = (x - mean) / s
    return gamma * xhat + beta, LayerNormCache(xhat, s, gamma, axes)


def layer_norm_backward(dout, cache):
    """Batch norm's backward (``batch_norm_backward``), over each sample's D values along ``axes``:

        dxhat  = dout * gamma
        dx     = (1 / s) * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))      (means over axes)
        dgamma = sum of dout * xhat over every other axis      dbeta = sum of dout over every other axis

    (the three terms: xhat's direct path, then mean's and var's paths, as batch_norm_backward derives them,
    with M = D and the mean over D written out). dout: x.shape -> dx: x.shape, and dgamma, dbeta shaped like
    x with size 1 along every axis not in ``axes`` (the layer reshapes them to its weights' shape).
    """
    xhat, s, gamma, axes = cache
    dxhat = dout * gamma
    dx = (dxhat - dxhat.mean(axis=axes, keepdims=True) - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True)) / s
    others = tuple(a for a in range(dout.ndim) if a not in axes)
    dgamma = (dout * xhat).sum(axis=others, keepdims=True)
    dbeta = dout.sum(axis=others, keepdims=True)
    return dx, dgamma, dbeta
