"""What Keras scripts do with an optimizer beside fit: ``apply_gradients(zip(grads, variables))`` in a
GradientTape loop, ``iterations`` and ``learning_rate`` read, assigned and set with the backend."""
import warnings

import numpy as np
import pytest

import tinynet
from tinynet import TrainingDivergedError, layers, optimizers
from tinynet import backend as K
from tinynet.core.optimizers import schedules
from tinynet.layers import Parameter
from tinynet.models import Sequential

X = np.random.default_rng(0).standard_normal((16, 4)).astype(np.float32)
Y = np.random.default_rng(1).integers(0, 3, 16)


def model():
    tinynet.set_random_seed(0)
    net = Sequential([layers.Dense(5, activation="relu", input_shape=(4,)), layers.Dense(3, activation="softmax")])
    net.compile(optimizers.Adam(0.01), "sparse_categorical_crossentropy")
    return net


def snapshot(optimizer, variables):
    return ([v.data.copy() for v in variables], int(optimizer.iterations),
            {id(v): {k: a.copy() for k, a in optimizer.state.get(v, {}).items()} for v in variables})


def assert_unchanged(optimizer, variables, before):
    weights, iterations, state = before
    for v, w in zip(variables, weights):
        np.testing.assert_array_equal(v.data, w)
    assert optimizer.iterations == iterations
    for v in variables:
        for key, array in state[id(v)].items():
            np.testing.assert_array_equal(optimizer.state[v][key], array)


# ----- apply_gradients -----------------------------------------------------------------------
def test_apply_gradients_is_the_same_step_as_apply():
    a, b = model(), model()
    for _ in range(3):
        a.compute_gradients(X, Y)
        assert a.optimizer.apply(a.trainable_weights)
        b.compute_gradients(X, Y)
        grads = [p.grad.copy() for p in b.trainable_weights]
        assert b.optimizer.apply_gradients(zip(grads, b.trainable_weights)) == b.optimizer.iterations
    assert b.optimizer.iterations == 3
    for p, q in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(p, q)


def test_a_variable_whose_gradient_is_none_is_skipped_with_a_warning_naming_it():
    adam = optimizers.Adam(0.1)
    p, q = Parameter(np.ones(2, np.float32), "dense/kernel"), Parameter(np.ones(3, np.float32), "dense/bias")
    with pytest.warns(UserWarning, match=r"\['dense/bias'\]"):
        adam.apply_gradients([(np.array([0.5, -0.5]), p), (None, q)])
    np.testing.assert_array_equal(q.data, 1.0)
    assert q not in adam.state and not np.array_equal(p.data, np.ones(2))
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        adam.apply_gradients([(None, p), (None, q)])


def test_gradients_are_cast_to_the_variables_dtype():
    p = Parameter(np.ones(3, np.float32), "w")
    optimizers.SGD(0.1).apply_gradients([(np.array([1.0, 2.0, 3.0], np.float64), p)])
    assert p.data.dtype == np.float32
    np.testing.assert_allclose(p.data, [0.9, 0.8, 0.7], rtol=1e-6)
    optimizers.SGD(0.1).apply_gradients([([1, 1, 1], p)])   # a list of ints is a gradient too


@pytest.mark.parametrize("pairs, error, message", [
    (lambda p, q: [(np.ones(4), p)], ValueError, r"gradient of 'p' has shape \(4,\), but the variable has shape \(3,\)"),
    (lambda p, q: [(np.ones(3) * 1j, p)], TypeError, "complex"),
    (lambda p, q: [(np.ones(3), p.data)], TypeError, "Parameters"),
    (lambda p, q: [np.ones(3)], TypeError, r"\(gradient, variable\) pairs"),
    (lambda p, q: [(np.ones(3), p), (np.ones(3), p)], ValueError, "appears twice"),
    (lambda p, q: [(np.ones(2), q), (np.array([1.0, np.nan, 1.0]), p)], TrainingDivergedError, "NaN or infinite"),
])
def test_apply_gradients_refuses_what_it_cannot_apply_and_changes_nothing(pairs, error, message):
    adam = optimizers.Adam(0.1)
    p, q = Parameter(np.ones(3), "p"), Parameter(np.ones(2), "q")
    adam.apply_gradients([(np.full(3, 0.1), p), (np.full(2, 0.1), q)])
    before = snapshot(adam, [p, q])
    with pytest.raises(error, match=message), np.errstate(invalid="ignore"):
        adam.apply_gradients(pairs(p, q))
    assert_unchanged(adam, [p, q], before)


# ----- iterations ------------------------------------------------------------------------------
def test_iterations_reads_as_an_int_and_takes_kerass_assign():
    adam = optimizers.Adam()
    p = Parameter(np.ones(2), "p")
    p.grad = np.ones(2)
    adam.apply([p])
    adam.apply([p])
    assert adam.iterations == 2 and isinstance(adam.iterations, int)
    assert K.get_value(adam.iterations) == 2 and type(K.get_value(adam.iterations)) is int
    assert adam.iterations.numpy() == 2
    K.set_value(adam.iterations, 0)                       # the Keras idiom to restart the count
    assert adam.iterations == 0 and "m" in adam.state[p]  # the state is kept
    adam.iterations.assign(7)
    assert adam.iterations == 7
    adam.iterations = np.array(3)                          # as read from a file
    assert adam.iterations == 3


@pytest.mark.parametrize("bad", [-1, 2.5, "3", 2 ** 63, None])
def test_a_bad_step_count_is_refused(bad):
    adam = optimizers.Adam()
    with pytest.raises(ValueError, match="iterations"):
        adam.iterations = bad
    with pytest.raises(ValueError, match="iterations"):
        K.set_value(adam.iterations, bad)
    assert adam.iterations == 0


# ----- learning_rate -----------------------------------------------------------------------------
def test_a_number_cannot_replace_a_schedule_as_in_keras():
    schedule = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    sgd = optimizers.SGD(learning_rate=schedule)
    for set_number in (lambda: setattr(sgd, "learning_rate", 0.01), lambda: K.set_value(sgd.lr, 0.01),
                       lambda: sgd.learning_rate.assign(0.01)):
        with pytest.raises(TypeError, match="not settable"):
            set_number()
        assert sgd.get_config()["learning_rate"]["class_name"] == "ExponentialDecay"
    sgd.learning_rate = schedules.InverseTimeDecay(0.2, 1, 1.0)   # a schedule may replace a schedule
    assert sgd.learning_rate == pytest.approx(0.2)


def test_a_handle_read_before_a_schedule_was_set_does_not_replace_the_schedule():
    sgd = optimizers.SGD(learning_rate=0.1)
    handle = sgd.learning_rate                  # read while the rate was a number
    sgd.learning_rate = schedules.ExponentialDecay(0.05, decay_steps=1, decay_rate=0.5)
    with pytest.raises(TypeError, match="not settable"):
        K.set_value(handle, 0.001)
    assert sgd.learning_rate == pytest.approx(0.05)
    assert "class_name" in sgd.get_config()["learning_rate"]


def test_set_value_on_the_learning_rate_of_a_number():
    rms = optimizers.RMSprop(0.001)
    K.set_value(rms.learning_rate, 0.0005)
    assert rms.learning_rate == 0.0005 and K.get_value(rms.lr) == 0.0005
    with pytest.raises(ValueError, match="learning_rate"):
        K.set_value(rms.lr, float("nan"))
    assert rms.learning_rate == 0.0005


def test_no_warning_in_an_ordinary_step():
    a = model()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a.compute_gradients(X, Y)
        a.optimizer.apply_gradients(zip([p.grad for p in a.trainable_weights], a.trainable_weights))
