"""Issue 22, silently wrong results and unbounded error messages: one test per class.

- a loss weight that would reverse or wreck training (negative, NaN, infinite) is refused by name
  at compile, and the refused compile leaves the model compiled as it was;
- a user's argument is echoed in at most ~80 characters, whatever the lookup that refuses it.
"""
import math

import numpy as np
import pytest

import tinynet
from tinynet import callbacks, layers, losses, metrics, optimizers
from tinynet.models import Sequential

X = np.random.default_rng(0).standard_normal((16, 4)).astype(np.float32)
Y = np.random.default_rng(1).integers(0, 2, 16)


def model():
    tinynet.set_random_seed(0)
    return Sequential([layers.Input((4,)), layers.Dense(2, activation="softmax")])


@pytest.mark.parametrize("weight", [-1.0, -1e-9, math.nan, math.inf, -math.inf, "2", None, [1.0]])
def test_loss_weights_that_would_wreck_training_are_refused_by_name(weight):
    m = model()
    m.compile("sgd", "sparse_categorical_crossentropy", loss_weights=[0.5])
    optimizer, loss = m.optimizer, m.loss
    with pytest.raises(ValueError, match=r"`loss_weights`, expected finite numbers >= 0, one per output"):
        m.compile("adam", "mse", loss_weights=[weight])
    # The refused compile changed nothing: the first compile's settings train the model.
    assert m.optimizer is optimizer and m.loss is loss and m.loss_weights == [0.5]
    before = m.evaluate(X, Y, verbose=0)
    p = m.predict(X, verbose=0).astype(np.float64)
    assert before == pytest.approx(0.5 * -np.mean(np.log(p[np.arange(16), Y])), rel=1e-5)


def test_a_zero_loss_weight_is_allowed_and_stops_that_loss():
    m = model()
    m.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy", loss_weights=[0.0])
    before = m.get_weights()
    m.fit(X, Y, epochs=1, verbose=0)
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)


HUGE = "z" * 1_000_000
LOOKUPS = {
    "loss": lambda: losses.get(HUGE),
    "compile loss": lambda: model().compile("sgd", HUGE),
    "optimizer": lambda: optimizers.get(HUGE),
    "activation": lambda: layers.Dense(2, activation=HUGE),
    "Activation layer": lambda: layers.Activation(HUGE),
    "metric": lambda: metrics.get_metric(HUGE),
    "initializer": lambda: layers.Dense(2, kernel_initializer=HUGE),
    "regularizer": lambda: layers.Dense(2, kernel_regularizer=HUGE),
    "constraint": lambda: layers.Dense(2, kernel_constraint=HUGE),
    "schedule": lambda: optimizers.schedules.deserialize({"class_name": HUGE, "config": {}}),
    "data_format": lambda: layers.Conv2D(2, 3, data_format=HUGE),
    "backend data_format": lambda: tinynet.backend.set_image_data_format(HUGE),
    "get_layer": lambda: model().get_layer(HUGE),
    "layer keyword": lambda: layers.Dense(2, **{HUGE: 1}),
    "compile keyword": lambda: model().compile(**{HUGE: 1}),
    "fit keyword": lambda: model().fit(X, Y, **{HUGE: 1}),
    "batch_size": lambda: model().predict(X, batch_size=HUGE),
    "metric names": lambda: model().compile("sgd", "mse", metrics=[f"m{i}" for i in range(20_000)]),
    "loss_weights names": lambda: model().compile("sgd", "mse", loss_weights={f"o{i}": 1 for i in range(20_000)}),
    "class_weight key": lambda: (m := model(), m.compile("sgd", "sparse_categorical_crossentropy"),
                                 m.fit(X, Y, class_weight={HUGE: 1.0}, verbose=0)),
    "EarlyStopping mode": lambda: callbacks.EarlyStopping(mode=HUGE),
}


@pytest.mark.parametrize("lookup", LOOKUPS)
def test_errors_echo_at_most_a_short_piece_of_the_argument(lookup):
    with pytest.raises((ValueError, TypeError, KeyError)) as caught:
        LOOKUPS[lookup]()
    message = str(caught.value)
    assert "zzzzzzzzzz" in message or "m0" in message or "o0" in message   # the argument is named ...
    assert message.count("z") <= 100 and message.count("'m") <= 30 and message.count("'o") <= 30  # ... not echoed
    assert len(message) < 800


