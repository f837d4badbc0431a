"""The functional API and the one backward walk: forks sum their gradients, shared layers sum over their uses,
and a graph model's gradients equal the ones written out by hand in NumPy."""
import numpy as np
import pytest

import tinynet
from tinynet import Input, Model, Sequential, layers
from tinynet.tools.gradcheck import as_float64, numerical_gradient, relative_error

RNG = np.random.default_rng(0)


def softmax_ce_grad(z, y):
    """(loss, dL/dz) of the mean cross-entropy of softmax(z) against one-hot y."""
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    return -np.mean(np.log((p * y).sum(1))), (p - y) / len(z)


def float64_model(model):
    as_float64(model.layers)
    return model


def test_a_residual_mlp_has_the_gradients_written_by_hand():
    """x -> h = relu(x W1 + b1) -> r = h + (h W2 + b2) -> z = r W3 + b3 -> softmax CE. h feeds two places:
    its gradient is the sum of what comes back along the skip (dr) and through Dense 2 (dr W2.T)."""
    inputs = Input(shape=(4,))
    h = layers.Dense(5, activation="relu")(inputs)
    r = layers.add([h, layers.Dense(5)(h)])
    outputs = layers.Dense(3, activation="softmax")(r)
    model = float64_model(Model(inputs, outputs))
    model.compile("sgd", "categorical_crossentropy")
    x = RNG.normal(size=(6, 4))
    y = np.eye(3)[RNG.integers(0, 3, 6)]
    loss, dx = model.compute_gradients(x, y, input_gradient=True)

    W1, b1, W2, b2, W3, b3 = [p.data for p in model.weights]
    a = x @ W1 + b1
    h = np.maximum(a, 0)
    r = h + (h @ W2 + b2)
    z = r @ W3 + b3
    want_loss, dz = softmax_ce_grad(z, y)
    dW3, db3, dr = r.T @ dz, dz.sum(0), dz @ W3.T
    dW2, db2 = h.T @ dr, dr.sum(0)
    dh = dr + dr @ W2.T                          # the fork: the skip's gradient plus Dense 2's
    da = dh * (a > 0)
    dW1, db1, want_dx = x.T @ da, da.sum(0), da @ W1.T
    assert loss == pytest.approx(want_loss, rel=1e-12)
    for parameter, want in zip(model.weights, [dW1, db1, dW2, db2, dW3, db3]):
        np.testing.assert_allclose(parameter.grad, want, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(dx, want_dx, rtol=1e-10, atol=1e-14)


def test_a_two_input_model_has_the_gradients_written_by_hand():
    a_in, b_in = Input(shape=(3,), name="a"), Input(shape=(2,), name="b")
    merged = layers.concatenate([layers.Dense(4, activation="tanh")(a_in), b_in])
    out = layers.Dense(1)(merged)
    model = float64_model(Model([a_in, b_in], out))
    model.compile("sgd", "mse")
    a, b, y = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 2)), RNG.normal(size=(5, 1))
    with tinynet.GradientTape() as tape:
        loss = tinynet.losses.MeanSquaredError()(y, model({"a": a, "b": b}))
    grads = tape.gradient(loss, model.trainable_variables)
    W1, b1, W2, b2 = [p.data for p in model.trainable_variables]
    t = np.tanh(a @ W1 + b1)
    m = np.concatenate([t, b], axis=1)
    out = m @ W2 + b2
    dout = 2 * (out - y) / out.size
    dm = dout @ W2.T
    dt = dm[:, :4] * (1 - t * t)                  # the concatenation's gradient: each input its own slice
    for got, want in zip(grads, [a.T @ dt, dt.sum(0), m.T @ dout, dout.sum(0)]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)
    assert float(loss) == pytest.approx(np.mean((out - y) ** 2), rel=1e-12)


