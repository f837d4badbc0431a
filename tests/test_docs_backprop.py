"""docs/backprop.md: every code pointer exists, and each documented formula, in NumPy, matches the code."""
import ast
import os
import re

import numpy as np
import pytest

from conftest import REPO
from tinynet import losses
from tinynet.layers import (AveragePooling2D, BatchNormalization, Conv2D, Dense, Dropout, MaxPooling2D, ReLU,
                            Sigmoid, Softmax, Tanh)
from tinynet.ops import log_softmax, softmax

DOC = open(os.path.join(REPO, "docs", "backprop.md"), encoding="utf-8").read()
POINTERS = sorted(set(re.findall(r"`(tinynet/[\w/]+\.py)::([\w.]+)`", DOC)))
rng = np.random.default_rng(0)


def defined_names(path):
    """'function' and 'Class.method' names defined at the top of a Python file."""
    tree = ast.parse(open(os.path.join(REPO, path), encoding="utf-8").read())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            names |= {f"{node.name}.{item.name}" for item in node.body if isinstance(item, ast.FunctionDef)}
    return names


def test_the_doc_has_pointers_for_every_part():
    files = {path for path, _ in POINTERS}
    assert len(POINTERS) >= 30
    assert {"tinynet/core/layers/core.py", "tinynet/core/layers/activations.py", "tinynet/core/losses.py", "tinynet/core/ops/conv.py",
            "tinynet/core/ops/pooling.py", "tinynet/core/ops/normalization.py", "tinynet/fast/conv.py",
            "tinynet/fast/normalization.py"} <= files


@pytest.mark.parametrize("path,name", POINTERS)
def test_every_code_pointer_names_an_existing_function(path, name):
    assert os.path.isfile(os.path.join(REPO, path)), path
    assert name in defined_names(path), f"{path} has no {name}"


def backward(layer, x, training=False):
    y = layer(x, training=training)
    dout = rng.standard_normal(y.shape)
    return y, dout, layer.backward(dout)


def test_dense():
    layer = Dense(3)
    x = rng.standard_normal((4, 5))
    y, dz, dx = backward(layer, x)
    W, b = layer.kernel.data, layer.bias.data
    np.testing.assert_allclose(y, x @ W + b)
    np.testing.assert_allclose(layer.kernel.grad, x.T @ dz)        # dW = x^T dz
    np.testing.assert_allclose(layer.bias.grad, dz.sum(0))         # db = sum_n dz
    np.testing.assert_allclose(dx, dz @ W.T)                       # dx = dz W^T


@pytest.mark.parametrize("layer,forward,local", [
    (ReLU(), lambda x: np.maximum(x, 0), lambda x, y: (x > 0).astype(float)),
    (Sigmoid(), lambda x: 1 / (1 + np.exp(-x)), lambda x, y: y * (1 - y)),
    (Tanh(), np.tanh, lambda x, y: 1 - y ** 2),
])
def test_elementwise_activations(layer, forward, local):
    x = rng.standard_normal((3, 4))
    y, dout, dx = backward(layer, x)
    np.testing.assert_allclose(y, forward(x))
    np.testing.assert_allclose(dx, dout * local(x, y))


def test_softmax_forward_and_vector_jacobian_product():
    z = rng.standard_normal((3, 5)) * 10
    p, dp, dz = backward(Softmax(), z)
    np.testing.assert_allclose(p, np.exp(z) / np.exp(z).sum(1, keepdims=True))
    np.testing.assert_allclose(dz, p * (dp - (dp * p).sum(1, keepdims=True)))   # p_k (dp_k - sum_i dp_i p_i)
    jacobian = np.einsum("ni,ik->nik", p, np.eye(5)) - np.einsum("ni,nk->nik", p, p)
    np.testing.assert_allclose(dz, np.einsum("ni,nik->nk", dp, jacobian), atol=1e-12)


def test_dropout_uses_the_same_scaled_mask():
    layer = Dropout(0.5)
    x = rng.standard_normal((50, 4)) + 3
    y, dout, dx = backward(layer, x, training=True)
    m = (y != 0)
    np.testing.assert_allclose(y, x * m / 0.5)
    np.testing.assert_allclose(dx, dout * m / 0.5)


def test_softmax_cross_entropy_gradient_is_p_minus_y_over_n():
    z = rng.standard_normal((4, 3))
    y = np.eye(3)[[0, 2, 1, 1]]
    loss = losses.CategoricalCrossentropy(from_logits=True)
    value = loss(y, z)
    p = softmax(z)
    assert value == pytest.approx(-(y * np.log(p)).sum() / 4)
    assert value == pytest.approx(np.mean(-(y * z).sum(1) + np.log(np.exp(z).sum(1))))   # the expanded form
    np.testing.assert_allclose(loss.backward(), (p - y) / 4)
    sparse = losses.SparseCategoricalCrossentropy(from_logits=True)
    sparse(np.array([0, 2, 1, 1]), z)
    np.testing.assert_allclose(sparse.backward(), (p - y) / 4)
    np.testing.assert_allclose(log_softmax(z), np.log(p))


