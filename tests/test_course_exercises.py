"""examples/course: the answer key passes every exercise; each classic wrong answer is graded wrong, on the case
that exposes it; the skeletons match the answer key; the expected gradients agree with centred differences."""
import ast
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conftest import REPO

COURSE = os.path.join(REPO, "examples", "course")
sys.path.insert(0, COURSE)
import cases  # noqa: E402
import grade  # noqa: E402

# exercise -> [(the mistake, the lesson file it goes in, the wrong function(s), the case that must expose it)]
WRONG = {
    "affine": [
        ("dw averaged over the batch", "layers", """
def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout / len(x), dout.sum(axis=0)""", "random"),
        ("db a mean, not a sum", "layers", """
def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.mean(axis=0)""", "random"),
        ("dw transposed", "layers", """
def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, (dout.T @ x), dout.sum(axis=0)""", "random"),
        ("dx without the transpose", "layers", """
def affine_backward(dout, cache):
    x, w = cache
    return dout @ w if w.shape[0] == w.shape[1] else dout @ w.T, x.T @ dout, dout.sum(axis=0)""",
         "square w (D = M)"),
        ("|x| in dw", "layers", """
def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, np.abs(x).T @ dout, dout.sum(axis=0)""", "random"),
    ],
    "relu": [
        ("slope 1 at zero", "layers", """
def relu_backward(dout, cache):
    return dout * (cache >= 0)""", "exact zeros"),
        ("dout forgotten", "layers", """
def relu_backward(dout, cache):
    return (cache > 0).astype(float)""", "random"),
        ("multiplied by x", "layers", """
def relu_backward(dout, cache):
    return dout * cache""", "random"),
    ],
    "sigmoid": [
        ("the naive forward overflows", "layers", """
def sigmoid_forward(x):
    out = 1 / (1 + np.exp(-x))
    return out, out""", "large |x| (-1000 ... 1000)"),
        ("(1 - y) forgotten", "layers", """
def sigmoid_backward(dout, cache):
    return dout * cache""", "random"),
        ("the derivative at the input, not the output", "layers", """
def sigmoid_forward(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)), x
def sigmoid_backward(dout, cache):
    return dout * cache * (1 - cache)""", "random"),
    ],
    "tanh": [
        ("1 - y instead of 1 - y^2", "layers", """
def tanh_backward(dout, cache):
    return dout * (1 - cache)""", "random"),
        ("1 - x^2", "layers", """
def tanh_forward(x):
    return np.tanh(x), x
def tanh_backward(dout, cache):
    return dout * (1 - cache ** 2)""", "random"),
        ("tanh applied again to the cached output", "layers", """
def tanh_backward(dout, cache):
    return dout * (1 - np.tanh(cache) ** 2)""", "random"),
    ],
    "softmax": [
        ("no max subtraction", "layers", """
def softmax_forward(z):
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    return p, p""", "large logits (z ~ 1000)"),
        ("one max for the whole batch", "layers", """
def softmax_forward(z):
    e = np.exp(z - z.max())
    p = e / e.sum(axis=1, keepdims=True)
    return p, p""", "rows far apart"),
        ("only the diagonal of the Jacobian", "layers", """
def softmax_backward(dout, cache):
    return dout * cache * (1 - cache)""", "random"),
    ],
    "dropout": [
        ("kept entries not scaled", "layers", """
def dropout_forward(x, rate, training, seed):
    if not training:
        return x, None
    keep = np.random.default_rng(seed).random(x.shape) >= rate
    return x * keep, keep""", "training, rate 0.2"),
        ("scaled at test time", "layers", """
def dropout_forward(x, rate, training, seed):
    if not training:
        return x * (1 - rate), None
    keep = np.random.default_rng(seed).random(x.shape) >= rate
    return x * keep, keep""", "training=False"),
        ("rate taken as the keep probability", "layers", """
def dropout_forward(x, rate, training, seed):
    if not training:
        return x, None
    keep = np.random.default_rng(seed).random(x.shape) < rate
    return x * keep / (1 - rate), keep / (1 - rate)""", "training, rate 0.2"),
        ("a new mask in backward", "layers", """
def dropout_backward(dout, cache):
    if cache is None:
        return dout
    return dout * (np.random.default_rng(1).random(dout.shape) >= 0.2) / 0.8""", "training, rate 0.2"),
    ],
    "softmax_cross_entropy": [
        ("no max subtraction", "losses", """
def softmax_cross_entropy(z, y):
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    n = len(z)
    dz = p.copy(); dz[np.arange(n), y] -= 1
    return float(-np.log(p[np.arange(n), y]).mean()), dz / n""", "large logits (z ~ 1000)"),
        ("log of the softmax", "losses", """
def softmax_cross_entropy(z, y):
    e = np.exp(z - z.max(axis=1, keepdims=True)); p = e / e.sum(axis=1, keepdims=True)
    n = len(z)
    dz = p.copy(); dz[np.arange(n), y] -= 1
    return float(-np.log(p[np.arange(n), y]).mean()), dz / n""", "large logits (z ~ 1000)"),
        ("1/N forgotten in dz", "losses", """
_right = softmax_cross_entropy
def softmax_cross_entropy(z, y):
    loss, dz = _right(z, y)
    return loss, dz * len(z)""", "random"),
        ("a sum, not a mean", "losses", """
_right = softmax_cross_entropy
def softmax_cross_entropy(z, y):
    loss, dz = _right(z, y)
    return loss * len(z), dz * len(z)""", "random"),
    ],
    "mse": [
        ("divided by N, not N*K", "losses", """
def mse(y_pred, y):
    d = y_pred - y
    return float(np.mean(d ** 2)), 2 * d / len(d)""", "random (N=4, K=3)"),
        ("the 2 forgotten", "losses", """
def mse(y_pred, y):
    d = y_pred - y
    return float(np.mean(d ** 2)), d / d.size""", "random (N=4, K=3)"),
        ("the sign", "losses", """
def mse(y_pred, y):
    d = y_pred - y
    return float(np.mean(d ** 2)), -2 * d / d.size""", "random (N=4, K=3)"),
    ],
    "l2_penalty": [
        ("the 2 forgotten", "losses", """
def l2_penalty(w, l2):
    return float(l2 * np.sum(w ** 2)), l2 * w""", "random"),
        ("CS231n's one half, not Keras's l2", "losses", """
def l2_penalty(w, l2):
    return float(0.5 * l2 * np.sum(w ** 2)), l2 * w""", "random"),
        ("|w| in the gradient", "losses", """
def l2_penalty(w, l2):
    return float(l2 * np.sum(w ** 2)), 2 * l2 * np.abs(w)""", "random"),
    ],
    "conv_naive": [
        ("the kernel flipped (a true convolution)", "conv", """
_right = conv_forward_naive
def conv_forward_naive(x, w, b, stride):
    return _right(x, w[::-1, ::-1], b, stride)""", "3x3 kernel, stride 1"),
        ("the bias forgotten", "conv", """
_right = conv_forward_naive
def conv_forward_naive(x, w, b, stride):
    return _right(x, w, 0 * b, stride)""", "3x3 kernel, stride 1"),
        ("dx overwritten where windows overlap", "conv", """
def conv_backward_naive(dout, cache):
    x, w, stride = cache
    kh, kw = w.shape[:2]
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    for i in range(dout.shape[1]):
        for j in range(dout.shape[2]):
            rows, cols = slice(i * stride, i * stride + kh), slice(j * stride, j * stride + kw)
            d = dout[:, i, j, :]
            dw += np.tensordot(x[:, rows, cols, :], d, axes=([0], [0]))
            dx[:, rows, cols, :] = np.tensordot(d, w, axes=([1], [3]))
    return dx, dw, dout.sum(axis=(0, 1, 2))""", "3x3 kernel, stride 1"),
        ("db summed over the batch only", "conv", """
_right = conv_backward_naive
def conv_backward_naive(dout, cache):
    dx, dw, db = _right(dout, cache)
    return dx, dw, dout.sum(axis=0)""", "3x3 kernel, stride 1"),
        ("backward ignores the stride", "conv", """
_right = conv_backward_naive
def conv_backward_naive(dout, cache):
    x, w, stride = cache
    return _right(dout, (x, w, 1))""", "3x3 kernel, stride 2 (windows overlap)"),
    ],
    "conv_im2col": [
        ("col2im overwrites where windows overlap", "conv", """
def col2im(dcols, x_shape, kh, kw, stride):
    n, h, wd, c = x_shape
    out_h, out_w = (h - kh) // stride + 1, (wd - kw) // stride + 1
    d = dcols.reshape(n, out_h, out_w, kh, kw, c)
    dx = np.zeros(x_shape)
    for di in range(kh):
        for dj in range(kw):
            dx[:, di:di + stride * (out_h - 1) + 1:stride, dj:dj + stride * (out_w - 1) + 1:stride, :] = \\
                d[:, :, :, di, dj, :]
    return dx""", "3x3 kernel, stride 1"),
        ("columns in (c, di, dj) order", "conv", """
_right = im2col
def im2col(x, kh, kw, stride):
    cols = _right(x, kh, kw, stride)
    return cols.reshape(len(cols), kh, kw, x.shape[3]).transpose(0, 3, 1, 2).reshape(len(cols), -1)""",
         "3x3 kernel, stride 1"),
        ("im2col ignores the stride", "conv", """
_right = im2col
def im2col(x, kh, kw, stride):
    return _right(x, kh, kw, 1)""", "3x3 kernel, stride 2 (windows overlap)"),
    ],
    "maxpool": [
        ("every tied maximum gets the gradient", "pooling", """
def maxpool_backward(dout, cache):
    x, out, pool, stride = cache
    out_h, out_w = out.shape[1:3]
    dx = np.zeros_like(x)
    for di in range(pool):
        for dj in range(pool):
            rows = slice(di, di + stride * (out_h - 1) + 1, stride)
            cols = slice(dj, dj + stride * (out_w - 1) + 1, stride)
            dx[:, rows, cols, :] += (x[:, rows, cols, :] == out) * dout
    return dx""", "ties (equal maxima in a window)"),
        ("ties share the gradient", "pooling", """
def maxpool_backward(dout, cache):
    x, out, pool, stride = cache
    out_h, out_w = out.shape[1:3]
    count = np.zeros(out.shape)
    for di in range(pool):
        for dj in range(pool):
            count += x[:, di:di + stride * (out_h - 1) + 1:stride, dj:dj + stride * (out_w - 1) + 1:stride, :] == out
    dx = np.zeros_like(x)
    for di in range(pool):
        for dj in range(pool):
            rows = slice(di, di + stride * (out_h - 1) + 1, stride)
            cols = slice(dj, dj + stride * (out_w - 1) + 1, stride)
            dx[:, rows, cols, :] += (x[:, rows, cols, :] == out) * dout / count
    return dx""", "ties (equal maxima in a window)"),
        ("the running maximum starts at 0", "pooling", """
_right = maxpool_forward
def maxpool_forward(x, pool, stride):
    out, (x, _, pool, stride) = _right(x, pool, stride)
    out = np.maximum(out, 0)
    return out, (x, out, pool, stride)""", "2x2, stride 2"),
        ("overwritten where windows overlap", "pooling", """
def maxpool_backward(dout, cache):
    x, out, pool, stride = cache
    out_h, out_w = out.shape[1:3]
    dx = np.zeros_like(x)
    taken = np.zeros(out.shape, dtype=bool)
    for di in range(pool):
        for dj in range(pool):
            rows = slice(di, di + stride * (out_h - 1) + 1, stride)
            cols = slice(dj, dj + stride * (out_w - 1) + 1, stride)
            wins = (x[:, rows, cols, :] == out) & ~taken
            dx[:, rows, cols, :] = np.where(wins, dout, dx[:, rows, cols, :])
            taken |= wins
    return dx""", "overlapping windows (2x2, stride 1)"),
    ],
    "avgpool": [
        ("not divided by the window's size", "pooling", """
_right = avgpool_backward
def avgpool_backward(dout, cache):
    return _right(dout, cache) * cache[1] ** 2""", "2x2, stride 2"),
        ("overwritten where windows overlap", "pooling", """
def avgpool_backward(dout, cache):
    x_shape, pool, stride = cache
    out_h, out_w = dout.shape[1:3]
    dx = np.zeros(x_shape)
    for di in range(pool):
        for dj in range(pool):
            dx[:, di:di + stride * (out_h - 1) + 1:stride, dj:dj + stride * (out_w - 1) + 1:stride, :] = \\
                dout / pool ** 2
    return dx""", "overlapping windows (2x2, stride 1)"),
        ("divided by p, not p * p", "pooling", """
_right = avgpool_backward
def avgpool_backward(dout, cache):
    return _right(dout, cache) * cache[1]""", "2x2, stride 2"),
    ],
    "batchnorm": [
        ("the unbiased variance", "batchnorm", """
_right = batchnorm_forward
def batchnorm_forward(x, gamma, beta, bn):
    axes = tuple(range(x.ndim - 1))
    m = x.size // x.shape[-1]
    out, cache = _right(x, gamma, beta, bn)
    if cache is None:
        return out, cache
    x, mean, var, gamma, eps = cache
    var = var * m / (m - 1)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta, (x, mean, var, gamma, eps)""", "train, x: (8, 3)"),
        ("eps outside the square root", "batchnorm", """
_right = batchnorm_forward
def batchnorm_forward(x, gamma, beta, bn):
    out, cache = _right(x, gamma, beta, bn)
    if cache is None:
        return out, cache
    x, mean, var, gamma, eps = cache
    return gamma * (x - mean) / (np.sqrt(var) + eps) + beta, cache""", "train, x: (8, 3)"),
        ("gamma forgotten in backward", "batchnorm", """
_right = batchnorm_backward
def batchnorm_backward(dout, cache):
    x, mean, var, gamma, eps = cache
    dx, _, _ = _right(dout, (x, mean, var, np.ones_like(gamma), eps))
    _, dgamma, dbeta = _right(dout, cache)
    return dx, dgamma, dbeta""", "train, x: (8, 3)"),
        ("mean and var taken as constants", "batchnorm", """
_right = batchnorm_backward
def batchnorm_backward(dout, cache):
    x, mean, var, gamma, eps = cache
    _, dgamma, dbeta = _right(dout, cache)
    return dout * gamma / np.sqrt(var + eps), dgamma, dbeta""", "train, x: (8, 3)"),
        ("the momentum the other way round", "batchnorm", """
_right = batchnorm_forward
def batchnorm_forward(x, gamma, beta, bn):
    before = bn["running_mean"], bn["running_var"]
    out, cache = _right(x, gamma, beta, bn)
    if cache is not None:
        m = bn["momentum"]
        bn["running_mean"] = (1 - m) * before[0] + m * cache[1]
        bn["running_var"] = (1 - m) * before[1] + m * cache[2]
    return out, cache""", "train, x: (8, 3)"),
        ("statistics over the batch axis only", "batchnorm", """
def batchnorm_forward(x, gamma, beta, bn):
    if bn["mode"] == "test":
        return gamma * (x - bn["running_mean"]) / np.sqrt(bn["running_var"] + bn["eps"]) + beta, None
    mean, var = x.mean(axis=0), x.var(axis=0)
    m = bn["momentum"]
    bn["running_mean"] = m * bn["running_mean"] + (1 - m) * mean
    bn["running_var"] = m * bn["running_var"] + (1 - m) * var
    return gamma * (x - mean) / np.sqrt(var + bn["eps"]) + beta, (x, mean, var, gamma, bn["eps"])""",
         "images, x: (2, 3, 3, 2)"),
        ("the batch's statistics in test mode", "batchnorm", """
_right = batchnorm_forward
def batchnorm_forward(x, gamma, beta, bn):
    if bn["mode"] == "test":
        return _right(x, gamma, beta, {**bn, "mode": "train"})
    return _right(x, gamma, beta, bn)""", "test mode"),
    ],
    "batchnorm_simplified": [
        ("the xhat term forgotten", "batchnorm", """
def batchnorm_backward_simplified(dout, cache):
    x, mean, var, gamma, eps = cache
    axes = tuple(range(x.ndim - 1))
    m = x.size // x.shape[-1]
    s = np.sqrt(var + eps)
    xhat = (x - mean) / s
    dbeta, dgamma = dout.sum(axis=axes), (dout * xhat).sum(axis=axes)
    return gamma / s * (dout - dbeta / m), dgamma, dbeta""", "train, x: (8, 3)"),
        ("gamma forgotten", "batchnorm", """
_right = batchnorm_backward_simplified
def batchnorm_backward_simplified(dout, cache):
    x, mean, var, gamma, eps = cache
    dx, dgamma, dbeta = _right(dout, cache)
    return dx / gamma, dgamma, dbeta""", "train, x: (8, 3)"),
        ("1/M forgotten on the xhat term", "batchnorm", """
def batchnorm_backward_simplified(dout, cache):
    x, mean, var, gamma, eps = cache
    axes = tuple(range(x.ndim - 1))
    m = x.size // x.shape[-1]
    s = np.sqrt(var + eps)
    xhat = (x - mean) / s
    dbeta, dgamma = dout.sum(axis=axes), (dout * xhat).sum(axis=axes)
    return gamma / s * (dout - dbeta / m - xhat * dgamma), dgamma, dbeta""", "train, x: (8, 3)"),
    ],
    "sgd_momentum": [
        ("the velocity not kept", "optim", """
def sgd_momentum(w, dw, config):
    velocity = config["momentum"] * np.zeros_like(w) - config["learning_rate"] * dw
    return w + velocity, config""", "five steps (the state carries over)"),
        ("a step with the old velocity", "optim", """
def sgd_momentum(w, dw, config):
    velocity = config.get("velocity", np.zeros_like(w))
    next_w = w + velocity
    config["velocity"] = config["momentum"] * velocity - config["learning_rate"] * dw
    return next_w, config""", "first step"),
        ("the velocity as an average of dw (PyTorch's dampening)", "optim", """
def sgd_momentum(w, dw, config):
    velocity = config["momentum"] * config.get("velocity", np.zeros_like(w)) + (1 - config["momentum"]) * dw
    config["velocity"] = velocity
    return w - config["learning_rate"] * velocity, config""", "first step"),
    ],
    "rmsprop": [
        ("averages dw, not dw^2", "optim", """
def rmsprop(w, dw, config):
    cache = config["rho"] * config.get("cache", np.zeros_like(w)) + (1 - config["rho"]) * dw
    config["cache"] = cache
    return w - config["learning_rate"] * dw / np.sqrt(np.abs(cache) + config["epsilon"]), config""",
         "first step"),
        ("the cache not kept", "optim", """
def rmsprop(w, dw, config):
    cache = (1 - config["rho"]) * dw ** 2
    return w - config["learning_rate"] * dw / np.sqrt(cache + config["epsilon"]), config""",
         "five steps (the state carries over)"),
        ("rho and 1 - rho swapped", "optim", """
def rmsprop(w, dw, config):
    cache = (1 - config["rho"]) * config.get("cache", np.zeros_like(w)) + config["rho"] * dw ** 2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / np.sqrt(cache + config["epsilon"]), config""", "first step"),
        ("epsilon beside the square root (Keras 2's rule)", "optim", """
def rmsprop(w, dw, config):
    cache = config["rho"] * config.get("cache", np.zeros_like(w)) + (1 - config["rho"]) * dw ** 2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config""",
         "small gradients (|dw| ~ 1e-4)"),
        ("epsilon added to the gradient's square", "optim", """
def rmsprop(w, dw, config):
    cache = config["rho"] * config.get("cache", np.zeros_like(w)) + (1 - config["rho"]) * (dw ** 2 + config["epsilon"])
    config["cache"] = cache
    return w - config["learning_rate"] * dw / np.sqrt(cache), config""", "small gradients (|dw| ~ 1e-4)"),
    ],
    "adam": [
        ("no bias correction", "optim", """
def adam(w, dw, config):
    m = config["beta1"] * config.get("m", np.zeros_like(w)) + (1 - config["beta1"]) * dw
    v = config["beta2"] * config.get("v", np.zeros_like(w)) + (1 - config["beta2"]) * dw ** 2
    config.update(m=m, v=v)
    return w - config["learning_rate"] * m / (np.sqrt(v) + config["epsilon"]), config""", "first step"),
        ("t incremented after its use", "optim", """
def adam(w, dw, config):
    t = config.get("t", 0)
    m = config["beta1"] * config.get("m", np.zeros_like(w)) + (1 - config["beta1"]) * dw
    v = config["beta2"] * config.get("v", np.zeros_like(w)) + (1 - config["beta2"]) * dw ** 2
    config.update(t=t + 1, m=m, v=v)
    return w - config["learning_rate"] * (m / (1 - config["beta1"] ** t)) / (
        np.sqrt(v / (1 - config["beta2"] ** t)) + config["epsilon"]), config""", "first step"),
        ("m and v not kept", "optim", """
def adam(w, dw, config):
    t = config.get("t", 0) + 1
    m, v = (1 - config["beta1"]) * dw, (1 - config["beta2"]) * dw ** 2
    config.update(t=t)
    return w - config["learning_rate"] * (m / (1 - config["beta1"] ** t)) / (
        np.sqrt(v / (1 - config["beta2"] ** t)) + config["epsilon"]), config""",
         "five steps (the state carries over)"),
    ],
    "two_layer_net": [
        ("the penalty on the biases too", "network", """
_right = two_layer_net
def two_layer_net(x, y, params, l2):
    loss, grads = _right(x, y, params, l2)
    for key in ("b1", "b2"):
        loss += l2 * np.sum(params[key] ** 2)
        grads[key] = grads[key] + 2 * l2 * params[key]
    return loss, grads""", "l2 = 0.1"),
        ("the penalty's gradient forgotten", "network", """
_right = two_layer_net
def two_layer_net(x, y, params, l2):
    loss, grads = _right(x, y, params, l2)
    for key in ("w1", "w2"):
        grads[key] = grads[key] - 2 * l2 * params[key]
    return loss, grads""", "l2 = 0.1"),
        ("the ReLU forgotten in backward", "network", """
def two_layer_net(x, y, params, l2):
    h, cache1 = affine_forward(x, params["w1"], params["b1"])
    a, _ = relu_forward(h)
    z, cache2 = affine_forward(a, params["w2"], params["b2"])
    loss, dz = softmax_cross_entropy(z, y)
    grads = {}
    da, grads["w2"], grads["b2"] = affine_backward(dz, cache2)
    _, grads["w1"], grads["b1"] = affine_backward(da, cache1)
    for key in ("w1", "w2"):
        penalty, dpenalty = l2_penalty(params[key], l2)
        loss += penalty
        grads[key] = grads[key] + dpenalty
    return loss, grads""", "no penalty"),
    ],
    "train": [
        ("one state for all parameters", "network", """
def train(x, y, params, loss_fn, update, config, epochs, batch_size, seed):
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            loss, grads = loss_fn(x[batch], y[batch], params)
            for key in params:
                params[key], config = update(params[key], grads[key], config)
            losses.append(loss)
    return params, losses""", "plain SGD"),
        ("no shuffling", "network", """
def train(x, y, params, loss_fn, update, config, epochs, batch_size, seed):
    states = {key: dict(config) for key in params}
    losses = []
    for _ in range(epochs):
        for start in range(0, len(x), batch_size):
            batch = np.arange(len(x))[start:start + batch_size]
            loss, grads = loss_fn(x[batch], y[batch], params)
            for key in params:
                params[key], states[key] = update(params[key], grads[key], states[key])
            losses.append(loss)
    return params, losses""", "plain SGD"),
        ("a new generator every epoch", "network", """
def train(x, y, params, loss_fn, update, config, epochs, batch_size, seed):
    states = {key: dict(config) for key in params}
    losses = []
    for _ in range(epochs):
        order = np.random.default_rng(seed).permutation(len(x))
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            loss, grads = loss_fn(x[batch], y[batch], params)
            for key in params:
                params[key], states[key] = update(params[key], grads[key], states[key])
            losses.append(loss)
    return params, losses""", "plain SGD"),
        ("the last, smaller batch dropped", "network", """
def train(x, y, params, loss_fn, update, config, epochs, batch_size, seed):
    rng = np.random.default_rng(seed)
    states = {key: dict(config) for key in params}
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x) - batch_size + 1, batch_size):
            batch = order[start:start + batch_size]
            loss, grads = loss_fn(x[batch], y[batch], params)
            for key in params:
                params[key], states[key] = update(params[key], grads[key], states[key])
            losses.append(loss)
    return params, losses""", "plain SGD"),
    ],
}


