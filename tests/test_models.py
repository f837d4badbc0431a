import io
import contextlib

import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinynet
from tinynet import Sequential, optimizers
from tinynet.layers import Dense, Dropout, Flatten, InputLayer
from tinynet.utils import to_categorical


def blobs(n=200, seed=0):
    """Two well-separated Gaussian blobs in 2-D: a toy problem any classifier solves."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    x = rng.standard_normal((n, 2)) * 0.5 + np.where(labels[:, None] == 1, 3.0, -3.0)
    return x.astype(np.float32), labels


def mlp(hidden=16, classes=2, dropout=0.0):
    layers = [Dense(hidden, activation="relu", input_shape=(2,))]
    if dropout:
        layers.append(Dropout(dropout))
    layers.append(Dense(classes, activation="softmax"))
    return Sequential(layers)


def quiet(fn, *args, **kwargs):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        result = fn(*args, **kwargs)
    return result, out.getvalue()


def test_toy_separable_problem_reaches_100_percent():
    x, y = blobs()
    model = mlp()
    model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert accuracy == 1.0 and loss < 0.05
    assert history.history["loss"][-1] < history.history["loss"][0] / 5


def test_history_keys_follow_the_users_spelling():
    x, y = blobs(60)
    for spelling in ("acc", "accuracy"):
        model = mlp()
        model.compile("adam", "categorical_crossentropy", metrics=[spelling, "mse"])
        history = model.fit(x, to_categorical(y), epochs=2, validation_split=0.25, verbose=0)
        assert set(history.history) == {"loss", spelling, "mse", f"val_loss", f"val_{spelling}", "val_mse"}
        assert all(len(values) == 2 for values in history.history.values())


def test_validation_split_takes_the_last_fraction_before_shuffling():
    x = np.arange(100, dtype=np.float32).reshape(50, 2)
    y = np.zeros(50, dtype=int)
    y[-10:] = 1  # the held-out tail is all class 1
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy", ["acc"])
    seen = []

    class Spy(tinynet.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append(self.params["steps"])

    model.fit(x, y, batch_size=8, epochs=1, validation_split=0.2, verbose=0, callbacks=[Spy()])
    assert seen == [5]  # 40 training samples in batches of 8
    # val_loss must equal the loss on exactly the last 10 samples, evaluated before... after training
    history = model.fit(x, y, batch_size=8, epochs=1, validation_split=0.2, verbose=0, shuffle=False)
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x[40:], y[40:], verbose=0)[0], rel=1e-6)


@given(n=st.integers(1, 300), split=st.floats(0.05, 0.95))
def test_validation_split_sizes_match_keras(n, split):
    split_at = int(n * (1.0 - split))
    x = np.zeros((n, 2), np.float32)
    y = np.zeros(n, int)
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    if split_at in (0, n):
        with pytest.raises(ValueError, match="validation_split"):
            model.fit(x, y, validation_split=split, verbose=0)
        return
    steps = []

    class Spy(tinynet.callbacks.Callback):
        def on_train_begin(self, logs=None):
            steps.append(self.params["steps"])

    model.fit(x, y, batch_size=7, validation_split=split, verbose=0, callbacks=[Spy()])
    assert steps == [-(-split_at // 7)]


def test_mnist_split_is_54000_6000():
    assert int(60000 * (1.0 - 0.1)) == 54000


def test_metrics_are_sample_weighted_running_means():
    """With a last partial batch, the epoch metric weights each batch by its size (as Keras does)."""
    x, y = blobs(10)
    model = mlp()
    model.compile(optimizers.SGD(1e-9), "sparse_categorical_crossentropy", ["acc"])  # weights barely move
    batch_losses = [model.test_on_batch(x[:8], y[:8])[0], model.test_on_batch(x[8:], y[8:])[0]]
    history = model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx((8 * batch_losses[0] + 2 * batch_losses[1]) / 10, rel=1e-5)


def test_reproducible_with_seed():
    def run():
        tinynet.set_random_seed(42)
        x, y = blobs(100)
        model = mlp(dropout=0.3)
        model.compile("adam", "sparse_categorical_crossentropy", ["acc"])
        history = model.fit(x, y, epochs=3, batch_size=10, validation_split=0.2, verbose=0)
        return model.get_weights(), history.history

    (w1, h1), (w2, h2) = run(), run()
    assert h1 == h2
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    tinynet.set_random_seed(43)
    assert not np.array_equal(mlp().layers[0].kernel.data, w1[0])


def test_evaluate_returns_float_without_metrics_and_list_with():
    x, y = blobs(20)
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    assert isinstance(model.evaluate(x, y, verbose=0), float)
    model.compile("sgd", "categorical_crossentropy", ["acc", "mse"])
    loss, acc, mse = model.evaluate(x, to_categorical(y), verbose=0)
    probabilities = model.predict(x)
    assert acc == pytest.approx(np.mean(probabilities.argmax(1) == y))
    assert mse == pytest.approx(np.mean((probabilities - to_categorical(y)) ** 2), rel=1e-5)


def test_predict_matches_manual_forward_and_batches():
    x, _ = blobs(70)
    model = mlp()
    w1, b1, w2, b2 = model.get_weights()
    hidden = np.maximum(x @ w1 + b1, 0)
    logits = hidden @ w2 + b2
    expected = np.exp(logits - logits.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(model.predict(x, batch_size=16), expected, rtol=1e-5, atol=1e-7)
    assert model.predict(x).dtype == np.float32
    np.testing.assert_array_equal(model.predict_on_batch(x), model.predict(x, batch_size=70))


def test_train_on_batch_takes_one_step():
    x, y = blobs(32)
    model = mlp()
    model.compile(optimizers.SGD(0.5), "sparse_categorical_crossentropy", ["acc"])
    before = model.test_on_batch(x, y)[0]
    loss, acc = model.train_on_batch(x, y)
    assert loss == pytest.approx(before, rel=1e-6)  # reported loss is from before the update
    assert model.test_on_batch(x, y)[0] < before


def test_nb_epoch_and_initial_epoch():
    x, y = blobs(20)
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    assert len(model.fit(x, y, nb_epoch=3, verbose=0).history["loss"]) == 3
    history, out = quiet(model.fit, x, y, epochs=5, initial_epoch=3, verbose=1)
    assert len(history.history["loss"]) == 2
    assert "Epoch 4/5" in out and "Epoch 5/5" in out and "Epoch 3/5" not in out
    with pytest.raises(TypeError, match="nb_epochs"):
        model.fit(x, y, nb_epochs=2)


def test_progress_output_formats():
    x, y = blobs(100)
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    _, out = quiet(model.fit, x, y, epochs=1, batch_size=32, validation_split=0.2, verbose=1)
    lines = out.strip().splitlines()
    assert lines[0] == "Epoch 1/1"
    assert lines[1].startswith("3/3 [==============================] - ")
    for key in ("step - loss: ", " - accuracy: ", " - val_loss: ", " - val_accuracy: "):
        assert key in lines[1]
    _, out = quiet(model.fit, x, y, epochs=2, batch_size=32, verbose=2)
    lines = out.strip().splitlines()
    assert len(lines) == 4 and lines[1].startswith("4/4 - ") and "loss: " in lines[1]
    _, out = quiet(model.fit, x, y, epochs=2, verbose=0)
    assert out == ""


def test_summary_matches_keras_for_the_cca_model():
    model = Sequential([Dense(512, activation="relu", input_shape=(784,)), Dense(512, activation="relu"),
                        Dense(10, activation="softmax")])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(None, 512)" in text and "401920" in text and "262656" in text and "5130" in text
    assert "Total params: 669,706" in text and "Trainable params: 669,706" in text
    assert "Non-trainable params: 0" in text
    assert model.count_params() == 669706


def test_summary_for_flatten_model_shows_shapes():
    model = Sequential([Flatten(input_shape=(28, 28)), Dense(128, activation="relu"), Dropout(0.2), Dense(10)])
    lines = []
    model.summary(print_fn=lines.append)
    rows = [line for line in lines if "(" in line and "None" in line]
    assert [row.split(")")[0].split("(")[1] for row in rows] == ["Flatten", "Dense", "Dropout", "Dense"]
    assert "(None, 784)" in rows[0] and rows[2].rstrip().endswith("0")
    assert "Total params: 101,770" in lines


def test_get_set_weights_round_trip_and_errors():
    a, b = mlp(), mlp()
    b.set_weights(a.get_weights())
    x, _ = blobs(5)
    np.testing.assert_array_equal(a.predict(x), b.predict(x))
    with pytest.raises(ValueError, match="4 weight arrays"):
        b.set_weights(a.get_weights()[:2])
    with pytest.raises(ValueError, match=r"kernel.*\(2, 16\).*\(3, 16\)"):
        b.set_weights([np.zeros((3, 16))] + a.get_weights()[1:])


def test_model_builds_from_data_without_input_shape():
    model = Sequential([Dense(4, activation="relu"), Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(np.zeros((6, 3)), np.zeros(6, int), verbose=0)
    assert model.input_shape == (None, 3) and model.count_params() == 3 * 4 + 4 + 4 * 2 + 2


def test_input_layer_declares_shape():
    model = Sequential([InputLayer(input_shape=(5,)), Dense(2)])
    assert model.built and len(model.layers) == 1 and model.input_shape == (None, 5)


def test_inputs_are_cast_to_float32_once():
    x, y = blobs(20)
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x.astype(np.float64), y, verbose=0)
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert model.predict(x.astype(np.float64)).dtype == np.float32


@given(batch=st.integers(1, 40), width=st.integers(1, 20), classes=st.integers(2, 6),
       encoding=st.sampled_from(["sparse", "sparse_column", "one_hot"]), n=st.integers(1, 50))
def test_random_shapes_and_label_encodings(batch, width, classes, encoding, n):
    rng = np.random.default_rng(batch * 1000 + width)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    labels = rng.integers(0, classes, n)
    y = {"sparse": labels, "sparse_column": labels[:, None], "one_hot": to_categorical(labels, classes)}[encoding]
    loss = "categorical_crossentropy" if encoding == "one_hot" else "sparse_categorical_crossentropy"
    model = Sequential([Dense(width, activation="relu", input_shape=(3,)), Dense(classes, activation="softmax")])
    model.compile("adam", loss, ["accuracy"])
    history = model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0]) and 0 <= history.history["accuracy"][0] <= 1
    assert model.predict(x, batch_size=batch).shape == (n, classes)


def test_binary_and_mse_models_train():
    x, y = blobs(100)
    model = Sequential([Dense(8, activation="tanh", input_shape=(2,)), Dense(1, activation="sigmoid")])
    model.compile(optimizers.SGD(0.5), "binary_crossentropy", ["accuracy"])
    history = model.fit(x, y.astype(np.float32), epochs=10, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
    regression = Sequential([Dense(1, input_shape=(2,))])
    regression.compile(optimizers.SGD(0.05), "mse", ["mse"])
    x = np.random.default_rng(1).standard_normal((100, 2)).astype(np.float32)
    target = x @ np.array([[2.0], [-1.0]], dtype=np.float32) + 0.5
    history = regression.fit(x, target, epochs=30, verbose=0)
    assert history.history["loss"][-1] < 1e-3
    np.testing.assert_allclose(regression.get_weights()[0].ravel(), [2.0, -1.0], atol=0.02)


def test_fit_before_compile_is_a_clear_error():
    with pytest.raises(RuntimeError, match="compile"):
        mlp().fit(*blobs(4), verbose=0)


def test_wrong_input_shape_names_layer_and_shapes():
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"dense.*\(None, 2\).*\(4, 3\)"):
        model.fit(np.zeros((4, 3)), np.zeros(4, int), verbose=0)


def test_label_encoding_mismatch_says_which_loss():
    x, y = blobs(10)
    model = mlp()
    model.compile("sgd", "categorical_crossentropy")
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        model.fit(x, y, verbose=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="one-hot"):
        model.fit(x, to_categorical(y), verbose=0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        model.fit(x, y + 5, verbose=0)


def test_training_skips_the_unused_input_gradient_of_the_first_layer():
    x, y = blobs(8)
    model = Sequential([Flatten(input_shape=(2,)), Dense(4, activation="relu"), Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.train_on_batch(x, y)
    flatten, first, second = model.layers
    assert not first.needs_input_gradient and second.needs_input_gradient
    assert model.compute_gradients(x, y)[1] is None
    loss, dx = model.compute_gradients(x, y, input_gradient=True)
    assert dx.shape == x.shape and np.abs(dx).sum() > 0


# ----- the public step API -------------------------------------------------------------
def test_public_step_api_matches_fit_and_evaluate():
    x, y = blobs(16)
    model = mlp()
    model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy", ["acc"])
    assert model.loss_takes_logits and model.loss.from_logits
    z = model.forward(x, logits=True)
    p = model.forward(x)
    np.testing.assert_allclose(p, np.exp(z) / np.exp(z).sum(1, keepdims=True), rtol=1e-5)
    assert model.compute_loss(y, z) == pytest.approx(model.evaluate(x, y, verbose=0)[0], rel=1e-6)
    seen = []
    model.forward(x, on_layer=lambda layer, x_in, out: seen.append((layer.name, x_in.shape, out.shape)))
    assert seen == [(model.layers[0].name, (16, 2), (16, 16)), (model.layers[1].name, (16, 16), (16, 2))]
    weights = model.get_weights()
    loss, dx = model.compute_gradients(x, y, input_gradient=True)
    assert dx.shape == x.shape and all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))
    grads = [p.grad.copy() for p in model.trainable_weights]
    step_loss, y_pred = model.train_step(x, y)
    assert step_loss == pytest.approx(loss) and y_pred.shape == (16, 2)
    for w0, g, w1 in zip(weights, grads, model.get_weights()):
        np.testing.assert_allclose(w1, w0 - 0.1 * g, rtol=1e-5, atol=1e-7)


def test_backward_calls_on_layer_in_reverse_order():
    x, y = blobs(4)
    model = Sequential([Dense(3, activation="relu", input_shape=(2,), name="a"), Dense(2, name="b"),
                        tinynet.layers.Softmax(name="s")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    z = model.forward(x, training=True, logits=True)
    assert z.shape == (4, 2) and not np.allclose(z.sum(1), 1)   # stopped before the Softmax layer: logits
    model.compute_loss(y, z)
    seen = []
    model.backward(model.loss.backward(), input_gradient=True,
                   on_layer=lambda layer, dout, dx: seen.append((layer.name, dout.shape, dx.shape)))
    assert seen == [("b", (4, 2), (4, 3)), ("a", (4, 3), (4, 2))]


# ----- a step is a transaction ---------------------------------------------------------
class ContractBatchNormalization(tinynet.layers.BatchNormalization):
    """BatchNormalization as the team contract (section 6) has it: in training, forward records the new
    moving statistics in ``state_updates`` and writes no Parameter. (The library's layer follows it once
    the ops branch lands; until then this subclass puts back what the old forward wrote.)"""

    def forward(self, x, training=False):
        before = self.moving_mean.data.copy(), self.moving_variance.data.copy()
        y = super().forward(x, training)
        new = self.moving_mean.data.copy(), self.moving_variance.data.copy()
        if not (np.array_equal(new[0], before[0]) and np.array_equal(new[1], before[1])):  # the old layer wrote them
            self.moving_mean.data[...], self.moving_variance.data[...] = before
            self.state_updates = [(self.moving_mean, new[0]), (self.moving_variance, new[1])]
        elif not (training and self.trainable):
            self.state_updates = []
        return y


def snapshot(model):
    """Every array of the model's state: weights, moving statistics, optimizer slots, and the step count."""
    slots = [a.copy() for p in model.trainable_weights for a in model.optimizer.state.get(p, {}).values()]
    return [p.data.copy() for p in model.weights], slots, model.optimizer.iterations