def test_a_shared_layers_gradient_is_the_sum_over_its_uses():
    dense = layers.Dense(4)
    inputs = Input(shape=(4,))
    model = float64_model(Model(inputs, dense(layers.Activation("tanh")(dense(inputs)))))
    model.compile("sgd", "mse")
    x, y = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))
    model.compute_gradients(x, y)
    W, b = dense.kernel.data, dense.bias.data
    first = x @ W + b
    h = np.tanh(first)
    out = h @ W + b
    dout = 2 * (out - y) / out.size
    dfirst = (dout @ W.T) * (1 - h * h)
    np.testing.assert_allclose(dense.kernel.grad, h.T @ dout + x.T @ dfirst, rtol=1e-10)   # use 2 + use 1
    np.testing.assert_allclose(dense.bias.grad, dout.sum(0) + dfirst.sum(0), rtol=1e-10)
    assert len(model.weights) == 2   # one set of weights


def test_a_layer_of_an_inner_model_also_at_the_top_level_gets_both_uses():
    shared = layers.Dense(3, activation="tanh", name="shared")
    inner = Sequential([shared], name="inner")
    outer = Sequential([layers.InputLayer(input_shape=(3,)), inner, shared, layers.Dense(1)])
    float64_model(outer)
    outer.compile("sgd", "mse")
    x, y = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 1))

    def loss(w):
        return outer.compute_loss(y, outer(x)).value

    outer.compute_gradients(x, y)
    numeric = numerical_gradient(lambda: float(loss(None)), shared.kernel.data)
    assert relative_error(shared.kernel.grad, numeric) < 1e-7


def test_merge_layers_gradients_against_centred_differences():
    shapes = [(3, 4), (3, 4), (3, 4)]
    for layer, n in [(layers.Add(), 3), (layers.Subtract(), 2), (layers.Multiply(), 3), (layers.Average(), 3),
                     (layers.Maximum(), 3), (layers.Minimum(), 3), (layers.Concatenate(), 3),
                     (layers.Dot(axes=1), 2), (layers.Dot(axes=-1, normalize=True), 2)]:
        xs = [RNG.normal(size=s) for s in shapes[:n]]
        upstream = RNG.normal(size=np.shape(layer.forward(xs)))
        layer.forward(xs)
        analytic = layer.backward(upstream)
        for i, x in enumerate(xs):
            numeric = numerical_gradient(lambda: float((layer.forward(xs) * upstream).sum()), x)
            assert relative_error(analytic[i], numeric) < 1e-7, (type(layer).__name__, i)


def test_merge_layers_refuse_mismatched_shapes_naming_both():
    a, b = Input(shape=(4,)), Input(shape=(5,))
    with pytest.raises(ValueError, match=r"add.*\(None, 4\) and \(None, 5\)"):
        layers.Add(name="add_mismatch")([a, b])
    with pytest.raises(ValueError, match=r"Concatenate.*axis=1; received \(None, 4, 2\) and \(None, 5, 3\)"):
        layers.Concatenate(axis=1)([Input(shape=(4, 2)), Input(shape=(5, 3))])


def test_bad_graphs_get_clear_errors():
    a, b = Input(shape=(3,), name="used"), Input(shape=(3,), name="unused")
    out = layers.Dense(2)(a)
    with pytest.raises(ValueError, match=r"\['unused'\] are not connected to the outputs"):
        Model([a, b], out)
    other = Input(shape=(3,), name="elsewhere")
    mixed = layers.add([out, layers.Dense(2)(other)])
    with pytest.raises(ValueError, match="depends on 'elsewhere'.*not one of the model's inputs"):
        Model(a, mixed)

    class NotATensor(layers.Layer):
        def call(self, x):
            return np.asarray(x) * 2      # a NumPy array: no gradient could flow back

    with pytest.raises(TypeError, match="returned a NumPy value.*not a tensor"):
        NotATensor()(Input(shape=(3,)))