def answers_with(tmp_path, lesson, code):
    """A copy of the answer key with ``code`` appended to ``lesson``.py (its functions replace the right ones)."""
    folder = tmp_path / "mine"
    shutil.copytree(os.path.join(COURSE, "answers"), folder)
    with open(folder / f"{lesson}.py", "a") as file:
        file.write("\n" + textwrap.dedent(code) + "\n")
    return folder


def run_grader(*argv):
    lines = []
    results = grade.main(["--hints", *map(str, argv)], print_fn=lines.append)
    return results, "\n".join(lines)


def test_twenty_exercises_and_the_answer_key_passes_every_one():
    results, text = run_grader("--answers")
    assert len(grade.EXERCISES) == 20 and set(WRONG) == set(grade.EXERCISES)
    assert all(results.values()), text
    assert "20 of 20 exercises pass" in text
    # every exercise is graded on several cases
    assert all(line.count(";") >= 1 for line in text.splitlines() if ": PASS (" in line), text


@pytest.mark.parametrize("exercise,mistake,lesson,code,case",
                         [(name, *wrong) for name, wrongs in WRONG.items() for wrong in wrongs],
                         ids=[f"{name}: {wrong[0]}" for name, wrongs in WRONG.items() for wrong in wrongs])
def test_each_classic_wrong_answer_is_graded_wrong_on_the_case_that_shows_it(exercise, mistake, lesson, code, case,
                                                                            tmp_path):
    results, text = run_grader("--dir", answers_with(tmp_path, lesson, code), exercise)
    assert results == {exercise: False}, text
    assert f"case '{case}'" in text, text
    assert "hint:" in text


