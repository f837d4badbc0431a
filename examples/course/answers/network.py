"""Lesson 7 -- a two-layer network and the loop that trains it.

Grade: python examples/course/grade.py two_layer_net train

Build them from your lessons 1, 2 and 6 (layers.py, losses.py, optim.py in this folder).
params: {'w1': (D, H), 'b1': (H,), 'w2': (H, K), 'b2': (K,)}; lowercase w, as in the docs.
"""
import numpy as np

from layers import affine_backward, affine_forward, relu_backward, relu_forward
from losses import l2_penalty, softmax_cross_entropy


def two_layer_net(x, y, params, l2):
    """affine - ReLU - affine - softmax cross-entropy, plus l2 * sum(w^2) on both kernels (not the biases).

    x: (N, D), y: (N,) integer labels. Returns (loss, grads), grads a dict with params' keys and shapes.
    (tinynet: Sequential([Dense(H, 'relu', kernel_regularizer=l2), Dense(K, 'softmax', kernel_regularizer=l2)]).)
    """
    h, cache1 = affine_forward(x, params["w1"], params["b1"])
    a, cache_relu = relu_forward(h)
    z, cache2 = affine_forward(a, params["w2"], params["b2"])
    loss, dz = softmax_cross_entropy(z, y)
    grads = {}
    da, grads["w2"], grads["b2"] = affine_backward(dz, cache2)
    dh = relu_backward(da, cache_relu)
    _, grads["w1"], grads["b1"] = affine_backward(dh, cache1)
    for key in ("w1", "w2"):                # the penalty is part of the loss: its gradient joins the kernel's
        penalty, dpenalty = l2_penalty(params[key], l2)
        loss += penalty
        grads[key] = grads[key] + dpenalty
    return loss, grads


def train(x, y, params, loss_fn, update, config, epochs, batch_size, seed):
    """Minibatch gradient descent: returns (params, losses), the loss of every step in order.

    Each epoch visits the samples in the order rng.permutation(N), with ONE generator
    rng = np.random.default_rng(seed) made before the first epoch, in batches of batch_size
    (the last one smaller when N is not a multiple). Each step: loss, grads = loss_fn(xb, yb, params),
    then params[key], state = update(params[key], grads[key], state) for every key, with one state per
    parameter, each starting as a copy of config.
    """
    rng = np.random.default_rng(seed)
    states = {key: dict(config) for key in params}      # a velocity per weight, not one for all
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            loss, grads = loss_fn(x[batch], y[batch], params)
            for key in params:
                params[key], states[key] = update(params[key], grads[key], states[key])
            losses.append(loss)
    return params, losses
