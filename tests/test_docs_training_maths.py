"""docs/training-maths.md: every code pointer exists, and each formula and number matches the code; the slips
that the course found (the hinge note, the W notation) stay fixed."""
import ast
import os
import re
import sys

import numpy as np
import pytest

import tinynet
from conftest import REPO
from tinynet import initializers, layers, losses, optimizers, regularizers
from tinynet.core.layers.base import Parameter

DOC = open(os.path.join(REPO, "docs", "training-maths.md"), encoding="utf-8").read()
POINTERS = sorted(set(re.findall(r"`(tinynet/[\w/]+\.py)::([\w.]+)`", DOC)))
PATHS = sorted(set(re.findall(r"`((?:examples|docs|tests)/[\w/.-]+\.(?:py|md))`", DOC)))


def defined_names(path):
    tree = ast.parse(open(os.path.join(REPO, path), encoding="utf-8").read())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            names |= {f"{node.name}.{item.name}" for item in node.body if isinstance(item, ast.FunctionDef)}
    return names


def test_the_doc_points_at_code_for_every_section():
    assert len(POINTERS) >= 15 and len(PATHS) >= 6


@pytest.mark.parametrize("path,name", POINTERS)
def test_every_code_pointer_names_an_existing_function(path, name):
    assert name in defined_names(path), f"{path} has no {name}"


@pytest.mark.parametrize("path", PATHS)
def test_every_file_it_names_exists(path):
    assert os.path.isfile(os.path.join(REPO, path)), path


def test_nielsens_four_equations_give_the_models_gradients():
    tinynet.set_random_seed(0)
    model = tinynet.Sequential([layers.Dense(5, activation="tanh", input_shape=(3,)),
                                layers.Dense(4, activation="relu"), layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    from tinynet.tools.gradcheck import as_float64
    as_float64(model.layers)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 3)), np.array([0, 1, 2, 0, 1, 2])
    model.compute_gradients(x, y)
    w = [layer.kernel.data for layer in model.layers]
    b = [layer.bias.data for layer in model.layers]
    a, z = [x], []
    for i, act in enumerate([np.tanh, lambda t: np.maximum(t, 0), None]):
        z.append(a[-1] @ w[i] + b[i])
        a.append(act(z[-1]) if act else z[-1])
    p = np.exp(z[2] - z[2].max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    dz = [None, None, (p - np.eye(3)[y]) / len(x)]                    # BP1, softmax + cross-entropy
    dz[1] = (dz[2] @ w[2].T) * (z[1] > 0)                              # BP2
    dz[0] = (dz[1] @ w[1].T) * (1 - np.tanh(z[0]) ** 2)
    for i, layer in enumerate(model.layers):
        np.testing.assert_allclose(layer.bias.grad, dz[i].sum(0), atol=1e-12)       # BP3
        np.testing.assert_allclose(layer.kernel.grad, a[i].T @ dz[i], atol=1e-12)   # BP4


def test_the_penalties_gradients_and_weight_decay():
    w = np.random.default_rng(1).standard_normal((3, 4))
    np.testing.assert_allclose(regularizers.l2(0.01).gradient(w), 2 * 0.01 * w)
    np.testing.assert_allclose(regularizers.l1(0.01).gradient(w), 0.01 * np.sign(w))
    assert regularizers.l2(0.01)(w) == pytest.approx(0.01 * np.sum(w ** 2))
    # one SGD step with the penalty: (1 - 2 lr l2) w - lr dw_data
    lr, l2, dw = 0.1, 0.01, np.random.default_rng(2).standard_normal((3, 4))
    np.testing.assert_allclose(w - lr * (dw + regularizers.l2(l2).gradient(w)), (1 - 2 * lr * l2) * w - lr * dw)


def test_adam_uncorrected_ratio_and_the_correction():
    ratio = {t: (1 - 0.9 ** t) / np.sqrt(1 - 0.999 ** t) for t in (1, 10, 100, 1000)}
    for t, text in ((1, "3.16"), (10, "6.53"), (100, "3.24"), (1000, "1.26")):
        assert f"{ratio[t]:.3g}" == text and f"{text} at `t = {t}`" in DOC
    # tinynet's Adam: a constant gradient moves every weight by about lr from the first step
    adam = optimizers.Adam(learning_rate=0.01)
    w = Parameter(np.zeros(3), "w")
    for _ in range(3):
        w.grad = np.array([2.0, -0.5, 1e-2])
        start = w.data.copy()
        adam.apply([w])
        np.testing.assert_allclose(np.abs(w.data - start), 0.01, rtol=1e-3)

    # the paper's form with eps / sqrt(1 - beta2^t) in place of eps is tinynet's step (31.6 eps at t = 1)
    assert "31.6 `eps` at `t = 1`" in DOC and f"{1 / np.sqrt(1 - 0.999):.3g}" == "31.6"
    rng = np.random.default_rng(3)
    adam, w, m, v = optimizers.Adam(learning_rate=0.1, epsilon=1e-3, impl="naive"), Parameter(np.zeros(4), "w"), 0, 0
    for t in range(1, 4):
        g = 1e-3 * rng.standard_normal(4)                    # sqrt(v) near eps: where eps sits shows
        w.grad, start = g, w.data.copy()
        adam.apply([w])
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g ** 2
        eps_paper = 1e-3 / np.sqrt(1 - 0.999 ** t)
        paper = start - 0.1 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + eps_paper)
        np.testing.assert_allclose(w.data, paper, rtol=1e-12)