def test_the_skeletons_match_the_answer_key():
    """Same functions, signatures and docstrings; every body still to write."""
    for lesson in sorted({exercise.lesson for exercise in grade.EXERCISES.values()}):
        def functions(folder):
            tree = ast.parse(open(os.path.join(COURSE, folder, f"{lesson}.py")).read())
            return {node.name: (ast.unparse(node.args), ast.get_docstring(node), node) for node in tree.body
                    if isinstance(node, ast.FunctionDef)}, ast.get_docstring(tree)

        (skeleton, doc_s), (answers, doc_a) = functions("exercises"), functions("answers")
        assert doc_s == doc_a and set(skeleton) == set(answers), lesson
        for name, (args, doc, node) in skeleton.items():
            assert (args, doc) == answers[name][:2], name
            assert isinstance(node.body[-1], ast.Raise), name


def test_the_skeleton_is_graded_as_not_written_yet():
    results, text = run_grader("affine", "adam")
    assert not any(results.values())
    assert "affine: not written yet (write affine_forward)" in text and "0 of 2 exercises pass" in text


def test_a_wrong_shape_and_an_error_are_reported(tmp_path):
    folder = answers_with(tmp_path, "layers", """
def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x @ dout, 0
def tanh_backward(dout, cache):
    raise KeyError("oops")""")
    results, text = run_grader("--dir", folder, "affine", "tanh", "relu")
    assert results == {"affine": False, "tanh": False, "relu": True}
    assert "raised ValueError" in text or "WRONG SHAPE" in text
    assert "tanh: raised KeyError: 'oops' (case 'random')" in text


