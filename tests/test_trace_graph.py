"""tinynet.trace on graphs: a residual Add and a shared layer; a fork's gradient is the sum of its uses."""
import os

import numpy as np
import pytest

import tinynet
from tinynet import gradcheck, layers
from tinynet.tools import trace_graph

X = np.random.default_rng(0).standard_normal((3, 4))
LABELS = np.array([0, 1, 2])


def residual_shared_model():
    """h = relu(x W1 + b1);  a = tanh(h Ws + bs);  b = tanh(a Ws + bs) (the same layer twice);  z = (h + b) Wo + bo."""
    tinynet.set_random_seed(0)
    inputs = tinynet.Input(shape=(4,), name="x")
    h = layers.Dense(5, activation="relu", name="d1")(inputs)
    shared = layers.Dense(5, activation="tanh", name="shared")
    b = shared(shared(h))
    s = layers.Add(name="add")([h, b])
    out = layers.Dense(3, activation="softmax", name="out")(s)
    model = tinynet.Model(inputs, out)
    model.compile("sgd", "sparse_categorical_crossentropy")
    return model


def loss_of(weights, h=None):
    """The model's loss written out in NumPy (float64); with ``h`` given, as a function of d1's output."""
    w1, b1, ws, bs, wo, bo = weights
    h = np.maximum(X @ w1 + b1, 0) if h is None else h
    b = np.tanh(np.tanh(h @ ws + bs) @ ws + bs)
    z = (h + b) @ wo + bo
    log_p = z - z.max(1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(1, keepdims=True))
    return -log_p[np.arange(3), LABELS].mean()


@pytest.fixture(scope="module")
def traced():
    model = residual_shared_model()
    weights = [w.astype(np.float64) for w in model.get_weights()]
    return tinynet.trace(model, X, LABELS, verbose=False), weights


def test_a_fork_receives_the_sum_of_its_uses(traced):
    trace, weights = traced
    d1 = trace.layer("d1")
    parts = dict(d1.dout_parts)
    assert set(parts) == {"shared", "add input 1"}
    # each part is what that use's own backward returned
    np.testing.assert_array_equal(parts["add input 1"], trace.layer("add").dx[0])
    np.testing.assert_array_equal(parts["shared"], trace.layer("shared").dx)
    np.testing.assert_allclose(parts["shared"] + parts["add input 1"], d1.dout, rtol=1e-12)
    # and the sum is dL/dh, by centred differences on the written-out loss
    w1, b1 = weights[:2]
    h = np.maximum(X @ w1 + b1, 0)
    numeric = gradcheck.numerical_gradient(lambda: loss_of(weights, h), h)
    assert gradcheck.relative_error(d1.dout, numeric) < 1e-7
    text = "\n".join(trace.lines)
    assert "dy is the sum over the 2 uses of this output (the fork rule):" in text
    assert "from add input 1" in text and "from shared " in text


def test_a_shared_layer_shows_each_call_and_its_weights_sum_them(traced):
    trace, weights = traced
    first, second = trace.layer("shared"), trace.layer("shared", call=1)
    assert second.label == "shared (call 2)" and second.sources == [trace.layers.index(first)]
    # each call's own dw is x^T @ dz of that call ...
    for call in (first, second):
        np.testing.assert_allclose(call.stage("dw").value, call.x.T @ call.stage("dz").value, rtol=1e-9)
    # ... and their sum is the gradient of the loss with respect to the one shared kernel
    ws = weights[2]
    numeric = gradcheck.numerical_gradient(lambda: loss_of(weights), ws)
    total = first.grads["shared/kernel"] + second.grads["shared/kernel"]
    assert gradcheck.relative_error(total, numeric) < 1e-7
    assert gradcheck.relative_error(first.grads["shared/kernel"], numeric) > 0.05      # one call alone is not it
    assert any("ran 2 times (shared weights)" in note for note in first.notes)
    assert trace.flags == []


def test_the_graph_of_a_functional_model_has_the_skip_connection_and_its_sum(traced, tmp_path):
    import matplotlib.pyplot as plt
    trace, _ = traced
    graph = trace_graph.from_trace(trace)
    forks = graph.forks()
    assert set(forks) == {"d1/act"}
    assert {e.dst for e in forks["d1/act"]} == {"shared/matmul", "add/op"}
    np.testing.assert_allclose(sum(e.grad for e in forks["d1/act"]), trace.layer("d1").dout, rtol=1e-12)
    assert {e.src for e in graph.into("add/op")} == {"d1/act", "shared (call 2)/act"}
    assert graph.op("add/op").label == "+"
    figure = trace.plot(tmp_path / "graph.png")
    texts = {t.get_text() for ax in figure.axes for t in ax.texts}
    assert "from d1" in texts and any(t.startswith("sum of 2 paths") for t in texts)
    plt.close(figure)


def test_an_op_on_tensors_in_a_subclassed_model_is_a_step():
    class Residual(tinynet.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(4, activation="tanh", name="hidden")
            self.head = layers.Dense(2, name="head")

        def call(self, x, training=None):
            h = self.hidden(x)
            return self.head(h + h * 0.5)

    tinynet.set_random_seed(1)
    model = Residual()
    model.compile("sgd", "mse")
    x = np.random.default_rng(2).standard_normal((3, 3))
    trace = tinynet.trace(model, x, np.zeros((3, 2)), verbose=False)
    hidden = trace.layer("hidden")
    assert len(hidden.dout_parts) == 2               # h feeds the multiply and the add
    np.testing.assert_allclose(sum(p for _, p in hidden.dout_parts), hidden.dout, rtol=1e-12)
    assert trace.flags == []


def test_the_graph_example_flags_its_planted_bug_and_draws_the_graph(tmp_path, capsys):
    import subprocess
    import sys
    from conftest import REPO
    out = subprocess.run([sys.executable, "examples/trace_a_graph.py", "--quick", "--plot", str(tmp_path / "g.png")],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "every recorded stage agrees with its equation" in out.stdout
    assert "dy is the sum over the 2 uses of this output" in out.stdout and (tmp_path / "g.png").stat().st_size > 20_000
    sys.path.insert(0, os.path.join(REPO, "examples"))
    from trace_a_graph import main
    trace = main(["--bug"])
    assert any(line.startswith("!! 1 stage(s) disagree with their equations: tanh_1 dx.") for line in trace.lines)
    graph = trace_graph.from_trace(trace)
    assert graph.flags == [("tanh_1/op", graph.flags[0][1])] and "'tanh_1': its dx" in graph.flags[0][1]