def assert_bit_identical(before, after):
    (weights0, slots0, steps0), (weights1, slots1, steps1) = before, after
    assert steps0 == steps1 and len(weights0) == len(weights1) and len(slots0) == len(slots1) > 0
    for a, b in zip(weights0 + slots0, weights1 + slots1):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("failure", ["non-finite loss", "moving variance overflows", "update overflows"])
def test_a_refused_step_leaves_weights_moving_statistics_and_optimizer_bit_identical(failure):
    x, y = blobs(32)
    bn = ContractBatchNormalization()
    model = Sequential([Dense(8, input_shape=(2,)), bn, Dense(2, activation="softmax")])
    model.compile(optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert not np.array_equal(bn.moving_mean.data, np.zeros(8))   # the committed steps did move them
    if failure == "non-finite loss":
        model.layers[0].kernel.data[...] = 3e38   # the first layer's outputs overflow: inf, then NaN
    elif failure == "moving variance overflows":
        model.layers[0].kernel.data *= 1e21       # outputs ~1e21: finite, but their variance is inf in float32
    else:
        model.optimizer.learning_rate = 1e300     # the update itself overflows float32
    before = snapshot(model)
    with pytest.raises(tinynet.TrainingDivergedError):
        model.train_on_batch(x, y)
    assert_bit_identical(before, snapshot(model))
    assert np.all(np.isfinite(bn.moving_mean.data)) and np.all(np.isfinite(bn.moving_variance.data))
    if failure == "update overflows":
        assert np.all(np.isfinite(model.predict(x)))


def test_a_committed_step_commits_the_moving_statistics():
    x, y = blobs(16)
    bn = ContractBatchNormalization()
    model = Sequential([Dense(4, input_shape=(2,)), bn, Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    h = x @ model.layers[0].kernel.data + model.layers[0].bias.data
    model.train_on_batch(x, y)
    np.testing.assert_allclose(bn.moving_mean.data, 0.01 * h.mean(0), rtol=1e-5, atol=1e-7)
    model.compute_gradients(x, y)                # gradients only: no moving statistic changes
    np.testing.assert_allclose(bn.moving_mean.data, 0.01 * h.mean(0), rtol=1e-5, atol=1e-7)


def test_the_librarys_batch_normalization_follows_the_contract_once_it_lands():
    bn = tinynet.layers.BatchNormalization()
    bn.build((3,))
    bn.forward(np.ones((4, 3), np.float32) * 5, training=True)
    if not hasattr(bn, "state_updates"):
        pytest.skip("BatchNormalization still writes its moving statistics in forward (ops branch not merged)")
    assert np.array_equal(bn.moving_mean.data, np.zeros(3)) and len(bn.state_updates) == 2


# ----- refused calls change nothing ------------------------------------------------------
def test_the_same_layer_twice_is_refused():
    d = Dense(3, input_shape=(3,))
    with pytest.raises(ValueError, match="Layer 'dense.*' is already in model"):
        Sequential([d, d, Dense(1)])
    model = Sequential([d])
    with pytest.raises(ValueError, match="already in model"):
        model.add(d)
    assert model.layers == [d]


@pytest.mark.parametrize("bad, error, message", [
    (np.zeros((3, 3)), ValueError, r"'dense_.*bias' has shape \(2,\), but the array given for it has shape \(3, 3\)"),
    (np.array(["a", "b"]), TypeError, "needs real numbers.*<U1"),
    (np.array([None, None]), TypeError, "needs real numbers.*object"),
    (np.array([1 + 2j, 0]), TypeError, "needs real numbers.*complex"),
    (np.array([np.nan, 0.0]), ValueError, "NaN, infinite or too large"),
    (np.array([np.inf, 0.0]), ValueError, "NaN, infinite or too large"),
    (np.array([1e300, 0.0]), ValueError, r"too large for float32 \(the first: 1e\+300\)"),
])
def test_set_weights_checks_everything_first_and_changes_nothing_on_failure(bad, error, message):
    model = Sequential([Dense(3, input_shape=(2,)), Dense(2)])
    before = model.get_weights()
    weights = [w + 1 for w in before]
    weights[-1] = bad                            # the last array is wrong: the first three must not be loaded
    with pytest.raises(error, match=message):
        model.set_weights(weights)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    model.set_weights(weights[:-1] + [np.ones(2)])
    assert np.array_equal(model.get_weights()[0], before[0] + 1)


@pytest.mark.parametrize("kwargs, message", [
    ({"initial_epoch": -3}, r"`initial_epoch`, expected an integer in \[0, 2\]. Received: initial_epoch=-3"),
    ({"initial_epoch": 1.5}, "initial_epoch=1.5"), ({"initial_epoch": "1"}, "initial_epoch='1'"),
    ({"initial_epoch": None}, "initial_epoch=None"), ({"initial_epoch": 3}, "initial_epoch=3"),
    ({"shuffle": "yes"}, "`shuffle`, expected True or False"),
    ({"verbose": 3}, r"`verbose`, expected 0, 1, 2 or 'auto'"), ({"verbose": "loud"}, "verbose='loud'"),
])
def test_fit_arguments_are_checked_before_any_work(kwargs, message):
    x, y = blobs(20)
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    before = model.get_weights()
    with pytest.raises(ValueError, match=message):
        model.fit(x, y, epochs=2, **{"verbose": 0, **kwargs})
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert model.optimizer.iterations == 0


def test_fit_with_initial_epoch_and_verbose_auto(capsys):
    x, y = blobs(20)
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=3, initial_epoch=1, verbose="auto", batch_size=10)
    assert history.epoch == [1, 2] and "Epoch 2/3" in capsys.readouterr().out
    assert model.fit(x, y, epochs=2, initial_epoch=2, verbose=0).epoch == []
    assert model.fit(x, y, nb_epoch=1, verbose=0).epoch == [0]     # Keras 1's spelling


@pytest.mark.parametrize("call, message", [
    (lambda m: m.predict(np.ones(5)), r"expects a batch of samples.*shape \(5,\). For one sample, pass x\[None\]"),
    (lambda m: m.predict(np.ones((5, 0))), r"samples are not empty. Received an array of shape \(5, 0\)"),
    (lambda m: m.build((4,)), r"expected the batch axis first, e.g. \(None, 784\).*input_shape=\(4,\)"),
    (lambda m: m.build(4), "input_shape=4"),
])
def test_a_failed_first_call_does_not_build_the_model(call, message):
    model = Sequential([Dense(2)])
    with pytest.raises(ValueError, match=message):
        call(model)
    assert not model.built and model.input_shape is None and not model.layers[0].weights
    assert model.predict(np.ones((5, 4))).shape == (5, 2)


def test_a_layer_that_fails_to_build_leaves_the_others_unbuilt():
    model = Sequential([Dense(4), tinynet.layers.Reshape((3,))])
    with pytest.raises(ValueError, match="cannot reshape"):
        model.predict(np.ones((2, 5)))
    assert not model.built and not model.layers[0].built and not model.layers[0].weights
    model.pop()
    model.add(tinynet.layers.Reshape((2, 2)))
    assert model.predict(np.ones((2, 5))).shape == (2, 2, 2)


@pytest.mark.parametrize("label, shown", [(np.array([1, 2 ** 64 - 1], np.uint64), "18446744073709551615"),
                                          (np.array([1.0, 1e20]), "100000000000000000000"),
                                          (np.array([-2 ** 63, 0], np.int64), "-9223372036854775808")])
def test_huge_labels_are_reported_as_themselves(label, shown):
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=f"has label {shown} \\(at index [01]\\).*must be in \\[0, 1\\]"):
        model.fit(np.zeros((2, 2), np.float32), label, verbose=0)


def test_compile_metrics_must_be_a_list():
    model = mlp()
    model.compile("sgd", "mse")
    with pytest.raises(TypeError, match=r"`metrics`, expected a list.*Received: metrics=5"):
        model.compile("adam", "sparse_categorical_crossentropy", metrics=5)
    assert model.loss.name == "mean_squared_error" and isinstance(model.optimizer, optimizers.SGD)


def test_every_hook_gets_a_logs_dict_in_keras_documented_order():
    """keras.io, "Writing your own callbacks": fit calls on_train_begin; per epoch on_epoch_begin, each training
    batch's on_train_batch_begin / _end, then validation as a test phase -- on_test_begin, each validation batch's
    on_test_batch_begin / _end, on_test_end with the un-prefixed logs -- then on_epoch_end with the val_ logs;
    on_train_end. predict calls on_predict_begin, each batch's on_predict_batch_begin / _end, on_predict_end."""
    calls = []

    class Strict(tinynet.callbacks.Callback):
        # Written as Keras's own examples write hooks: logs is a required argument.
        def on_train_begin(self, logs): calls.append(("train_begin", logs))
        def on_train_end(self, logs): calls.append(("train_end", logs))
        def on_epoch_begin(self, epoch, logs): calls.append(("epoch_begin", logs))
        def on_epoch_end(self, epoch, logs): calls.append(("epoch_end", dict(logs)))
        def on_train_batch_begin(self, batch, logs): calls.append(("batch_begin", logs))
        def on_train_batch_end(self, batch, logs): calls.append(("batch_end", logs))
        def on_test_begin(self, logs): calls.append(("test_begin", logs))
        def on_test_batch_begin(self, batch, logs): calls.append(("test_batch_begin", logs))
        def on_test_batch_end(self, batch, logs): calls.append(("test_batch_end", dict(logs)))
        def on_test_end(self, logs): calls.append(("test_end", dict(logs)))
        def on_predict_begin(self, logs): calls.append(("predict_begin", logs))
        def on_predict_batch_begin(self, batch, logs): calls.append(("predict_batch_begin", logs))
        def on_predict_batch_end(self, batch, logs): calls.append(("predict_batch_end", logs))
        def on_predict_end(self, logs): calls.append(("predict_end", logs))

    x, y = blobs(20)
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=5, validation_split=0.5, verbose=0, callbacks=[Strict()])
    assert [name for name, _ in calls] == ["train_begin", "epoch_begin", "batch_begin", "batch_end", "batch_begin",
                                           "batch_end", "test_begin", "test_batch_begin", "test_batch_end",
                                           "test_batch_begin", "test_batch_end", "test_end", "epoch_end", "train_end"]
    assert all(isinstance(logs, dict) for _, logs in calls)
    test_end, epoch_end = calls[11][1], calls[12][1]
    assert set(test_end) == {"loss"} and set(epoch_end) == {"loss", "val_loss"}
    assert epoch_end["val_loss"] == test_end["loss"] == calls[10][1]["loss"]
    calls.clear()
    model.predict(x, batch_size=10, callbacks=[Strict()])
    assert [name for name, _ in calls] == ["predict_begin", "predict_batch_begin", "predict_batch_end",
                                           "predict_batch_begin", "predict_batch_end", "predict_end"]


