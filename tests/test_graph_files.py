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


# ----------------------------------------------------------------- files real Keras wrote

KERAS_3_15 = __import__("pathlib").Path(__file__).parent / "fixtures" / "keras-3.15"


@pytest.mark.parametrize("name", ["graph.keras", "graph.h5"])
def test_keras_3_15_functional_model_loads_predicts_and_trains_as_keras(name):
    """graph.*: make_graphs.py's model (two inputs, residual Add, Concatenate, nested model, shared Dense),
    trained by Keras; graph.npz has Keras's predictions, loss and weights after one more step."""
    pytest.importorskip("h5py")
    expected = np.load(KERAS_3_15 / "graph.npz")
    model = load_model(KERAS_3_15 / name)
    x = [expected["x0"], expected["x1"]]
    assert [layer.name for layer in model.layers] == [layer.name for layer in graph_model().layers]
    assert len(model.get_layer("shared").inbound_nodes) == 2 and type(model.get_layer("inner")).__name__ == "Functional"
    np.testing.assert_allclose(model.predict(x, verbose=0), expected["y"], rtol=1e-5, atol=1e-6)
    assert model.evaluate(x, expected["target"], verbose=0) == pytest.approx(float(expected["loss"]), rel=1e-5)
    assert model.optimizer.iterations == 8 and model.optimizer.learning_rate == pytest.approx(0.01)
    model.train_on_batch(x, expected["target"])
    after = [expected[f"after_{i}"] for i in range(len(model.get_weights()))]
    for w, k in zip(model.get_weights(), after):
        np.testing.assert_allclose(w, k, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["merges.keras", "merges.h5"])
def test_keras_3_15_merge_reshaping_and_preprocessing_layers_predict_as_keras(name):
    pytest.importorskip("h5py")
    expected = np.load(KERAS_3_15 / "merges.npz")
    model = load_model(KERAS_3_15 / name)
    np.testing.assert_allclose(model.predict(expected["x"], verbose=0), expected["y"], rtol=1e-5, atol=1e-5)


def test_random_augmentation_in_a_functional_model_is_off_in_predict_and_on_when_called_directly():
    """Keras 3: a random layer in a graph follows the model's flag (predict: identity); called alone it augments."""
    x = np.random.default_rng(0).standard_normal((8, 4, 4, 3)).astype(np.float32)
    inputs = tinynet.Input((4, 4, 3))
    model = tinynet.Model(inputs, L.RandomFlip(seed=1)(inputs))
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    flipped = np.asarray(L.RandomFlip("horizontal", seed=1)(x))
    assert not np.array_equal(flipped, x)
    assert all(np.array_equal(f, image) or np.array_equal(f, image[:, ::-1]) for f, image in zip(flipped, x))


class Residual(tinynet.Model):
    def __init__(self):
        super().__init__(name="residual_mlp")
        self.d1, self.d2, self.out = L.Dense(6, activation="relu"), L.Dense(6), L.Dense(2)

    def call(self, x, training=None):
        h = self.d1(x)
        return self.out(h + self.d2(h))


@pytest.mark.parametrize("name", ["w.npz", "w.weights.h5", "w.h5"])
def test_a_subclassed_models_weights_round_trip(tmp_path, name):
    if name != "w.npz":
        pytest.importorskip("h5py")
    x = np.random.default_rng(3).standard_normal((4, 5)).astype(np.float32)
    tinynet.set_random_seed(1)
    model = Residual()
    model.predict(x, verbose=0)
    model.save_weights(tmp_path / name)
    tinynet.set_random_seed(2)
    fresh = Residual()
    fresh.predict(x, verbose=0)
    assert not np.array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))
    fresh.load_weights(tmp_path / name)
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("name", FORMATS)
def test_saving_a_subclassed_model_whole_is_refused_saying_what_to_do(tmp_path, name):
    if name != "m.npz":
        pytest.importorskip("h5py")
    model = Residual()
    model.predict(np.ones((1, 5), np.float32), verbose=0)
    with pytest.raises((NotImplementedError, ValueError), match=r"subclassed model \(Residual\).*save_weights"):
        model.save(tmp_path / name)
    assert not list(tmp_path.iterdir())


# ----------------------------------------------------------------- hostile graphs

def chain_config(n, layer="ReLU"):
    """tinynet's graph of Input -> n layers in a chain (the form npz_model.model_config writes)."""
    layers = [{"class_name": "InputLayer", "name": "x", "config": {"name": "x", "input_shape": [3]},
               "inbound_nodes": []}]
    for i in range(n):
        layers.append({"class_name": layer, "name": f"l{i}", "config": {"name": f"l{i}"},
                       "inbound_nodes": [[[layers[-1]["name"], 0, 0, {}]]]})
    return {"class_name": "Functional", "name": "chain", "input_shape": None, "layers": layers,
            "input_layers": [["x", 0, 0]], "output_layers": [[layers[-1]["name"], 0, 0]]}


