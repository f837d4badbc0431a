"""tinynet.sanity: initial loss ~ ln K at chance, and overfitting 20 samples; clear messages when they fail."""
import math

import numpy as np
import pytest

import tinynet
from tinynet import initializers, layers, optimizers, sanity


def data(n=60, d=12, k=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype(np.float32), rng.integers(0, k, n)


def mlp(k=4, init="glorot_uniform", lr=1e-2):
    model = tinynet.Sequential([layers.Dense(32, activation="relu", input_shape=(12,), kernel_initializer=init),
                                layers.Dense(k, activation="softmax", kernel_initializer=init)])
    model.compile(optimizers.Adam(learning_rate=lr), "sparse_categorical_crossentropy")
    return model


def test_initial_loss_at_chance_passes_and_a_confident_model_fails_with_the_causes():
    x, y = data()
    lines = []
    result = sanity.check_initial_loss(mlp(), x, y, print_fn=lines.append)
    assert result.passed and result.expected == pytest.approx(math.log(4))
    assert abs(result.value - math.log(4)) < 0.25 * math.log(4) and "starts at chance" in lines[0]
    big = mlp(init=initializers.RandomNormal(stddev=5.0))
    result = sanity.check_initial_loss(big, x, y, print_fn=lines.append)
    assert not result.passed and result.value > 2 * math.log(4)
    assert "far above ln(4)" in result.message and "initial weights too large" in result.message


def test_initial_loss_leaves_the_model_alone_and_checks_its_arguments():
    x, y = data()
    model = mlp()
    weights = model.get_weights()
    sanity.check_initial_loss(model, x, y, verbose=False)
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))
    with pytest.raises(ValueError, match="label 9"):
        sanity.check_initial_loss(model, x, np.full(len(x), 9))
    mse = tinynet.Sequential([layers.Dense(2, input_shape=(12,))])
    mse.compile("sgd", "mse")
    with pytest.raises(ValueError, match="cross-entropy"):
        sanity.check_initial_loss(mse, x, np.zeros((len(x), 2)))
    with pytest.raises(ValueError, match="tolerance"):
        sanity.check_initial_loss(model, x, y, tolerance=-1.0)


def test_overfit_twenty_samples_on_a_copy():
    x, y = data()
    model = mlp()
    weights = model.get_weights()
    result = sanity.check_overfit(model, x, y, verbose=False)
    assert result.passed and result.value == 1.0 and 0 < result.epochs <= 200
    assert "100 % training accuracy" in result.message
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))   # the copy was trained


def test_a_model_that_cannot_learn_fails_with_what_to_try():
    x, y = data()
    stuck = mlp(lr=1e-9)
    result = sanity.check_overfit(stuck, x, y, epochs=20, verbose=False)
    assert not result.passed and result.value < 1.0 and result.epochs == 20
    assert "could not overfit 20 samples" in result.message and "learning rate" in result.message
    assert "gradcheck" in result.message