# ----- a divergence caused by a schedule says so ----------------------------------------------
@pytest.mark.parametrize("start", [0, 400])
def test_a_growing_schedule_ends_in_the_divergence_guards_error_naming_the_schedule(start):
    schedule = optimizers.schedules.ExponentialDecay(0.01, decay_steps=1, decay_rate=10)
    m = model()
    m.compile(optimizers.SGD(learning_rate=schedule), "sparse_categorical_crossentropy")
    m.optimizer.iterations = start            # 400: 0.01 * 10**400 is past the largest float
    with pytest.raises(tinynet.TrainingDivergedError,
                       match=r"schedule ExponentialDecay, which has grown from 0\.01 at step 0 to (inf|[0-9.e+]+) "
                             r"at step [0-9,]+: a decay schedule should shrink the rate") as caught:
        m.fit(X, Y, epochs=500, batch_size=16, verbose=0)
    step = int(m.optimizer.iterations)
    # The error names the step the guard stopped at, and the rate there is the schedule's.
    assert f"at step {step:,}" in str(caught.value)
    assert not schedule(step) <= 0.01
    assert "learning_rate=" not in str(caught.value)   # no advice to lower a number that is not there


def test_a_fixed_rate_divergence_still_advises_a_lower_number():
    m = model()
    m.compile(optimizers.SGD(learning_rate=1e30), "sparse_categorical_crossentropy")
    with pytest.raises(tinynet.TrainingDivergedError, match=r"SGD\(learning_rate=1e\+29\) instead of 1e\+30"):
        m.fit(X * 1e10, Y, epochs=3, verbose=0)


# ----- weighted_metrics are weighted, as Keras weighs them ---------------------------------------
def binary_model(**compile_args):
    tinynet.set_random_seed(0)
    m = Sequential([layers.Input((4,)), layers.Dense(1, activation="sigmoid")])
    m.compile("sgd", "binary_crossentropy", **compile_args)
    return m


def test_weighted_metrics_take_the_sample_weights_and_plain_ones_do_not():
    m = binary_model(metrics=["accuracy"], weighted_metrics=["accuracy"])
    y = (X[:, :1] > 0).astype(np.float32)
    w = np.arange(16, dtype=np.float64)
    logs = m.evaluate(X, y, sample_weight=w, batch_size=5, verbose=0, return_dict=True)
    right = ((m.predict(X, verbose=0) > 0.5) == (y == 1))[:, 0]
    assert logs["accuracy"] == pytest.approx(right.mean())
    assert logs["weighted_accuracy"] == pytest.approx((right * w).sum() / w.sum())   # Keras's name for the twin
    assert logs["weighted_accuracy"] != pytest.approx(right.mean())


@pytest.mark.parametrize("ext", [".npz", ".h5", ".keras"])
def test_weighted_metrics_survive_a_round_trip(tmp_path, ext):
    pytest.importorskip("h5py")
    m = binary_model(metrics=["accuracy"], weighted_metrics=["accuracy", metrics.Precision(thresholds=0.4)])
    m.save(tmp_path / f"m{ext}")
    loaded = tinynet.models.load_model(tmp_path / f"m{ext}")
    assert [x.name for x in loaded.metrics] == ["accuracy", "weighted_accuracy", "precision"]
    y = (X[:, :1] > 0).astype(np.float32)
    w = np.arange(16, dtype=np.float64)
    before = m.evaluate(X, y, sample_weight=w, verbose=0, return_dict=True)
    assert loaded.evaluate(X, y, sample_weight=w, verbose=0, return_dict=True) == pytest.approx(before)


# ----- a built Dense given the wrong number of features says so ----------------------------------
def test_a_built_dense_names_itself_the_expected_and_the_received_features():
    dense = layers.Dense(3, name="proj")
    dense(np.ones((2, 4), np.float32))
    kernel = dense.kernel.data.copy()
    with pytest.raises(ValueError, match=r"Input 0 of layer 'proj' \(Dense\) is incompatible with the layer: expected "
                                         r"axis -1 of input shape to have value 4, but received input with shape \(2, 5\)"):
        dense(np.ones((2, 5), np.float32))
    np.testing.assert_array_equal(dense.kernel.data, kernel)
    assert dense(np.ones((2, 7, 4), np.float32)).shape == (2, 7, 3)   # more axes: each position a row


