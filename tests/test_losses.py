import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinynet
from tinynet import Sequential, gradcheck, losses
from tinynet.layers import Dense, Softmax
from tinynet.ops import log_softmax, softmax

TOLERANCE = 1e-6


def loss_gradient_error(loss, y_true, y_pred):
    y_pred = np.array(y_pred, dtype=np.float64)
    loss.forward(y_true, y_pred)
    analytic = loss.backward()
    numeric = gradcheck.numerical_gradient(lambda: loss.forward(y_true, y_pred), y_pred)
    return gradcheck.relative_error(analytic, numeric)


def probabilities(n, k, seed=0):
    return softmax(np.random.default_rng(seed).standard_normal((n, k)))


def one_hot(labels, k):
    return np.eye(k)[labels]


LABELS = np.array([0, 2, 1, 2, 3])


@pytest.mark.parametrize("from_logits", [False, True])
def test_categorical_crossentropy_gradient(from_logits):
    y_pred = np.random.default_rng(1).standard_normal((5, 4)) if from_logits else probabilities(5, 4)
    error = loss_gradient_error(losses.CategoricalCrossentropy(from_logits), one_hot(LABELS, 4), y_pred)
    assert error < TOLERANCE


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_categorical_crossentropy_gradient(from_logits):
    y_pred = np.random.default_rng(1).standard_normal((5, 4)) if from_logits else probabilities(5, 4)
    assert loss_gradient_error(losses.SparseCategoricalCrossentropy(from_logits), LABELS, y_pred) < TOLERANCE


@pytest.mark.parametrize("from_logits", [False, True])
def test_binary_crossentropy_gradient(from_logits):
    rng = np.random.default_rng(2)
    z = rng.standard_normal((6, 3))
    y_pred = z if from_logits else 1 / (1 + np.exp(-z))
    y_true = (rng.random((6, 3)) > 0.5).astype(float)
    assert loss_gradient_error(losses.BinaryCrossentropy(from_logits), y_true, y_pred) < TOLERANCE


def test_mse_gradient_and_value():
    y_true = np.array([[1.0, 2.0], [3.0, 4.0]])
    y_pred = np.array([[1.5, 2.0], [2.0, 4.0]])
    assert losses.MeanSquaredError().forward(y_true, y_pred) == pytest.approx((0.25 + 1.0) / 4)
    assert loss_gradient_error(losses.MeanSquaredError(), y_true, y_pred + 0.1) < TOLERANCE


def test_crossentropy_hand_computed():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    expected = -(np.log(0.7) + np.log(0.8)) / 2
    assert losses.CategoricalCrossentropy().forward(one_hot([0, 2], 3), p) == pytest.approx(expected)
    assert losses.SparseCategoricalCrossentropy().forward(np.array([0, 2]), p) == pytest.approx(expected)
    assert losses.get("binary_crossentropy").forward(np.array([[1.0]]), np.array([[0.25]])) == pytest.approx(-np.log(0.25))


def test_fused_gradient_is_p_minus_y_over_n():
    z = np.random.default_rng(3).standard_normal((5, 4))
    loss = losses.CategoricalCrossentropy(from_logits=True)
    loss.forward(one_hot(LABELS, 4), z)
    np.testing.assert_allclose(loss.backward(), (softmax(z) - one_hot(LABELS, 4)) / 5, rtol=1e-12)


def test_log_softmax_matches_log_of_softmax_and_is_finite():
    z = np.array([[1.0, 2.0, 3.0], [1e4, 0.0, -1e4]])
    np.testing.assert_allclose(log_softmax(z)[0], np.log(softmax(z)[0]), rtol=1e-12)
    assert np.all(np.isfinite(log_softmax(z)))
    assert log_softmax(z)[1, 2] == pytest.approx(-2e4)


@pytest.mark.parametrize("loss", ["categorical_crossentropy", "sparse_categorical_crossentropy"])
def test_model_ending_in_softmax_is_fused_and_finite_for_huge_logits(loss):
    """A Dense(..., activation='softmax') output with logits of +-1e4: finite loss and gradients."""
    model = Sequential([Dense(3, activation="softmax", input_shape=(2,))])
    model.compile("sgd", loss)
    model.set_weights([np.array([[1e4, -1e4, 0.0], [0.0, 0.0, 0.0]], dtype=np.float32), np.zeros(3, np.float32)])
    x = np.array([[1.0, 0.0], [-1.0, 0.0]], dtype=np.float32)
    labels = np.array([1, 1])  # the wrong class, with probability ~exp(-2e4) = 0 in float32
    y = labels if loss.startswith("sparse") else one_hot(labels, 3).astype(np.float32)
    value = model.test_on_batch(x, y)
    assert np.isfinite(value) and value == pytest.approx(1e4, rel=1e-3)  # -log_softmax = 2e4 and 0 -> mean 1e4
    model.train_on_batch(x, y)
    for weight in model.get_weights():
        assert np.all(np.isfinite(weight))


def test_unfused_softmax_model_is_not_fused_with_mse():
    model = Sequential([Dense(3, activation="softmax", input_shape=(2,))])
    model.compile("sgd", "mse")
    assert not model.loss_takes_logits and not model.loss.from_logits
    model.compile("sgd", "categorical_crossentropy")
    assert model.loss_takes_logits and model.loss.from_logits