def test_fit_reads_in_one_screen():
    import inspect
    source = inspect.getsource(tinynet.models.Model.fit)
    assert len(source.splitlines()) <= 55


def test_models_do_not_import_saving_at_module_level():
    import subprocess
    import sys
    code = "import sys, tinynet.models; print('tinynet.saving' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_adding_a_layer_after_compile_pairs_the_new_output_with_the_loss():
    x, y = blobs(8)
    model = Sequential([Dense(4, activation="softmax", input_shape=(2,))])
    model.compile("sgd", "sparse_categorical_crossentropy", ["acc"])
    assert model.loss_takes_logits
    model.add(Dense(2, activation="relu"))
    assert not model.loss_takes_logits and not model.loss.from_logits and model.metrics[0].name == "acc"
    model.add(tinynet.layers.Softmax())
    assert model.loss_takes_logits
    loss, _ = model.compute_gradients(x, y)
    assert loss == pytest.approx(model.evaluate(x, y, verbose=0)[0], rel=1e-6)


def test_a_second_layer_with_a_name_already_in_the_model_is_refused_as_keras_refuses_it(unchanged, tmp_path):
    from tinynet.keras import backend
    backend.clear_session()
    model = Sequential([Dense(4, input_shape=(3,)), Dense(2)])
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    backend.clear_session()                                        # automatic names start again from 'dense'
    with unchanged(model, tmp_path), pytest.raises(ValueError, match=(
            r"^All layers added to a Sequential model should have unique names\. Name 'dense' is already the name "
            r"of a layer in model 'sequential'\. Update the `name` argument")):
        model.add(Dense(2))
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    with pytest.raises(ValueError, match="Name 'same' is already the name of a layer"):
        Sequential([Dense(2, input_shape=(3,), name="same"), Dense(2, name="same")])
