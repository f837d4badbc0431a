"""Keras 2's generator spellings (fit_generator, evaluate_generator, predict_generator) and a float count of
steps (``steps_per_epoch=len(x_train) / 32``), as older MNIST augmentation scripts call them."""
import numpy as np
import pytest

import tinynet as tf
from tinynet.core.checks import check_steps
from tinynet.keras.preprocessing.image import ImageDataGenerator


def _model(seed=0):
    tf.set_random_seed(seed)
    model = tf.keras.Sequential([tf.keras.Input(shape=(4, 4, 1)), tf.keras.layers.Flatten(),
                                 tf.keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=tf.keras.optimizers.SGD(learning_rate=0.1), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _data(n=70):
    rng = np.random.default_rng(1)
    return rng.uniform(size=(n, 4, 4, 1)).astype("float32"), rng.integers(0, 3, n)


def test_fit_generator_with_a_float_step_count_is_fit_on_the_same_batches():
    x, y = _data()
    flow = ImageDataGenerator().flow(x, y, batch_size=32, shuffle=False)   # no move: the images as they are
    by_generator, by_arrays = _model(), _model()
    history = by_generator.fit_generator(flow, steps_per_epoch=len(x) / flow.batch_size, epochs=2, verbose=0,
                                         shuffle=False)          # the batches in order, as fit(shuffle=False)
    by_arrays.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
    assert history.params["steps"] == 3                                  # 70 / 32 = 2.19: three batches
    for a, b in zip(by_generator.get_weights(), by_arrays.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_evaluate_and_predict_generator_are_evaluate_and_predict():
    x, y = _data()
    model = _model()
    flow = ImageDataGenerator().flow(x, y, batch_size=16, shuffle=False)
    np.testing.assert_allclose(model.evaluate_generator(flow), model.evaluate(x, y, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(model.predict_generator(ImageDataGenerator().flow(x, batch_size=16, shuffle=False)),
                               model.predict(x), rtol=1e-6)


@pytest.mark.parametrize("value, steps", [(2, 2), (2.0, 2), (2.5, 3), (np.float32(0.1), 1), (np.int64(4), 4)])
def test_a_float_step_count_is_rounded_up_as_keras_loop_runs_it(value, steps):
    assert check_steps(value, "steps_per_epoch") == steps


@pytest.mark.parametrize("value", [0, 0.0, -1.5, float("nan"), float("inf"), True, "3"])
def test_a_step_count_that_is_no_positive_number_is_refused_by_name(value):
    with pytest.raises((ValueError, TypeError), match="steps_per_epoch"):
        check_steps(value, "steps_per_epoch")