# ----- label_smoothing on the cross-entropies, Keras's formulas ---------------------------------
def smoothed_ce_by_hand(y, p, s):
    y = y * (1 - s) + s / y.shape[-1]
    return float(np.mean(-(y * np.log(p)).sum(axis=-1)))


def smoothed_bce_by_hand(y, p, s):
    y = y * (1 - s) + s / 2
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


def test_label_smoothing_is_kerass_formula_and_survives_the_pairing_with_softmax():
    y = np.eye(3)[[0, 2, 1, 1]]
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.3, 0.3, 0.4], [0.25, 0.5, 0.25]])
    assert losses.CategoricalCrossentropy(label_smoothing=0.2)(y, p) == pytest.approx(smoothed_ce_by_hand(y, p, 0.2))
    yb, pb = np.array([[1.0], [0.0], [1.0]]), np.array([[0.9], [0.2], [0.4]])
    assert losses.BinaryCrossentropy(label_smoothing=0.3)(yb, pb) == pytest.approx(smoothed_bce_by_hand(yb, pb, 0.3))
    # compile hands the softmax's logits to the loss: the smoothing must come along.
    tinynet.set_random_seed(0)
    m = Sequential([layers.Input((4,)), layers.Dense(3, activation="softmax")])
    m.compile("sgd", losses.CategoricalCrossentropy(label_smoothing=0.2))
    targets = np.eye(3)[np.arange(16) % 3]
    assert m.loss.from_logits and m.loss.label_smoothing == 0.2
    assert m.evaluate(X, targets, verbose=0) == pytest.approx(
        smoothed_ce_by_hand(targets, m.predict(X, verbose=0).astype(np.float64), 0.2), rel=1e-5)


@pytest.mark.parametrize("ext", [".npz", ".h5", ".keras"])
def test_label_smoothing_survives_a_round_trip(tmp_path, ext):
    pytest.importorskip("h5py")
    m = binary_model()
    m.compile("sgd", losses.BinaryCrossentropy(label_smoothing=0.1))
    m.save(tmp_path / f"m{ext}")
    loaded = tinynet.models.load_model(tmp_path / f"m{ext}")
    assert loaded.loss.label_smoothing == 0.1
    y = (X[:, :1] > 0).astype(np.float32)
    assert loaded.evaluate(X, y, verbose=0) == pytest.approx(m.evaluate(X, y, verbose=0), rel=1e-6)


@pytest.mark.parametrize("value", [-0.1, 1.5, math.nan, "0.1"])
def test_label_smoothing_outside_zero_to_one_is_refused(value):
    with pytest.raises(ValueError, match=r"`label_smoothing`, expected a number in \[0, 1\]"):
        losses.CategoricalCrossentropy(label_smoothing=value)


@pytest.mark.parametrize("loss", [losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2),
                                  losses.CategoricalCrossentropy(label_smoothing=0.2),
                                  losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.3),
                                  losses.BinaryCrossentropy(label_smoothing=0.3)])
def test_label_smoothing_gradients_match_numerical_ones(loss):
    rng = np.random.default_rng(3)
    z = rng.standard_normal((4, 3))
    y = np.eye(3)[[0, 2, 1, 1]]
    x = z if loss.from_logits else (np.exp(z) / np.exp(z).sum(-1, keepdims=True)
                                    if loss.name.startswith("categorical") else 1 / (1 + np.exp(-z)))
    loss.forward(y, x)
    analytic = loss.backward()
    numeric = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += 1e-6
        down[index] -= 1e-6
        numeric[index] = (loss.forward(y, up) - loss.forward(y, down)) / 2e-6
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