def test_a_custom_layers_output_shape_is_found_where_it_is_made():
    class Halve(layers.Layer):
        def call(self, x):
            return x[:, : x.shape[1] // 2]

    h = Halve()(Input(shape=(6,)))
    assert h.shape == (None, 3)
    with pytest.raises(ValueError, match=r"\(None, 3\) and \(None, 6\)"):
        layers.add([h, Input(shape=(6,))])


def test_feature_extraction_from_a_sequential_and_a_model_called_on_a_model():
    model = Sequential([layers.Dense(4, activation="relu", input_shape=(3,), name="features"), layers.Dense(2)])
    extractor = Model(model.input, model.get_layer("features").output)
    x = RNG.normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_allclose(extractor.predict(x), np.maximum(x @ model.layers[0].kernel.data
                                                                + model.layers[0].bias.data, 0), rtol=1e-6)
    inputs = Input(shape=(3,))
    stacked = Model(inputs, layers.Dense(1)(model(inputs)))           # a model used as a layer in a graph
    assert stacked.predict(x).shape == (5, 1)
    assert model.layers[0] in [w for w in stacked.layers] or model in stacked.layers


def test_functional_model_trains_with_several_outputs_and_keras_history_keys():
    inputs = Input(shape=(4,), name="x")
    h = layers.Dense(8, activation="relu")(inputs)
    label = layers.Dense(3, activation="softmax", name="label")(h)
    value = layers.Dense(1, name="value")(h)
    model = Model(inputs, [label, value])
    model.compile("adam", loss={"label": "sparse_categorical_crossentropy", "value": "mse"},
                  loss_weights={"label": 1.0, "value": 0.5}, metrics={"label": ["accuracy"]})
    x = RNG.normal(size=(32, 4)).astype(np.float32)
    y_label, y_value = RNG.integers(0, 3, 32), RNG.normal(size=(32, 1))
    history = model.fit(x, {"label": y_label, "value": y_value}, epochs=2, batch_size=8, verbose=0,
                        validation_split=0.25)
    assert set(history.history) == {"loss", "label_loss", "value_loss", "label_accuracy", "val_loss",
                                    "val_label_loss", "val_value_loss", "val_label_accuracy"}
    logs = model.evaluate(x, [y_label, y_value], verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(logs["label_loss"] + 0.5 * logs["value_loss"], rel=1e-5)
    label_out, value_out = model.predict(x)
    assert label_out.shape == (32, 3) and value_out.shape == (32, 1)


def test_a_functional_residual_model_learns():
    tinynet.set_random_seed(1)
    inputs = Input(shape=(2,))
    h = layers.Dense(16, activation="relu")(inputs)
    h = layers.add([h, layers.Dense(16, activation="relu")(h)])
    model = Model(inputs, layers.Dense(2, activation="softmax")(h))
    model.compile(tinynet.optimizers.Adam(0.05), "sparse_categorical_crossentropy", metrics=["accuracy"])
    x = RNG.normal(size=(200, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(int)         # XOR of the signs: not linearly separable
    model.fit(x, y, epochs=60, batch_size=32, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] > 0.95


def test_arithmetic_between_layers_in_a_graph_is_a_node_and_its_gradients_check():
    inputs = Input(shape=(4,))
    h = layers.Dense(6, activation="tanh")(inputs)
    outputs = layers.Dense(2)(h + layers.Dense(6)(h) * 0.5 - 1.0)
    model = float64_model(Model(inputs, outputs))
    model.compile("sgd", "mse")
    x, y = RNG.normal(size=(5, 4)), RNG.normal(size=(5, 2))
    from tinynet.tools.gradcheck import check_model
    result = check_model(model, x, y, verbose=False)
    assert result.passed, result.table()
    W1, b1, W2, b2, W3, b3 = [p.data for p in model.trainable_weights]
    h = np.tanh(x @ W1 + b1)
    np.testing.assert_allclose(model.predict(x), (h + (h @ W2 + b2) * 0.5 - 1.0) @ W3 + b3, rtol=1e-5)


def test_a_subclass_that_forgets_super_init_is_told_so():
    class Forgetful(Model):
        def __init__(self):
            self.dense = layers.Dense(2)
            super().__init__()

    with pytest.raises(RuntimeError, match=r"forgot to call `super\(\).__init__\(\)` in Forgetful.__init__"):
        Forgetful()
