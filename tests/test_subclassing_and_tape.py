"""Subclassed models and layers, GradientTape loops, add_loss, and freezing: all on the one tape and walk."""
import numpy as np
import pytest

import tinynet
from tinynet import GradientTape, Input, Model, Sequential, layers, losses, optimizers
from tinynet.tools.gradcheck import as_float64, numerical_gradient, relative_error

RNG = np.random.default_rng(0)


class Residual(Model):
    """TensorFlow's advanced-quickstart shape, with arithmetic on the values inside call."""

    def __init__(self):
        super().__init__()
        self.d1 = layers.Dense(6, activation="relu")
        self.d2 = layers.Dense(6)
        self.out = layers.Dense(3)

    def call(self, x, training=None):
        h = self.d1(x)
        return self.out(h + self.d2(h) * 0.5)


def test_a_subclassed_model_tracks_its_layers_and_has_the_gradients_written_by_hand():
    model = Residual()
    x, y = RNG.normal(size=(5, 4)), RNG.integers(0, 3, 5)
    model(x[:1])
    assert [layer.name for layer in model.layers] == [model.d1.name, model.d2.name, model.out.name]
    assert len(model.trainable_variables) == 6
    as_float64(model.layers)
    with GradientTape() as tape:
        loss = losses.SparseCategoricalCrossentropy(from_logits=True)(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    W1, b1, W2, b2, W3, b3 = [v.data for v in model.trainable_variables]
    a = x @ W1 + b1
    h = np.maximum(a, 0)
    r = h + 0.5 * (h @ W2 + b2)
    z = r @ W3 + b3
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    dz = (p - np.eye(3)[y]) / len(x)
    dr = dz @ W3.T
    dh = dr + 0.5 * dr @ W2.T          # h feeds the sum directly and through d2: both come back
    da = dh * (a > 0)
    for got, want in zip(grads, [x.T @ da, da.sum(0), h.T @ (0.5 * dr), 0.5 * dr.sum(0), r.T @ dz, dz.sum(0)]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)


def test_a_gradient_tape_loop_and_fit_give_bit_identical_weights():
    def build():
        tinynet.set_random_seed(3)
        model = Sequential([layers.Dense(8, activation="relu", input_shape=(4,)), layers.Dropout(0.25),
                            layers.Dense(3, activation="softmax")])
        model.compile(optimizers.Adam(0.01), "sparse_categorical_crossentropy")
        return model

    x, y = RNG.normal(size=(24, 4)).astype(np.float32), RNG.integers(0, 3, 24)
    fitted = build()
    fitted.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)

    looped = build()
    loss_fn, optimizer = losses.SparseCategoricalCrossentropy(), looped.optimizer
    for _ in range(2):
        for start in range(0, 24, 8):
            with GradientTape() as tape:
                predictions = looped(x[start:start + 8], training=True)
                loss = loss_fn(y[start:start + 8], predictions)
            grads = tape.gradient(loss, looped.trainable_variables)
            optimizer.apply_gradients(zip(grads, looped.trainable_variables))
    for a, b in zip(fitted.get_weights(), looped.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_keras_style_layer_with_add_weight_needs_no_backward():
    class Linear(layers.Layer):
        def __init__(self, units):
            super().__init__()
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
            self.b = self.add_weight(shape=self.units, initializer="zeros", trainable=True)

        def call(self, inputs):
            return tinynet.ops.matmul(inputs, self.w) + self.b

    layer = Linear(2)
    x = RNG.normal(size=(4, 3))
    layer(x)
    as_float64([layer])
    with GradientTape() as tape:
        loss = tinynet.ops.sum(tinynet.ops.square(layer(x)))
    dw, db = tape.gradient(loss, [layer.w, layer.b])
    y = x @ layer.w.data + layer.b.data
    np.testing.assert_allclose(dw, x.T @ (2 * y), rtol=1e-10)
    np.testing.assert_allclose(db, (2 * y).sum(0), rtol=1e-10)


def test_add_loss_in_call_is_minimised_with_the_compiled_loss():
    class Penalised(Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            y = self.dense(x)
            self.add_loss(0.1 * tinynet.ops.mean(tinynet.ops.square(y)))
            return y

    model = Penalised()
    x, y = RNG.normal(size=(6, 3)), RNG.normal(size=(6, 2))
    model(x[:1])
    as_float64(model.layers)
    model.compile("sgd", "mse")
    loss, _ = model.compute_gradients(x, y)
    W, b = model.dense.kernel.data, model.dense.bias.data
    out = x @ W + b
    assert loss == pytest.approx(np.mean((out - y) ** 2) + 0.1 * np.mean(out ** 2), rel=1e-12)
    dout = 2 * (out - y) / out.size + 0.1 * 2 * out / out.size
    np.testing.assert_allclose(model.dense.kernel.grad, x.T @ dout, rtol=1e-10)


@pytest.mark.parametrize("how", ["model", "inner", "layer"])
def test_a_frozen_batch_norm_runs_in_inference_mode_and_changes_nothing(how):
    inner = Sequential([layers.Dense(4, input_shape=(3,)), layers.BatchNormalization()], name="base")
    model = Sequential([inner, layers.Dense(2)])
    if how == "model":
        model.trainable = False
    elif how == "inner":
        inner.trainable = False
    else:
        inner.layers[1].trainable = False
    model.compile("sgd", "mse")
    bn = inner.layers[1]
    before = [w.copy() for w in bn.get_weights()]
    frozen = [w.copy() for w in (model.get_weights() if how == "model" else inner.get_weights())]
    model.fit(RNG.normal(size=(16, 3)) * 5 + 2, RNG.normal(size=(16, 2)), epochs=2, batch_size=4, verbose=0)
    for old, new in zip(before, bn.get_weights()):
        np.testing.assert_array_equal(old, new)           # gamma, beta and the moving statistics
    if how != "layer":
        now = model.get_weights() if how == "model" else inner.get_weights()
        for old, new in zip(frozen, now):
            np.testing.assert_array_equal(old, new)


def test_a_model_cannot_contain_itself_and_a_layer_appears_once_in_a_sequential():
    model = Sequential([layers.Dense(2, input_shape=(2,))])
    with pytest.raises(ValueError, match="cannot be added to itself"):
        model.add(model)
    outer = Sequential([model])
    with pytest.raises(ValueError, match="cannot be added to itself"):
        model.add(outer)
    inner = Sequential([layers.Dense(2, input_shape=(2,))])
    twice = Sequential([inner])
    with pytest.raises(ValueError, match="already in model"):
        twice.add(inner)


def test_popping_the_softmax_pairs_the_loss_with_the_new_output():
    model = Sequential([layers.Dense(3, input_shape=(2,)), layers.Softmax()])
    model.compile("sgd", "categorical_crossentropy")
    assert model.loss_takes_logits
    model.pop()
    assert not model.loss_takes_logits
    x, y = RNG.normal(size=(5, 2)).astype(np.float32), np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1]]
    p = np.clip(model.predict(x), 1e-7, 1 - 1e-7)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(-np.mean(np.sum(y * np.log(p), axis=1)), rel=1e-5)


def test_tensors_behave_as_arrays_where_users_pass_them():
    model = Sequential([layers.Dense(3, activation="softmax", input_shape=(2,))])
    out = model(np.ones((4, 2), dtype=np.float32))
    assert isinstance(out, tinynet.Tensor) and out.numpy().shape == (4, 3) and out.shape == (4, 3)
    assert np.argmax(out, axis=1).shape == (4,) and np.allclose(np.sum(out, axis=1), 1)
    assert np.asarray(out[0]).shape == (3,) and len(out) == 4