# ----- weight_decay on every optimizer, as Keras 3 applies it ------------------------------------
@pytest.mark.parametrize("impl", ["fast", "naive"])
def test_sgd_weight_decay_shrinks_the_weights_before_the_step(impl):
    from tinynet.layers import Parameter
    sgd = optimizers.SGD(learning_rate=0.1, momentum=0.5, weight_decay=0.2, impl=impl)
    p = Parameter(np.array([1.0, -2.0, 0.5]), "w")
    w, velocity = p.data.copy(), np.zeros(3)
    for g in (np.array([0.3, 0.1, -0.2]), np.array([-0.1, 0.4, 0.0])):
        p.grad = g
        assert sgd.apply([p])
        w = w - 0.1 * 0.2 * w                   # Keras 3: variable -= variable * weight_decay * lr
        velocity = 0.5 * velocity - 0.1 * g     # then the rule, from the shrunk weights
        w = w + velocity
    np.testing.assert_allclose(p.data, w, rtol=1e-12)


@pytest.mark.parametrize("ext", [".npz", ".keras"])
def test_weight_decay_survives_a_round_trip(tmp_path, ext):
    pytest.importorskip("h5py")
    m = binary_model()
    m.compile(optimizers.SGD(0.1, weight_decay=0.01), "binary_crossentropy")
    m.save(tmp_path / f"m{ext}")
    assert tinynet.models.load_model(tmp_path / f"m{ext}").optimizer.weight_decay == 0.01


def test_a_keras_2_file_says_it_cannot_hold_sgds_weight_decay(tmp_path):
    pytest.importorskip("h5py")
    from tinynet.io.errors import KerasFileWarning
    m = binary_model()
    m.compile(optimizers.SGD(0.1, weight_decay=0.01), "binary_crossentropy")
    with pytest.warns(KerasFileWarning, match=r"weight_decay=0\.01 cannot be held by a Keras 2 \.h5 file"):
        m.save(tmp_path / "m.h5")


# ----- a layer used in two places: its gradient is the sum over the uses, or the model is refused -------
def relative_gradient_error(m, x, y):
    """The worst relative error of every trainable weight's gradient against centred differences (float64)."""
    m.compile("sgd", "mse")
    for p in m.trainable_weights:
        p.data = p.data.astype(np.float64)
    m.compute_gradients(x, y)
    worst = 0.0
    for p, g in [(p, p.grad.copy()) for p in m.trainable_weights]:
        numeric = np.zeros_like(p.data)
        for index in np.ndindex(p.data.shape):
            old = p.data[index]
            p.data[index] = old + 1e-6
            up, _ = m.compute_gradients(x, y)
            p.data[index] = old - 1e-6
            down, _ = m.compute_gradients(x, y)
            p.data[index] = old
            numeric[index] = (up - down) / 2e-6
        worst = max(worst, np.abs(g - numeric).max() / np.abs(numeric).max())
    return worst


def shared_in_two_models():
    dense = layers.Dense(3, activation="tanh")
    return Sequential([layers.Input((3,)), Sequential([layers.Input((3,)), dense]),
                       Sequential([layers.Input((3,)), dense])])


def inner_layer_also_on_top():
    dense = layers.Dense(3, activation="tanh")
    return Sequential([layers.Input((3,)), Sequential([layers.Input((3,)), dense]), dense])


def inner_model_twice_functional():
    inner = Sequential([layers.Input((3,)), layers.Dense(3, activation="tanh")])
    x = tinynet.Input((3,))
    return tinynet.Model(x, inner(inner(x)))


@pytest.mark.parametrize("build", [shared_in_two_models, inner_layer_also_on_top, inner_model_twice_functional])
def test_a_layer_used_twice_gets_the_sum_of_its_gradients(build):
    tinynet.set_random_seed(0)
    m = build()
    assert len(m.trainable_weights) == 2          # one kernel and one bias, shared
    rng = np.random.default_rng(0)
    assert relative_gradient_error(m, rng.standard_normal((4, 3)), rng.standard_normal((4, 3))) < 1e-6


def test_a_model_inside_itself_or_one_object_twice_in_a_sequential_is_refused():
    inner = Sequential([layers.Input((3,)), layers.Dense(3)])
    with pytest.raises(ValueError, match=r"is already in model .* can appear only once in a Sequential"):
        Sequential([layers.Input((3,)), inner, inner])
    m = Sequential([layers.Input((3,)), layers.Dense(3)])
    with pytest.raises(ValueError, match=r"cannot be added to itself"):
        m.add(m)
    with pytest.raises(ValueError, match=r"cannot be added to itself"):
        m.add(Sequential([m]))
    assert len(m.layers) == 1
