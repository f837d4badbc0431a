"""Lesson 6 -- update rules: SGD with momentum, RMSprop, Adam.

Grade: python examples/course/grade.py sgd_momentum rmsprop adam

Each rule takes a weight w, its gradient dw and config, the dict of its settings and its state,
and returns (next_w, config). The state (a velocity, running averages, a step count) is
created in config the first time the rule sees it, and carried to the next call. The grader
compares each with the library's optimizer: tinynet/core/optimizers/sgd_rmsprop_adam.py.
"""
import numpy as np


def sgd_momentum(w, dw, config):
    """velocity = momentum * velocity - learning_rate * dw;  next_w = w + velocity.

    config: 'learning_rate', 'momentum', and the state 'velocity' (zeros at first).
    """
    velocity = config.get("velocity", np.zeros_like(w))
    velocity = config["momentum"] * velocity - config["learning_rate"] * dw   # sgd_rmsprop_adam.py, SGD.update
    config["velocity"] = velocity
    return w + velocity, config


def rmsprop(w, dw, config):
    """cache = rho * cache + (1 - rho) * dw^2;  next_w = w - learning_rate * dw / sqrt(cache + epsilon).

    config: 'learning_rate', 'rho', 'epsilon', and the state 'cache' (zeros at first).
    NOTE: epsilon sits inside the square root, as tinynet, Keras 3 and TensorFlow compute it
    (Keras 2 wrote sqrt(cache) + epsilon); it matters when the gradients are small.
    """
    cache = config.get("cache", np.zeros_like(w))
    cache = config["rho"] * cache + (1 - config["rho"]) * dw ** 2      # sgd_rmsprop_adam.py, RMSprop.update
    config["cache"] = cache
    return w - config["learning_rate"] * dw / np.sqrt(cache + config["epsilon"]), config


def adam(w, dw, config):
    """Adam (Kingma & Ba, 2015), with its bias correction:

        t = t + 1
        m = beta1 * m + (1 - beta1) * dw          v = beta2 * v + (1 - beta2) * dw^2
        m_hat = m / (1 - beta1^t)                 v_hat = v / (1 - beta2^t)
        next_w = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    config: 'learning_rate', 'beta1', 'beta2', 'epsilon', and the state 'm', 'v' (zeros) and 't' (0).
    """
    t = config.get("t", 0) + 1
    m = config["beta1"] * config.get("m", np.zeros_like(w)) + (1 - config["beta1"]) * dw
    v = config["beta2"] * config.get("v", np.zeros_like(w)) + (1 - config["beta2"]) * dw ** 2
    m_hat = m / (1 - config["beta1"] ** t)      # m and v start at 0: early averages are too small by
    v_hat = v / (1 - config["beta2"] ** t)      # exactly these factors (docs/training-maths.md)
    config.update(t=t, m=m, v=v)
    return w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"]), config