@pytest.mark.parametrize("exercise", ["affine", "relu", "sigmoid", "tanh", "softmax", "conv_naive", "maxpool",
                                      "avgpool", "batchnorm"])
def test_the_expected_gradients_agree_with_centred_differences(exercise):
    """The library's answers are right: its backward against centred differences of its forward, in float64."""
    from tinynet import gradcheck
    from tinynet.core.ops import conv as conv_ops, normalization as bn_ops, pooling as pool_ops
    from tinynet.layers import ReLU, Sigmoid, Softmax, Tanh
    rng = np.random.default_rng(5)
    if exercise in ("affine", "relu", "sigmoid", "tanh", "softmax"):
        from tinynet.layers import Dense
        layer = {"affine": lambda: Dense(4), "relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "softmax": Softmax}[
            exercise]()
        assert gradcheck.check_layer(layer, rng.standard_normal((3, 5)), verbose=False).passed
        return
    x = rng.standard_normal((2, 5, 5, 2))
    if exercise == "conv_naive":
        w, b = rng.standard_normal((3, 3, 2, 3)), rng.standard_normal(3)
        forward = lambda: conv_ops.conv2d_forward(x, w, b, strides=2)  # noqa: E731
        backward = lambda dout, cache: conv_ops.conv2d_backward(dout, cache)[0]  # noqa: E731
    elif exercise in ("maxpool", "avgpool"):
        forward = lambda: getattr(pool_ops, f"{exercise[:3]}pool2d_forward")(x, 2, 1)  # noqa: E731
        backward = getattr(pool_ops, f"{exercise[:3]}pool2d_backward")
    else:
        gamma, beta = rng.random(2) + 0.5, rng.standard_normal(2)
        forward = lambda: (lambda r: (r[0], r[3]))(bn_ops.batch_norm_forward(x, gamma, beta, 1e-3))  # noqa: E731
        backward = lambda dout, cache: bn_ops.batch_norm_backward(dout, cache)[0]  # noqa: E731
    out, cache = forward()
    dout = rng.standard_normal(out.shape)
    dx = backward(dout, cache)
    numeric = gradcheck.numerical_gradient(lambda: float((forward()[0] * dout).sum()), x)
    assert gradcheck.relative_error(dx, numeric) < 1e-7


