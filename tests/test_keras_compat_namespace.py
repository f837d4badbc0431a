"""``from tinynet import keras`` and ``tinynet.random``: the names scripts reach through TensorFlow."""
import numpy as np

import tinynet
from tinynet import keras


def test_keras_is_tinynet_under_keras_names():
    assert keras.layers is tinynet.layers
    assert keras.Sequential is tinynet.Sequential
    assert keras.backend.image_data_format() == "channels_last"
    assert keras.datasets.mnist is tinynet.datasets.mnist
    assert keras.regularizers.l2(0.01).l2 == 0.01


def test_random_set_seed_makes_weights_reproducible():
    def weights():
        keras.random.set_seed(42)
        model = keras.Sequential([keras.layers.Dense(3, input_shape=(4,))])
        return model.get_weights()[0]
    assert np.array_equal(weights(), weights())
