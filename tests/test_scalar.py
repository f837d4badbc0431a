"""tinynet.scalar: each operation's derivative, and the walkthrough network's gradients equal the layers'."""
import math
import os
import sys

import numpy as np
import pytest

from conftest import REPO
from tinynet.scalar import Value

sys.path.insert(0, os.path.join(REPO, "examples"))
import scalars_to_matrices  # noqa: E402


def numeric(f, x, eps=1e-6):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


@pytest.mark.parametrize("name, build, plain", [
    ("add", lambda a: a + 3.0, lambda a: a + 3.0),
    ("sub", lambda a: 2.0 - a, lambda a: 2.0 - a),
    ("mul", lambda a: a * a * 1.5, lambda a: a * a * 1.5),
    ("div", lambda a: 1.0 / a + a / 4.0, lambda a: 1.0 / a + a / 4.0),
    ("pow", lambda a: a ** 3, lambda a: a ** 3),
    ("exp", lambda a: a.exp(), math.exp),
    ("log", lambda a: a.log(), math.log),
    ("tanh", lambda a: a.tanh(), math.tanh),
    ("relu", lambda a: (a - 0.2).relu() * a, lambda a: max(a - 0.2, 0) * a),
])
def test_each_operation_matches_centred_differences(name, build, plain):
    a = Value(0.7)
    out = build(a)
    out.backward()
    assert out.data == pytest.approx(plain(0.7))
    assert a.grad == pytest.approx(numeric(plain, 0.7), rel=1e-7)


def test_a_value_used_twice_collects_both_terms_and_backward_can_be_repeated():
    a, b = Value(2.0), Value(-3.0)
    c = a * b + a                       # dc/da = b + 1, dc/db = a
    c.backward()
    c.backward()                        # grads are reset, not accumulated across calls
    assert (a.grad, b.grad) == (-2.0, 2.0)


def test_a_long_chain_does_not_hit_the_recursion_limit():
    a = Value(1.0)
    total = Value(0.0)
    for _ in range(5000):
        total = total + a
    total.backward()
    assert a.grad == 5000


def test_scalar_engine_equals_the_matrix_layers_on_the_walkthrough_network():
    scalar_loss, scalar = scalars_to_matrices.scalar_gradients()
    layer_loss, layer = scalars_to_matrices.layer_gradients()
    assert set(scalar) == set(layer) == {"hidden/kernel", "hidden/bias", "output/kernel", "output/bias"}
    assert scalar_loss == pytest.approx(layer_loss, rel=1e-6)
    for name in scalar:
        # the layers run in float32: equal up to its rounding
        np.testing.assert_allclose(scalar[name], layer[name], atol=1e-6, err_msg=name)
    # the bridge: the scalar engine's dw1 is x^T @ dz1 computed in float64
    x, w1, w2 = scalars_to_matrices.X, scalars_to_matrices.w1, scalars_to_matrices.w2
    z1 = x @ w1 + scalars_to_matrices.b1
    z2 = np.maximum(z1, 0) @ w2
    p = np.exp(z2) / np.exp(z2).sum(1, keepdims=True)
    dz1 = ((p - np.eye(3)[scalars_to_matrices.LABELS]) / 2) @ w2.T * (z1 > 0)
    np.testing.assert_allclose(scalar["hidden/kernel"], x.T @ dz1, atol=1e-12)