def test_the_command_line_exit_code():
    out = subprocess.run([sys.executable, "examples/course/grade.py", "--answers", "sigmoid"], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "sigmoid: PASS" in out.stdout
    out = subprocess.run([sys.executable, "examples/course/grade.py", "sigmoid"], cwd=REPO, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 1 and "not written yet" in out.stdout


def test_find_the_bug_names_the_failing_layer_and_checks_a_guess():
    out = subprocess.run([sys.executable, "examples/course/find_the_bug.py"], cwd=REPO, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = {tuple(line.split()[:2]): line for line in out.stdout.splitlines() if line.startswith(("middle", "last",
                                                                                                  "first"))}
    assert rows[("last", "kernel")].endswith("pass") and "FAIL" in rows[("middle", "kernel")]
    assert "its own backward is right" in rows[("first", "kernel")]       # fails only through 'middle'
    assert "The culprit: 'middle'" in out.stdout
    assert "dz = dy * [z > 0]" in out.stdout          # the trace prints the stage the bug skips
    for guess, verdict in (("middle", "right!"), ("first", "no.")):
        out = subprocess.run([sys.executable, "examples/course/find_the_bug.py", "--guess", guess], cwd=REPO,
                             capture_output=True, text=True, timeout=120)
        assert out.stdout.startswith(f"{guess}: {verdict}"), out.stdout


def test_every_pointer_into_the_library_names_a_file_and_a_definition_in_it():
    """'tinynet/core/ops/conv.py, im2col' in the answer key, the grader and the README: the file exists (files moved
    into tinynet/core) and defines the name (a class, a function or a Class.method)."""
    import re
    texts = {os.path.relpath(os.path.join(root, name), REPO): open(os.path.join(root, name), encoding="utf-8").read()
             for root, _, names in os.walk(COURSE) for name in names if name.endswith((".py", ".md"))}
    pointers = set()
    for where, text in texts.items():
        for path in re.findall(r"tinynet/[\w/]+\.py", text):
            assert os.path.isfile(os.path.join(REPO, path)), f"{where} names {path}, which does not exist"
        for path, names in re.findall(r"(tinynet/[\w/]+\.py), ([A-Za-z_][\w.]*(?: / [A-Za-z_][\w.]*)*)", text):
            pointers |= {(where, path, name.rstrip(".")) for name in names.split(" / ")}
    assert len(pointers) >= 25, sorted(pointers)
    for where, path, name in pointers:
        tree = ast.parse(open(os.path.join(REPO, path), encoding="utf-8").read())
        defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
        defined |= {f"{node.name}.{item.name}" for node in tree.body if isinstance(node, ast.ClassDef)
                    for item in node.body if isinstance(item, ast.FunctionDef)}
        assert name in defined, f"{where}: {path} defines no {name}"
