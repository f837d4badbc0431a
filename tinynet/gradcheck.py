"""Numerical gradient checking: compare backprop's gradients with centred differences.

For a scalar function f of an array x, each partial derivative is estimated as

    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

whose error is O(eps^2). Everything runs in float64: in float32 the rounding
error of f (~1e-7 relative) divided by 2 eps would swamp the estimate.

The agreement is measured as the relative error of the whole gradient,
``||a - n|| / (||a|| + ||n||)``; correct backprop gives about 1e-10 here,
a wrong one gives something near 1. Tests require < 1e-6.

Near a kink (ReLU at 0, ties in max-pooling) the function is not
differentiable and the two estimates may rightly disagree: check away from kinks.
"""
import copy

import numpy as np

from .utils import set_random_seed


def numerical_gradient(f, x, eps=1e-6):
    """Centred-difference gradient of the scalar ``f()`` with respect to array ``x``.

    ``x`` is perturbed in place, one entry at a time, and restored; ``f`` must read it.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)
    assert np.shares_memory(flat_x, x), "x must be contiguous so it can be perturbed in place"
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + eps
        f_plus = f()
        flat_x[i] = original - eps
        f_minus = f()
        flat_x[i] = original
        flat_grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(analytic, numeric):
    """``||a - n|| / (||a|| + ||n||)``, 0 when both are 0."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    denominator = np.linalg.norm(a) + np.linalg.norm(n)
    return 0.0 if denominator == 0 else float(np.linalg.norm(a - n) / denominator)


def _as_float64(layers):
    for layer in layers:
        for parameter in layer.weights:
            parameter.data = parameter.data.astype(np.float64)
            parameter.grad = np.zeros_like(parameter.data)


def check_layer(layer, x, training=False, seed=None, eps=1e-6):
    """Check a layer's ``backward`` against centred differences.

    ``f(x, weights) = sum(forward(x) * dout)`` with a fixed random ``dout``, so
    backward(dout) must return df/dx and put df/dW in each ``Parameter.grad``.
    ``seed`` re-seeds before every forward pass, which fixes random layers (a
    Dropout mask). Works on a float64 copy; the layer itself is not changed.

    Returns ``{'input': error, '<weight name>': error, ...}``.
    """
    layer = copy.deepcopy(layer)
    layer.needs_input_gradient = True  # a model may have switched dx off for its first layer
    x = np.array(x, dtype=np.float64)
    if not layer.built:
        layer.build(tuple(x.shape[1:]))
    _as_float64([layer])

    def forward():
        if seed is not None:
            set_random_seed(seed)
        return layer.forward(x, training=training)

    dout = np.random.default_rng(1234).standard_normal(forward().shape)

    def f():
        return float((forward() * dout).sum())

    forward()
    dx = layer.backward(dout)
    errors = {"input": relative_error(dx, numerical_gradient(f, x, eps))}
    for parameter in layer.weights:
        if parameter.trainable:
            analytic = parameter.grad.copy()
            errors[parameter.name] = relative_error(analytic, numerical_gradient(f, parameter.data, eps))
    return errors


def check_model(model, x, y, seed=None, eps=1e-6):
    """Check every trainable weight's and the input's gradient of a compiled model's loss.

    Runs on a float64 copy of the model in training mode, through the same loss
    (fused softmax-cross-entropy included) that ``fit`` uses.
    Returns ``{'input': error, '<layer>/<weight>': error, ...}``.
    """
    model = copy.deepcopy(model)
    x = np.array(x, dtype=np.float64)
    model._ensure_built(x)
    _as_float64(model.layers)
    y = np.asarray(y)
    if model.loss.name != "sparse_categorical_crossentropy":
        y = y.astype(np.float64)

    def f():
        if seed is not None:
            set_random_seed(seed)
        return model._loss_value(y, model._forward(x, training=True))

    f()
    dx = model._backward(model._training_loss.backward(), input_gradient=True)
    errors = {"input": relative_error(dx, numerical_gradient(f, x, eps))}
    for parameter in model.trainable_weights:
        analytic = parameter.grad.copy()
        errors[parameter.name] = relative_error(analytic, numerical_gradient(f, parameter.data, eps))
    return errors
