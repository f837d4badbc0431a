"""tinynet.backend, used as Keras scripts use it: ``from tinynet import backend as K``."""
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