def test_whole_fused_model_gradient():
    model = Sequential([Dense(5, activation="tanh", input_shape=(3,)), Dense(4), Softmax()])
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).standard_normal((6, 3))
    errors = gradcheck.check_model(model, x, np.array([0, 1, 2, 3, 0, 1]))
    assert len(errors) == 5 and max(errors.values()) < TOLERANCE, errors


@given(n=st.integers(1, 9), k=st.integers(2, 7), scale=st.floats(0.01, 1e4))
def test_crossentropy_from_logits_is_finite_and_nonnegative(n, k, scale):
    rng = np.random.default_rng(n * 100 + k)
    z = (rng.standard_normal((n, k)) * scale).astype(np.float32)
    labels = rng.integers(0, k, n)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    value = loss.forward(labels, z)
    assert np.isfinite(value) and value >= 0
    assert np.all(np.isfinite(loss.backward()))


def test_unknown_loss_lists_valid_ones():
    with pytest.raises(ValueError, match="categorical_crossentropy"):
        losses.get("cross_entropy")


# ----- targets that are not one-hot: the gradient of the loss actually reported ---------------
MULTI_HOT = np.array([[1, 1, 0, 0], [0, 1, 0, 1], [1, 0, 0, 0]], dtype=np.float64)
SOFT = np.array([[0.9, 0.05, 0.05, 0.0], [0.25, 0.25, 0.25, 0.25], [0.0, 0.0, 0.3, 0.7]])


@pytest.mark.parametrize("targets", [MULTI_HOT, SOFT], ids=["multi-hot", "soft"])
def test_crossentropy_from_logits_has_the_exact_gradient_for_any_targets(targets):
    z = np.random.default_rng(1).standard_normal((3, 4))
    loss = losses.CategoricalCrossentropy(from_logits=True)
    assert loss_gradient_error(loss, targets, z) < TOLERANCE
    loss.forward(targets, z)
    p = softmax(z)
    np.testing.assert_allclose(loss.backward(), (p * targets.sum(1, keepdims=True) - targets) / 3, rtol=1e-12)


@pytest.mark.parametrize("targets", [MULTI_HOT, SOFT], ids=["multi-hot", "soft"])
def test_a_model_trains_multi_hot_and_soft_targets_with_the_gradient_of_the_reported_loss(targets):
    """fit's step follows the numerical gradient of the loss that evaluate reports (issue: p - y was not it)."""
    model = Sequential([Dense(5, activation="tanh", input_shape=(3,)), Dense(4, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    x = np.random.default_rng(0).standard_normal((3, 3))
    errors = gradcheck.check_model(model, x, targets, verbose=False)
    assert errors.passed and max(errors.values()) < TOLERANCE, errors
    # The same in float32 through train_on_batch: the step is -lr times the finite-difference gradient of
    # the loss evaluate reports.
    out = model.layers[1]
    kernel = out.kernel.data.astype(np.float64)
    h = np.tanh(x @ model.layers[0].kernel.data.astype(np.float64) + model.layers[0].bias.data)

    def reported_loss():
        z = h @ kernel + out.bias.data
        return -(targets * log_softmax(z)).sum() / len(x)

    assert model.evaluate(x, targets, verbose=0) == pytest.approx(reported_loss(), rel=1e-5)
    numeric = gradcheck.numerical_gradient(reported_loss, kernel)
    before = out.kernel.data.copy()
    model.train_on_batch(x, targets)
    np.testing.assert_allclose(out.kernel.data - before, -0.01 * numeric, rtol=1e-3, atol=1e-7)
    if targets is MULTI_HOT:  # the old gradient, (p - y) / N, is not this one
        p = softmax(h @ kernel + out.bias.data)
        assert gradcheck.relative_error(h.T @ ((p - targets) / 3), numeric) > 0.05


@pytest.mark.parametrize("targets, message", [
    (np.array([[1.0, 0, 0, 0], [0, -0.5, 1.5, 0], [1, 0, 0, 0]]), r"negative value -0.5 at index \(1, 1\)"),
    (np.array([[1.0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]), r"row \(1,\) of `y` is all zeros \(2 such rows\)"),
])
def test_categorical_targets_that_cannot_be_probabilities_are_refused(targets, message):
    model = Sequential([Dense(4, activation="softmax", input_shape=(3,))])
    model.compile("sgd", "categorical_crossentropy")
    before = model.get_weights()
    with pytest.raises(ValueError, match=message):
        model.fit(np.ones((3, 3)), targets, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    model.fit(np.ones((3, 3)), SOFT, verbose=0)   # soft labels (label smoothing) are welcome


def test_saving_keeps_the_loss_as_compiled(tmp_path):
    model = Sequential([Dense(3, activation="softmax", input_shape=(2,))])
    model.compile("sgd", "categorical_crossentropy")
    model.save(tmp_path / "m.npz")
    loaded = tinynet.load_model(tmp_path / "m.npz")
    assert loaded.loss_takes_logits and loaded.loss.from_logits
    x = np.ones((2, 2), np.float32)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