def test_other_losses():
    p = rng.uniform(0.1, 0.9, (4, 3))
    y = rng.integers(0, 2, (4, 3)).astype(float)
    cce = losses.CategoricalCrossentropy()
    cce(y, p)
    np.testing.assert_allclose(cce.backward(), -y / (4 * p))
    mse = losses.MeanSquaredError()
    mse(y, p)
    np.testing.assert_allclose(mse.backward(), 2 * (p - y) / 12)
    z = rng.standard_normal((4, 3))
    bce = losses.BinaryCrossentropy(from_logits=True)
    value = bce(y, z)
    s = 1 / (1 + np.exp(-z))
    assert value == pytest.approx(np.mean(-y * np.log(s) - (1 - y) * np.log(1 - s)))
    np.testing.assert_allclose(bce.backward(), (s - y) / 12)


def test_conv2d_is_the_documented_sum_and_im2col_matrix_product():
    from tinynet.core.ops.conv import im2col
    layer = Conv2D(2, (2, 3), strides=(2, 1), padding="same")
    x = rng.standard_normal((2, 5, 6, 3))
    z, dz, dx = backward(layer, x, training=True)
    W, b = layer.kernel.data, layer.bias.data
    xp = np.pad(x, ((0, 0), (0, 1), (1, 1), (0, 0)))       # TensorFlow 'same': extra row at the bottom
    expected = np.zeros_like(z)
    for i in range(z.shape[1]):
        for j in range(z.shape[2]):
            expected[:, i, j, :] = np.einsum("nabc,abcf->nf", xp[:, 2 * i:2 * i + 2, j:j + 3, :], W) + b
    np.testing.assert_allclose(z, expected)
    cols = im2col(x, 2, 3, (2, 1), "same")
    np.testing.assert_allclose(z.reshape(-1, 2), cols @ W.reshape(-1, 2) + b)       # one matrix product
    np.testing.assert_allclose(layer.kernel.grad.reshape(-1, 2), cols.T @ dz.reshape(-1, 2))
    np.testing.assert_allclose(layer.bias.grad, dz.reshape(-1, 2).sum(0))


def test_maxpool_ties_go_to_the_first_maximum():
    x = np.array([[5.0, 5.0], [1.0, 5.0]]).reshape(1, 2, 2, 1)
    y, dout, dx = backward(MaxPooling2D(2), x)
    assert y.item() == 5.0
    np.testing.assert_array_equal(dx.reshape(2, 2), [[dout.item(), 0.0], [0.0, 0.0]])
    _, dout, dx = backward(MaxPooling2D(2, impl="naive"), x)
    np.testing.assert_array_equal(dx.reshape(2, 2), [[dout.item(), 0.0], [0.0, 0.0]])


def test_average_pooling_spreads_dout_over_count():
    x = rng.standard_normal((1, 4, 4, 2))
    y, dout, dx = backward(AveragePooling2D(2), x)
    np.testing.assert_allclose(dx, np.repeat(np.repeat(dout, 2, 1), 2, 2) / 4)


@pytest.mark.parametrize("shape", [(8, 3), (2, 3, 3, 4)])
def test_batchnorm_backward_formulas(shape):
    layer = BatchNormalization()
    x = rng.standard_normal(shape) * 2 + 1
    layer.build(shape[1:])
    layer.gamma.data = rng.standard_normal(shape[-1])
    y, dout, dx = backward(layer, x, training=True)
    axes = tuple(range(len(shape) - 1))
    M = x.size // shape[-1]
    mean, var = x.mean(axes), x.var(axes)
    s = np.sqrt(var + layer.epsilon)
    xhat = (x - mean) / s
    gamma = layer.gamma.data
    np.testing.assert_allclose(y, gamma * xhat + layer.beta.data, atol=1e-12)
    dbeta, dgamma = dout.sum(axes), (dout * xhat).sum(axes)
    np.testing.assert_allclose(layer.beta.grad, dbeta)
    np.testing.assert_allclose(layer.gamma.grad, dgamma)
    dxhat = dout * gamma
    compact = (M * dxhat - dxhat.sum(axes) - xhat * (dxhat * xhat).sum(axes)) / (M * s)
    np.testing.assert_allclose(dx, compact, atol=1e-12)
    np.testing.assert_allclose(dx, gamma / s * (dout - dbeta / M - xhat * dgamma / M), atol=1e-12)
    dvar = (dxhat * (x - mean) * -0.5 * s ** -3).sum(axes)         # the staged three-path version
    dmean = (-dxhat / s).sum(axes)
    np.testing.assert_allclose(dx, dxhat / s + dvar * 2 * (x - mean) / M + dmean / M, atol=1e-12)


def test_the_doc_states_one_notation_at_the_top():
    top = DOC[:DOC.index("## Dense")]
    for symbol in ("x: (N, H, W, C)", "w: (kh, kw, C, F)", "w_col = w.reshape(kh*kw*C, F)", "filter index `f`",
                   "`(di, dj)`", "`@`, `*`", "vector-Jacobian product"):
        assert symbol in top, symbol
    assert "W2" not in DOC and "·" not in DOC and "symmetric, so the Jacobian-vector" in DOC


