"""Keras's losses by name, object and function: values on hand-made cases, and each gradient checked
numerically (float64) with the shared checker."""
import math

import numpy as np
import pytest

from tinynet import losses
from tinynet.gradcheck import numerical_gradient

RNG = np.random.default_rng(0)


def gradient_matches(loss, y, p):
    loss.forward(y, p)
    analytic = loss.backward()
    p = p.copy()
    numeric = numerical_gradient(lambda: loss.forward(y, p), p)
    return np.allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


CASES = [
    ("mae", RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))),
    ("huber", RNG.normal(size=(4, 3)) * 2, RNG.normal(size=(4, 3))),
    ("logcosh", RNG.normal(size=(4, 3)) * 3, RNG.normal(size=(4, 3))),
    ("hinge", RNG.integers(0, 2, (4, 3)).astype(float), RNG.normal(size=(4, 3)) * 0.5),
    ("squared_hinge", RNG.choice([-1.0, 1.0], (4, 3)), RNG.normal(size=(4, 3))),
    ("kld", RNG.dirichlet(np.ones(3), 4), RNG.dirichlet(np.ones(3), 4)),
    ("poisson", RNG.integers(0, 4, (4, 3)).astype(float), RNG.uniform(0.5, 3, (4, 3))),
]


@pytest.mark.parametrize("name, y, p", CASES, ids=[c[0] for c in CASES])
def test_new_losses_gradient_check(name, y, p):
    loss = losses.get(name)
    assert gradient_matches(loss, y, p)
    assert loss(y, p) == pytest.approx(loss.per_sample(y, p).mean())


def test_values_by_hand():
    y, p = np.array([[0.0, 1.0]]), np.array([[0.5, 3.0]])
    assert losses.get("mae")(y, p) == pytest.approx((0.5 + 2.0) / 2)
    assert losses.Huber(delta=1.0)(y, p) == pytest.approx((0.5 * 0.25 + (2.0 - 0.5)) / 2)
    assert losses.get("logcosh")(y, p) == pytest.approx((math.log(math.cosh(0.5)) + math.log(math.cosh(2.0))) / 2)
    # hinge with 0/1 labels -> -1/1: max(1 - (-1)(0.5), 0) = 1.5, max(1 - 3, 0) = 0
    assert losses.get("hinge")(y, p) == pytest.approx(1.5 / 2)
    assert losses.get("squared_hinge")(y, p) == pytest.approx(1.5 ** 2 / 2)
    assert losses.get("kld")([[0.5, 0.5]], np.array([[0.25, 0.75]])) == pytest.approx(
        0.5 * math.log(2) + 0.5 * math.log(0.5 / 0.75))
    assert losses.get("poisson")([[2.0]], np.array([[1.0]])) == pytest.approx(1.0 - 2 * math.log(1 + 1e-7))


def test_functions_return_per_sample_values_as_keras():
    y = np.array([[0, 1, 0], [0, 0, 1.0]])
    p = np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    assert np.allclose(losses.categorical_crossentropy(y, p), [-math.log(0.95), -math.log(0.1)])
    assert np.allclose(losses.sparse_categorical_crossentropy([1, 2], p), [-math.log(0.95), -math.log(0.1)])
    assert np.allclose(losses.binary_crossentropy([[0, 1]], [[0.4, 0.6]]), [-math.log(0.6)])
    assert np.allclose(losses.mean_squared_error([[1.0, 2.0]], [[2.0, 4.0]]), [2.5])
    assert np.allclose(losses.mae([[1.0, 2.0]], [[2.0, 4.0]]), [1.5])
    z = np.array([[2.0, 1.0, 0.1]])
    log_p = z - np.log(np.exp(z).sum())
    assert np.allclose(losses.categorical_crossentropy([[1, 0, 0]], z, from_logits=True), [-log_p[0, 0]])


def test_loss_objects_called_on_arrays_and_sample_weight():
    # The TensorFlow beginner tutorial: a loss object called on labels and logits.
    loss_fn = losses.SparseCategoricalCrossentropy(from_logits=True)
    logits = np.zeros((1, 10))
    assert loss_fn(np.array([3]), logits) == pytest.approx(math.log(10))   # ~2.3, as the tutorial says
    y, p = np.array([[0.0], [1.0]]), np.array([[1.0], [3.0]])
    assert losses.MeanSquaredError()(y, p, sample_weight=[1.0, 0.5]) == pytest.approx((1.0 + 0.5 * 4.0) / 2)


def test_get_by_function_name_and_class_name():
    assert type(losses.get(losses.categorical_crossentropy)) is losses.CategoricalCrossentropy
    assert type(losses.get(losses.sparse_categorical_crossentropy)) is losses.SparseCategoricalCrossentropy
    assert type(losses.get("MeanSquaredError")) is losses.MeanSquaredError
    assert type(losses.get("kullback_leibler_divergence")) is losses.KLDivergence
    def squared(y, p):
        return (p - y) ** 2
    assert isinstance(losses.get(squared), losses.LossFunction) and losses.get(squared).name == "squared"


def test_compile_with_a_loss_function_trains():
    # Keras's mnist_cnn.py passes keras.losses.categorical_crossentropy, the function, to compile.
    from tinynet import layers, models
    model = models.Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(loss=losses.categorical_crossentropy, optimizer="adam")
    assert model.loss_takes_logits                                  # paired with the softmax, as the name would be
    x, y = RNG.normal(size=(32, 4)), np.eye(3)[RNG.integers(0, 3, 32)]
    history = model.fit(x, y, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize("name", ["mae", "huber", "logcosh"])
def test_regression_losses_train_a_model(name):
    from tinynet import layers, models
    x = RNG.normal(size=(64, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]])
    model = models.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile(loss=name, optimizer="adam")
    history = model.fit(x, y, epochs=20, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