def build(config):
    from tinynet.io.loading import model_from_config
    return model_from_config(config)


def test_a_graph_read_back_computes_what_it_says():
    model = build(chain_config(2))
    x = np.array([[-1.0, 0.5, 2.0]], np.float32)
    np.testing.assert_array_equal(model.predict(x, verbose=0), np.maximum(x, 0))


@pytest.mark.parametrize("change, message", [
    (lambda c: c["layers"][1]["inbound_nodes"][0][0].__setitem__(0, "l1"), r"form a cycle .* l0, l1"),
    (lambda c: c["layers"][2]["inbound_nodes"][0][0].__setitem__(0, "nope"), r"reads layer 'nope', which model"),
    (lambda c: c["layers"][2]["inbound_nodes"][0][0].__setitem__(1, 3), r"reads call 3 of layer 'l0', which has 1"),
    (lambda c: c["layers"][2]["inbound_nodes"][0][0].__setitem__(2, 1), r"reads output 1 of layer 'l0', which has 1"),
    (lambda c: c["layers"][2]["inbound_nodes"][0].__setitem__(0, ["l0", 0]), r"should be \[layer name, node index"),
    (lambda c: c["layers"][2].__setitem__("name", "l0"), r"two layers named 'l0'"),
    (lambda c: c["layers"][2].__setitem__("inbound_nodes", []), r"'l1' .* is never called"),
    (lambda c: c.__setitem__("output_layers", [["l9", 0, 0]]), r"output_layers\[0\] reads layer 'l9'"),
    (lambda c: c["layers"][2]["inbound_nodes"][0][0].__setitem__(3, {"mask": [1]}), r"training=True/False only"),
    (lambda c: c["layers"][2].__setitem__("class_name", "Lambda"), r"Lambda layer, which holds Python code"),
    (lambda c: c["layers"][2].update(name=None, config="x"), r"layer 2 of model 'chain' has no name"),
    (lambda c: c["layers"][2].__setitem__("inbound_nodes", None), r"'inbound_nodes' should be a list"),
])
def test_a_hostile_graph_is_refused_naming_what_is_wrong(change, message):
    config = chain_config(3)
    change(config)
    with pytest.raises(ModelFileError, match=message):
        build(config)


def test_a_million_calls_are_refused_before_anything_is_built():
    config = chain_config(1)
    config["layers"][1]["inbound_nodes"] = [[["x", 0, 0, {}]]] * 10 ** 6  # one list, a million times: cheap
    import time
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match="more than 50,000 layer calls"):
        build(config)
    assert time.perf_counter() - start < 0.5


def test_models_nested_too_deep_are_refused():
    config = chain_config(1)
    for _ in range(20):
        config = {**chain_config(0), "layers": [chain_config(0)["layers"][0],
                                                {"class_name": "Functional", "name": "m", "config": config,
                                                 "inbound_nodes": [[["x", 0, 0, {}]]]}],
                  "output_layers": [["m", 0, 0]]}
    with pytest.raises(ModelFileError, match="nested more than 16 deep"):
        build(config)


def test_a_chain_deeper_than_pythons_recursion_limit_builds_runs_and_saves(tmp_path):
    import sys
    n = sys.getrecursionlimit() + 100
    model = build(chain_config(n))
    assert len(model.layers) == n + 1
    x = np.array([[-1.0, 0.5, 2.0]], np.float32)
    np.testing.assert_array_equal(model.predict(x, verbose=0), np.maximum(x, 0))
    model.save(tmp_path / "deep.npz")
    assert len(load_model(tmp_path / "deep.npz").layers) == n + 1


def test_a_keras_3_call_on_something_else_than_tensors_is_refused():
    from tinynet.io.errors import KerasFileError
    from tinynet.keras.keras_graph import graph_from_config
    config = {"module": "keras.src.models.functional", "class_name": "Functional", "registered_name": "Functional",
              "config": {"name": "m", "layers": [
                  {"module": "keras.layers", "class_name": "InputLayer", "name": "x",
                   "config": {"batch_shape": [None, 3], "name": "x"}, "inbound_nodes": []},
                  {"module": "keras.layers", "class_name": "ReLU", "name": "r", "config": {"name": "r"},
                   "inbound_nodes": [{"args": [{"class_name": "__lambda__", "config": {"code": "..."}}],
                                      "kwargs": {}}]}],
                  "input_layers": ["x", 0, 0], "output_layers": ["r", 0, 0]}}
    with pytest.raises(KerasFileError, match="is on .*__lambda__.*not a Keras tensor"):
        graph_from_config(config, "m.keras")


