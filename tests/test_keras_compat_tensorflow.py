"""The TensorFlow names tutorials call with `import tinynet as tf`, keras.activations, keras.random, and the Keras 3
spellings of layers' weights: each used as the tutorials write it, asserting values."""
import numpy as np
import pytest

import tinynet
import tinynet as tf
from tinynet import keras
from tinynet.layers import Dense, ReLU, Softmax


def test_newaxis_cast_and_one_hot():
    images = np.arange(12, dtype=np.uint8).reshape(3, 2, 2)
    assert images[..., tf.newaxis].shape == (3, 2, 2, 1)
    scaled = tf.cast(images, tf.float32) / 255.0
    assert scaled.dtype == np.float32 and scaled.max() == np.float32(11 / 255)
    np.testing.assert_array_equal(tf.cast([1.7, -1.7, 2.5], tf.int32), [1, -1, 2])     # toward zero, as TensorFlow
    np.testing.assert_array_equal(tf.one_hot([0, 2, 3, -1], depth=3), [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])
    assert tf.one_hot([1], 2).dtype == np.float32
    np.testing.assert_array_equal(tf.one_hot([1, 0], 2, on_value=5, off_value=-1, axis=0), [[-1, 5], [5, -1]])
    with pytest.raises(ValueError, match=r"cast: received an invalid value for `dtype`"):
        tf.cast([1], "floaty")


def test_devices_are_answered_honestly():
    assert tf.config.list_physical_devices("GPU") == []
    assert [d.device_type for d in tf.config.list_physical_devices()] == ["CPU"]
    assert tf.config.experimental.list_physical_devices("gpu") == []
    assert tf.test.gpu_device_name() == "" and tf.test.is_gpu_available() is False
    assert tinynet.__version__ == "0.1.0"                    # tinynet's own version, not TensorFlow's


def test_tf_nn_functions_as_activations_are_the_named_layers_and_train_the_same():
    x = np.random.default_rng(0).standard_normal((16, 4)).astype(np.float32)
    y = np.eye(3)[np.arange(16) % 3]

    def trained(hidden, output):
        tinynet.set_random_seed(0)
        model = tf.keras.Sequential([tf.keras.layers.Dense(8, activation=hidden, input_shape=(4,)),
                                     tf.keras.layers.Dense(3, activation=output)])
        model.compile("adam", "categorical_crossentropy")
        model.fit(x, y, epochs=2, batch_size=4, verbose=0)
        return model

    by_function, by_name = trained(tf.nn.relu, tf.nn.softmax), trained("relu", "softmax")
    assert isinstance(by_function.layers[0].activation, ReLU) and isinstance(by_function.layers[1].activation, Softmax)
    assert by_function.loss_takes_logits                      # softmax + cross-entropy paired, as with the name
    for a, b in zip(by_function.get_weights(), by_name.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert by_function.layers[0].get_config()["activation"] == "relu"     # saved by name
    assert isinstance(Dense(2, activation=keras.activations.gelu).activation, tinynet.layers.GELU)


def test_activation_functions_compute_on_arrays_with_their_layers_forward():
    z = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_array_equal(tf.nn.relu(z), [[0, 0, 3]])
    np.testing.assert_allclose(keras.activations.softmax(z).sum(), 1.0)
    np.testing.assert_allclose(tf.nn.sigmoid([0.0]), [0.5])
    np.testing.assert_allclose(keras.activations.leaky_relu(z), [[-0.4, 0, 3]])           # Keras's 0.2 slope
    np.testing.assert_allclose(tf.nn.leaky_relu(z, negative_slope=0.1), [[-0.2, 0, 3]])
    assert keras.activations.relu(np.array([1, -1])).dtype == np.float32
    assert keras.activations.get("relu") is tf.nn.relu is tf.keras.activations.relu
    assert keras.activations.get(None) is keras.activations.linear
    assert keras.activations.serialize(tf.nn.softmax) == "softmax" and keras.activations.deserialize("tanh")(0.0) == 0
    with pytest.raises(ValueError, match=r"Layer 'd': the activation 'square' is a Python function tinynet does not "
                                         r"know"):
        Dense(2, activation=np.square, name="d")


def test_keras_random_follows_kerass_seed_rules():
    np.testing.assert_array_equal(keras.random.normal((3,), seed=42), keras.random.normal((3,), seed=42))
    stream = keras.random.SeedGenerator(7)
    a, b = keras.random.uniform((3,), seed=stream), keras.random.uniform((3,), seed=stream)
    assert not np.array_equal(a, b)
    again = keras.random.SeedGenerator(7)
    np.testing.assert_array_equal(keras.random.uniform((3,), seed=again), a)
    tf.random.set_seed(1)
    first = tf.random.normal((2, 2))
    tf.random.set_seed(1)
    np.testing.assert_array_equal(tf.random.normal((2, 2)), first)
    assert first.dtype == np.float32
    t = keras.random.truncated_normal((10000,), stddev=2.0, seed=0)
    assert np.abs(t).max() <= 4 and abs(t.std() - 2 * 0.88) < 0.05          # the cut at 2 sigma narrows it
    ints = keras.random.randint((1000,), 3, 6, seed=0)
    assert set(np.unique(ints)) == {3, 4, 5} and ints.dtype == np.int32
    assert sorted(keras.random.shuffle(np.arange(5), seed=0).tolist()) == [0, 1, 2, 3, 4]
    draws = keras.random.categorical(np.log([[0.1, 0.9]]), 2000, seed=0)
    assert abs(draws.mean() - 0.9) < 0.03
    kept = keras.random.dropout(np.ones(10000), 0.25, seed=0)
    assert abs((kept == 0).mean() - 0.25) < 0.02 and np.allclose(kept[kept > 0], 4 / 3)


def test_layer_weights_as_keras_3_writes_them():
    class Linear(keras.Layer):                                  # keras.io "Making new layers via subclassing"
        def __init__(self, units=32):
            super().__init__()
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)
            self.steps = self.add_weight(shape=1, initializer="zeros", trainable=False, name="steps")
            super().build(input_shape)

    layer = Linear(4)
    layer.build((3,))
    assert [v.shape for v in layer.variables] == [(3, 4), (4,), (1,)]
    assert [v.name for v in layer.variables] == [f"{layer.name}/variable", f"{layer.name}/variable_1",
                                                 f"{layer.name}/steps"]
    assert len(layer.trainable_variables) == 2 and len(layer.non_trainable_variables) == 1
    assert keras.Layer is tinynet.layers.Layer and keras.Model is tinynet.models.Model
    with pytest.raises(ValueError, match="add_weight needs a `shape`"):
        Linear().add_weight(name="w")
