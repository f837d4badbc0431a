import numpy as np

from tinynet import np_utils


def test_to_categorical_as_keras_1_scripts_call_it():
    y = np_utils.to_categorical(np.array([0, 2, 1]), 3)
    assert y.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]


def test_normalize():
    assert np.allclose(np_utils.normalize([[3.0, 4.0], [0.0, 0.0]]), [[0.6, 0.8], [0.0, 0.0]])