def test_to_json_of_a_functional_model_rebuilds_the_graph():
    from tinynet.io.loading import model_from_json
    model = graph_model(compiled=False)
    again = model_from_json(model.to_json())
    assert type(again).__name__ == "Functional" and [la.name for la in again.layers] == [la.name for la in model.layers]
    again.set_weights(model.get_weights())
    x, _ = data()
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


def two_outputs():
    i = tinynet.Input((3,), name="i")
    model = tinynet.Model(i, [L.Dense(2, activation="softmax", name="o1")(i), L.Dense(1, name="o2")(i)])
    model.compile("adam", loss=["categorical_crossentropy", "mae"], loss_weights=[1.0, 0.5],
                  metrics=[["accuracy"], ["mse"]])
    rng = np.random.default_rng(4)
    x = rng.standard_normal((8, 3)).astype(np.float32)
    y = [np.eye(2, dtype=np.float32)[rng.integers(0, 2, 8)], rng.standard_normal((8, 1)).astype(np.float32)]
    model.fit(x, y, epochs=1, batch_size=4, verbose=0, shuffle=False)
    return model, x, y


def test_per_output_losses_weights_and_metrics_round_trip_in_npz(tmp_path):
    model, x, y = two_outputs()
    model.save(tmp_path / "m.npz")
    again = load_model(tmp_path / "m.npz")
    assert [type(loss) for loss in again.output_losses] == [type(loss) for loss in model.output_losses]
    assert again.loss_weights == [1.0, 0.5] and again.paired == model.paired
    assert [m.name for m in again.metrics] == [m.name for m in model.metrics] == ["o1_accuracy", "o2_mse"]
    assert again.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    model.train_on_batch(x, y)
    again.train_on_batch(x, y)
    for w, v in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(v, w)


@pytest.mark.parametrize("name", ["m.h5", "m.keras"])
def test_per_output_losses_are_named_when_a_keras_file_cannot_hold_them(tmp_path, name):
    pytest.importorskip("h5py")
    from tinynet.io.errors import KerasFileWarning
    model, x, _ = two_outputs()
    with pytest.warns(KerasFileWarning, match="2 output losses cannot be held by a Keras file"):
        model.save(tmp_path / name)
    again = load_model(tmp_path / name)
    assert again.optimizer is None
    np.testing.assert_array_equal(again.predict(x, verbose=0)[1], model.predict(x, verbose=0)[1])


@pytest.mark.parametrize("name", ["w.weights.h5", "w.h5", "w.npz"])
def test_a_functional_models_weights_load_into_the_same_graph(tmp_path, name):
    if name != "w.npz":
        pytest.importorskip("h5py")
    model, (x, _) = graph_model(), data()
    random = np.random.default_rng(5)
    model.set_weights([random.uniform(0.5, 1.5, w.shape).astype(np.float32) for w in model.get_weights()])
    model.save_weights(tmp_path / name)
    fresh = graph_model()
    fresh.load_weights(tmp_path / name)
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))


def test_keras_2_0_spelling_reads():
    """Keras 2.0-2.3 called a functional model 'Model', wrote [layer, node, tensor] without kwargs, and
    listed even a single output."""
    from tinynet.keras.keras_graph import graph_from_config
    from tinynet.io.loading import build_functional
    config = {"class_name": "Model", "keras_version": "2.2.4", "config": {"name": "old", "layers": [
        {"class_name": "InputLayer", "name": "x", "config": {"batch_input_shape": [None, 3], "dtype": "float32",
                                                            "sparse": False, "name": "x"}, "inbound_nodes": []},
        {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 3, "activation": "relu"},
         "inbound_nodes": [[["x", 0, 0]]]},
        {"class_name": "Add", "name": "a", "config": {"name": "a"}, "inbound_nodes": [[["x", 0, 0], ["d", 0, 0]]]}],
        "input_layers": [["x", 0, 0]], "output_layers": [["a", 0, 0]]}}
    model = build_functional(graph_from_config(config, "old.h5"), "old.h5", max_values=100)
    kernel, bias = np.eye(3, dtype=np.float32) * 2, np.array([0.0, -1.0, 0.0], np.float32)
    model.set_weights([kernel, bias])
    x = np.array([[1.0, 0.25, -2.0]], np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), x + np.maximum(x @ kernel + bias, 0))  # one array


def test_to_json_of_a_sequential_holding_a_model_rebuilds_it():
    from tinynet.io.loading import model_from_json
    inner = tinynet.Sequential([L.Dense(4, activation="relu", input_shape=(3,)), L.Dense(2)], name="inner")
    outer = tinynet.Sequential([inner, L.Softmax()], name="outer")
    again = model_from_json(outer.to_json())
    assert [type(layer).__name__ for layer in again.layers] == ["Sequential", "Softmax"]
    again.set_weights(outer.get_weights())
    x = np.random.default_rng(6).standard_normal((2, 3)).astype(np.float32)
    np.testing.assert_array_equal(again.predict(x, verbose=0), outer.predict(x, verbose=0))
