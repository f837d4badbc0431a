"""tinynet.backend, used as Keras scripts use it: ``from tinynet import backend as K``."""
import warnings

import numpy as np
import pytest

from tinynet import backend as K
from tinynet import layers, models, optimizers
from tinynet.core.layers.base import Parameter


def test_image_data_format_is_channels_last_and_channels_first_is_refused():
    assert K.image_data_format() == "channels_last"
    assert K.image_dim_ordering() == "tf"
    K.set_image_data_format("channels_last")
    with pytest.raises(ValueError, match="channels_last"):
        K.set_image_data_format("channels_first")
    with pytest.raises(ValueError, match="'tf'"):
        K.set_image_dim_ordering("th")


def test_clear_session_resets_layer_names_as_in_the_book():
    # Hands-On ML ch. 10 builds a model, calls clear_session, builds it again and prints hidden1.name.
    models.Sequential([layers.Flatten(input_shape=[28, 28]), layers.Dense(300), layers.Dense(10)])
    K.clear_session()
    model = models.Sequential([layers.Flatten(input_shape=[28, 28]), layers.Dense(300, activation="relu"),
                               layers.Dense(100, activation="relu"), layers.Dense(10, activation="softmax")])
    assert [layer.name for layer in model.layers] == ["flatten", "dense", "dense_1", "dense_2"]
    assert model.name == "sequential"


def test_epsilon_and_floatx():
    assert K.epsilon() == 1e-7
    K.set_epsilon(1e-5)
    try:
        assert K.epsilon() == 1e-5
    finally:
        K.set_epsilon(1e-7)
    with pytest.raises(ValueError, match="value"):
        K.set_epsilon(-1)
    assert K.floatx() == "float32"
    K.set_floatx("float32")
    with pytest.raises(ValueError, match="float32"):
        K.set_floatx("float64")
    assert K.cast_to_floatx([1, 2]).dtype == np.float32


def test_get_value_and_set_value_on_arrays_and_parameters():
    a = np.zeros((2, 3), np.float32)
    K.set_value(a, np.ones((2, 3)))
    assert np.array_equal(K.get_value(a), np.ones((2, 3)))
    p = Parameter(np.zeros(4, np.float32), "w")
    K.set_value(p, [1, 2, 3, 4])
    assert np.array_equal(K.get_value(p), [1, 2, 3, 4])
    with pytest.raises(ValueError, match="shape"):
        K.set_value(p, np.ones(3))
    assert K.batch_get_value([a, p])[1][3] == 4


def test_get_value_of_an_optimizer_learning_rate():
    optimizer = optimizers.RMSprop(learning_rate=0.001)
    assert K.get_value(optimizer.lr) == pytest.approx(0.001)


def test_set_value_on_a_plain_number_says_what_to_do():
    with pytest.raises(TypeError, match="learning_rate = value"):
        K.set_value(0.01, 0.001)


def test_shapes_and_counts():
    w = np.zeros((784, 300))
    assert K.int_shape(w) == (784, 300)
    assert K.ndim(w) == 2
    assert K.count_params(w) == 235200
    assert K.count_params(Parameter(np.zeros((3, 3, 1, 32), np.float32), "k")) == 288
    layer = layers.Dense(5, input_shape=(3,))
    models.Sequential([layer])
    assert K.int_shape(layer) == (None, 5)


@pytest.mark.parametrize("value, error, message", [
    (np.array([1.0, np.nan, 3.0, 4.0]), ValueError, "NaN or infinite"),
    (np.array([1.0, np.inf, 3.0, 4.0]), ValueError, "NaN or infinite"),
    (np.array([1e39, 0, 0, 0]), ValueError, "does not fit in float32"),
    (np.array([1 + 2j, 0, 0, 0]), TypeError, "complex128"),
    (np.array(["a", "b", "c", "d"]), TypeError, "real numbers"),
    ([[1, 2], [3]], TypeError, "not an array of numbers"),
])
def test_set_value_refuses_what_a_weight_cannot_hold_and_changes_nothing(value, error, message):
    p = Parameter(np.arange(4, dtype=np.float32), "dense/kernel")
    with warnings.catch_warnings():
        warnings.simplefilter("error")        # refused, never cast with a ComplexWarning
        with pytest.raises(error, match=message):
            K.set_value(p, value)
    np.testing.assert_array_equal(p.data, [0, 1, 2, 3])
    assert p.data.dtype == np.float32


def test_set_value_keeps_the_weights_dtype():
    p = Parameter(np.zeros(3, np.float32), "w")
    K.set_value(p, np.array([0.1, 0.2, 0.3], np.float64))
    assert p.data.dtype == np.float32 and p.data.tolist() == pytest.approx([0.1, 0.2, 0.3])


def test_batch_set_value_is_all_or_nothing():
    a, b = Parameter(np.zeros(2, np.float32), "a"), Parameter(np.zeros(3, np.float32), "b")
    adam = optimizers.Adam(0.01)
    for pairs in ([(a, [1.0, 2.0]), (b, [1.0, np.nan, 2.0])],        # the second pair is refused
                  [(a, [1.0, 2.0]), (adam.lr, -1.0)],
                  [(adam.iterations, 5), (adam.lr, 0.5), (b, [1.0, 2.0])]):
        with pytest.raises((ValueError, TypeError)):
            K.batch_set_value(pairs)
        assert a.data.tolist() == [0, 0] and b.data.tolist() == [0, 0, 0]
        assert adam.iterations == 0 and adam.learning_rate == 0.01
    K.batch_set_value([(a, [1.0, 2.0]), (adam.iterations, 5), (adam.lr, 0.5)])
    assert a.data.tolist() == [1, 2] and adam.iterations == 5 and adam.learning_rate == 0.5


def test_set_value_of_the_step_count_is_accepted():
    model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    model.compile("adam", "mse")
    model.fit(np.ones((4, 3)), np.ones((4, 2)), batch_size=2, verbose=0)
    assert model.optimizer.iterations == 2
    K.set_value(model.optimizer.iterations, 0)
    assert K.get_value(model.optimizer.iterations) == 0
