"""Functional, nested and shared-layer models in files: tinynet's .npz, Keras 2's .h5 and Keras 3's .keras.

A round trip must give the same predictions, the same next training step (weights, optimizer state
and step count came back) and the same compile settings; a hostile graph is refused by name.
"""
import numpy as np
import pytest

import tinynet
from tinynet import layers as L
from tinynet.io import graph_config
from tinynet.io.errors import ModelFileError
from tinynet.io.loading import load_model

FORMATS = ["m.npz", "m.h5", "m.keras"]


def graph_model(compiled=True):
    """Two inputs, a residual Add, a Concatenate of two branches, a nested model, a Dense used twice."""
    inner_in = tinynet.Input((6,), name="inner_in")
    inner = tinynet.Model(inner_in, L.Dense(4, activation="tanh", name="inner_dense")(inner_in), name="inner")
    a, b = tinynet.Input((5,), name="a"), tinynet.Input((3,), name="b")
    h = L.Dense(6, activation="relu", name="h")(a)
    residual = L.Add(name="residual")([h, L.Dense(6, name="h2")(h)])
    shared = L.Dense(6, name="shared")
    left, right = shared(residual), shared(L.Dense(6, name="from_b")(b))
    merged = L.Concatenate(name="merged")([inner(left), L.Dense(3, activation="sigmoid", name="right_branch")(right)])
    out = L.Dense(2, name="out")(L.BatchNormalization(name="bn")(merged))
    model = tinynet.Model([a, b], out, name="graph")
    if compiled:
        model.compile(tinynet.optimizers.Adam(0.01), "mse", metrics=["mae"])
    return model


def data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    return ([rng.standard_normal((n, 5)).astype(np.float32), rng.standard_normal((n, 3)).astype(np.float32)],
            rng.standard_normal((n, 2)).astype(np.float32))


def test_layers_are_in_keras_order():
    """Keras 3.15 lists this model's layers so (its config.json, graph.keras): deepest first, ties by the walk."""
    assert [layer.name for layer in graph_model().layers] == [
        "a", "h", "h2", "b", "residual", "from_b", "shared", "inner", "right_branch", "merged", "bn", "out"]


@pytest.mark.parametrize("name", FORMATS)
def test_a_trained_graph_model_round_trips(tmp_path, name):
    pytest.importorskip("h5py") if name != "m.npz" else None
    model, (x, y) = graph_model(), data()
    model.fit(x, y, epochs=2, batch_size=4, verbose=0, shuffle=False)
    model.save(tmp_path / name)
    again = load_model(tmp_path / name)
    assert type(again).__name__ == "Functional" and again.name == "graph"
    assert [layer.name for layer in again.layers] == [layer.name for layer in model.layers]
    assert again.get_layer("shared") is again.get_layer("shared") and len(again.get_layer("shared").inbound_nodes) == 2
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    assert type(again.optimizer) is type(model.optimizer) and again.optimizer.iterations == model.optimizer.iterations
    assert type(again.loss) is type(model.loss)
    model.train_on_batch(x, y)
    again.train_on_batch(x, y)
    for w, v in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_allclose(v, w, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", FORMATS)
def test_nested_sequential_and_shared_layer_round_trip(tmp_path, name):
    pytest.importorskip("h5py") if name != "m.npz" else None
    inner = tinynet.Sequential([L.Dense(4, activation="relu", input_shape=(3,)), L.Dense(2)], name="inner_seq")
    x_in = tinynet.Input((3,), name="x")
    twice = L.Add(name="both")([inner(x_in), inner(L.Dense(3, name="pre")(x_in))])  # the nested model shared
    model = tinynet.Model(x_in, L.Softmax(name="soft")(twice), name="wrapped")
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    model.save(tmp_path / name)
    again = load_model(tmp_path / name)
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    assert type(again.get_layer("inner_seq")).__name__ == "Sequential"


def test_a_sequential_holding_a_model_round_trips_in_npz(tmp_path):
    inner = tinynet.Sequential([L.Dense(4, activation="relu", input_shape=(3,)), L.Dense(2)], name="inner")
    outer = tinynet.Sequential([inner, L.Softmax()], name="outer")
    x = np.random.default_rng(2).standard_normal((5, 3)).astype(np.float32)
    outer.save(tmp_path / "m.npz")
    np.testing.assert_array_equal(load_model(tmp_path / "m.npz").predict(x, verbose=0), outer.predict(x, verbose=0))