def test_maxpool_tie_centred_differences_as_the_doc_says():
    from tinynet.gradcheck import numerical_gradient
    for ties, expected in ((2, [0.5, 0.5]), (3, [0.5, 0.5, 0.5])):
        x = np.array([5.0] * ties + [1.0] * (4 - ties)).reshape(1, 2, 2, 1)
        layer = MaxPooling2D(2)
        grad = numerical_gradient(lambda: float(layer(x).sum()), x).ravel()[:ties]
        np.testing.assert_allclose(grad, expected, atol=1e-6)
    assert "`[0.5, 0.5]`, itself a subgradient" in DOC and "`[0.5, 0.5, 0.5]`, which sums to 1.5" in DOC


def test_batchnorm_removes_only_var_over_var_plus_eps_along_xhat():
    layer = BatchNormalization(epsilon=1e-3)
    layer.build((1,))
    x = np.array([0.02, -0.02, 0.02, -0.02]).reshape(4, 1)
    layer(x, training=True)
    dx = layer.backward(np.array([1.0, -1.0, 1.0, -1.0]).reshape(4, 1))
    var, eps = x.var(), 1e-3
    s = np.sqrt(var + eps)
    xhat = (x - x.mean()) / s
    assert var == pytest.approx(4e-4)
    along = float((dx * xhat).sum())
    assert along == pytest.approx(40.8, abs=0.05)
    assert along == pytest.approx(1 / s * float((np.array([1, -1, 1, -1]) * xhat.ravel()).sum()) * eps / (var + eps))
    assert "`dx . xhat = 57.1 * 5/7 = 40.8`, not 0" in DOC


def test_mean_counts_in_the_losses_gradients_as_the_doc_says():
    assert "`1/(N K)`" in DOC and "divided by the\nnumber of entries `N K`, not by `N`" in DOC
    assert "puts a `1/N` in every gradient" not in DOC


# ----- Forks: the gradient of a value used several times is the sum over its uses -----------------------

def centred_difference(f, values, i, eps=1e-3):
    """d f / d values[i] by (f(v + eps) - f(v - eps)) / (2 eps), the others held."""
    up, down = list(values), list(values)
    up[i] += eps
    down[i] -= eps
    return (f(*up) - f(*down)) / (2 * eps)


def test_fork_the_same_value_twice_in_one_op():
    import tinynet
    from tinynet.tools.scalar import Value
    x = tinynet.Tensor(np.array([3.0]), requires_grad=True)
    with tinynet.GradientTape() as tape:
        y = x * x
    (dx,) = tape.gradient(y, [x])
    assert dx.item() == 6.0                                     # 3 along each use: 2x
    assert centred_difference(lambda v: v * v, [3.0], 0) == pytest.approx(6.0)
    a = Value(3.0)
    (a * a).backward()
    assert a.grad == 6.0                                        # the scalar engine's += does the same


def two_dense_layers(w1, w2, shared=False):
    import tinynet
    inputs = tinynet.Input((1,))
    first = Dense(1, use_bias=False)
    second = first if shared else Dense(1, use_bias=False)
    h = first(inputs)
    outputs = second(h) if shared else h + second(h)            # the skip connection: h used twice
    model = tinynet.Model(inputs, outputs)
    first.set_weights([np.array([[w1]])])
    if not shared:
        second.set_weights([np.array([[w2]])])
    return model, first, second


def value_and_gradients(model, x, parameters):
    import tinynet
    x = tinynet.Tensor(np.array([[x]], dtype=np.float32), requires_grad=True)
    with tinynet.GradientTape() as tape:
        y = model(x)
    grads = tape.gradient(y, [x] + parameters)
    return float(np.asarray(y.value).item()), [float(np.asarray(g).item()) for g in grads]


def test_fork_a_skip_connection():
    model, first, second = two_dense_layers(3.0, 0.5)
    y, (dx, dw1, dw2) = value_and_gradients(model, 2.0, [first.kernel, second.kernel])
    assert (y, dx, dw1, dw2) == (9.0, 4.5, 3.0, 6.0)           # dL/dh = 1 + w2 = 1.5: dx = 1.5 w1, dw1 = 1.5 x

    def f(x, w1, w2):
        return x * w1 + (x * w1) * w2
    for i, expected in enumerate((4.5, 3.0, 6.0)):
        assert centred_difference(f, [2.0, 3.0, 0.5], i) == pytest.approx(expected)


def test_fork_a_shared_layer():
    model, layer, _ = two_dense_layers(3.0, None, shared=True)
    y, (dx, dw) = value_and_gradients(model, 2.0, [layer.kernel])
    assert (y, dx, dw) == (18.0, 9.0, 12.0)                     # dw = w x (outer use) + w x (inner use)
    assert centred_difference(lambda x, w: w * (w * x), [2.0, 3.0], 1) == pytest.approx(12.0)
    assert "## Forks: a value used several times" in DOC and "12 = 2 w x" in DOC and "dL/dx = 1.5 * w1 = 4.5" in DOC