def test_where_rmsprops_epsilon_sits_the_table():
    """The first step from v = 0 for a constant gradient g (rho 0.9, eps 1e-7, lr 1): tinynet's RMSprop puts eps
    inside the square root; Keras 2's rule beside it. Each row of the doc's table, recomputed."""
    section = DOC[DOC.index("## Where RMSprop's epsilon sits"):]
    rows = re.findall(r"^\| (1|1e-\d) \| ([\d.]+) \| ([\d.]+) \|$", section, flags=re.M)
    assert len(rows) == 4
    for g, inside, beside in rows:
        g = float(g)
        for impl in ("naive", "fast"):
            w = Parameter(np.zeros(1), "w")
            w.grad = np.full(1, g)
            optimizers.RMSprop(1.0, rho=0.9, epsilon=1e-7, impl=impl).apply([w])
            assert f"{-w.data[0]:.4g}" == inside, (g, impl)
        assert f"{g / (np.sqrt(0.1 * g * g) + 1e-7):.4g}" == beside, g
    assert f"{1 / np.sqrt(0.1):.4g}" == "3.162" and re.search(r"full size: `1 / sqrt\(1 - rho\)\s+= 3.162`", section)


@pytest.mark.parametrize("initializer,variance", [(initializers.GlorotUniform(), lambda i, o: 2 / (i + o)),
                                                  (initializers.HeNormal(), lambda i, o: 2 / i)])
def test_glorot_and_he_variances(initializer, variance):
    tinynet.set_random_seed(0)
    w = initializer((400, 300))
    assert w.var() == pytest.approx(variance(400, 300), rel=0.02)
    if isinstance(initializer, initializers.GlorotUniform):
        assert np.abs(w).max() <= np.sqrt(6 / 700) + 1e-7
    # a conv kernel's fan_in is kh * kw * C
    assert initializers.compute_fans((3, 3, 16, 32)) == (3 * 3 * 16, 3 * 3 * 32)


def test_relu_halves_the_signal_and_he_keeps_it():
    z = np.random.default_rng(0).standard_normal(200_000)
    assert np.mean(np.maximum(z, 0) ** 2) == pytest.approx(0.5, rel=0.02)
    x = np.random.default_rng(1).standard_normal((500, 256))
    tinynet.set_random_seed(0)
    for _ in range(10):
        x = np.maximum(x @ initializers.HeNormal()((256, 256)), 0)
    assert 0.5 < np.mean(x ** 2) < 2.0


def test_gradient_descent_on_a_quadratic():
    a = 4.0
    for lr, converges in ((0.1, True), (0.49, True), (0.51, False)):
        w = 1.0
        for _ in range(200):
            w -= lr * a * w
        assert (abs(w) < 1e-3) == converges, lr
    assert "0 < lr < 2 / a" in DOC


def test_the_memory_numbers_are_the_scripts():
    sys.path.insert(0, os.path.join(REPO, "examples", "course"))
    import backward_memory
    totals = backward_memory.main(["--batch", "128"])
    (mlp, mlp_weights), (cnn, cnn_weights) = totals.values()
    assert f"| {mlp / 2**20:.1f} MiB | {mlp_weights / 2**20:.2f} MiB |" in DOC
    assert f"| {cnn / 2**20:.1f} MiB | {cnn_weights / 2**20:.2f} MiB |" in DOC
    assert f"keeps {round(cnn / mlp)} times as much" in DOC
    small = backward_memory.main(["--batch", "32"])
    assert f"At batch 32 the caches are {list(small.values())[0][0] / 2**20:.1f} and " \
           f"{list(small.values())[1][0] / 2**20:.1f} MiB" in DOC


# ----- the slips the course found ---------------------------------------------------------------
def test_the_hinge_notes_derivative_is_the_flat_sides_for_both_labels():
    assert "right-hand derivative for y = 1" in losses.Hinge.__doc__ and "left-hand one for y = -1" in \
        losses.Hinge.__doc__
    h = 1e-6
    for y, p, side in ((1.0, 1.0, +1), (-1.0, -1.0, -1)):
        loss = losses.Hinge()
        loss.forward(np.array([[y]]), np.array([[p]]))
        f = lambda q: losses.Hinge().forward(np.array([[y]]), np.array([[q]]))  # noqa: E731
        one_sided = (f(p + side * h) - f(p)) / (side * h)
        assert loss.backward()[0, 0] == pytest.approx(one_sided, abs=1e-6) == 0.0


def test_w_is_a_weight_and_W_a_width_in_what_a_learner_reads():
    """docs/backprop.md says `W` is always a width: the examples, the course and the tools agree."""
    files = ["examples/backprop_walkthrough.py", "examples/scalars_to_matrices.py", "tinynet/tools/gradient_stats.py",
             "tinynet/tools/gradcheck.py", "tinynet/tools/scalar.py"]
    files += [os.path.join("examples", "course", d, f) for d in ("", "answers", "exercises", "demos")
              for f in os.listdir(os.path.join(REPO, "examples", "course", d)) if f.endswith(".py")]
    for path in files:
        text = open(os.path.join(REPO, path), encoding="utf-8").read()
        assert not re.search(r"\b(d?W[12]|dW|dL/dW|ΔW)\b", text), path
