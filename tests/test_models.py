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
