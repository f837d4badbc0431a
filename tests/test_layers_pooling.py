"""Pooling layers: gradients, Keras's output shapes, the tie rule, aliases and configs."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from test_ops_conv import keras_output_size
from tinynet import Sequential, gradcheck
from tinynet.layers import (AveragePooling2D, AvgPool2D, Conv2D, GlobalAveragePooling2D, GlobalAvgPool2D,
                            GlobalMaxPool2D, GlobalMaxPooling2D, MaxPool2D, MaxPooling2D)

TOLERANCE = 1e-6


def distinct(shape, seed=0):
    """Values that are all different and at least 0.01 apart: no ties inside the gradient check's step."""
    rng = np.random.default_rng(seed)
    return (rng.permutation(np.prod(shape)) * 0.01 - 1).reshape(shape).astype(np.float64)


@pytest.mark.parametrize("layer_type", [MaxPooling2D, AveragePooling2D])
@pytest.mark.parametrize("pool_size, strides, padding", [
    (2, None, "valid"), (2, None, "same"), (3, 2, "valid"), (3, 2, "same"), ((2, 3), (1, 2), "same"), (3, 1, "valid"),
])
def test_pooling_gradients(layer_type, pool_size, strides, padding):
    layer = layer_type(pool_size=pool_size, strides=strides, padding=padding)
    errors = gradcheck.check_layer(layer, distinct((2, 7, 6, 3)), training=True)
    assert errors["input"] < TOLERANCE, errors


def test_global_average_pooling_gradient_and_value():
    x = distinct((2, 5, 4, 3))
    layer = GlobalAveragePooling2D()
    np.testing.assert_allclose(layer(x), x.mean(axis=(1, 2)))
    assert gradcheck.check_layer(layer, x)["input"] < TOLERANCE


@given(H=st.integers(1, 9), W=st.integers(1, 9), ph=st.integers(1, 4), pw=st.integers(1, 4),
       sh=st.integers(1, 3), sw=st.integers(1, 3), padding=st.sampled_from(["valid", "same"]),
       layer_type=st.sampled_from([MaxPooling2D, AveragePooling2D]))
def test_output_shape_is_keras_formula(H, W, ph, pw, sh, sw, padding, layer_type):
    layer = layer_type(pool_size=(ph, pw), strides=(sh, sw), padding=padding)
    if padding == "valid" and (ph > H or pw > W):
        with pytest.raises(ValueError, match="must fit"):
            layer.build((H, W, 2))
        return
    expected = (keras_output_size(H, ph, sh, padding), keras_output_size(W, pw, sw, padding), 2)
    assert layer.compute_output_shape((H, W, 2)) == expected
    assert layer(np.random.default_rng(0).standard_normal((1, H, W, 2))).shape == (1,) + expected


def test_max_pooling_hand_computed_and_first_maximum_gets_the_gradient_on_ties():
    x = np.array([[1, 2, 5, 5],
                  [3, 4, 5, 5],
                  [0, 0, 9, 1],
                  [0, 0, 1, 2]], dtype=np.float64).reshape(1, 4, 4, 1)
    layer = MaxPool2D()
    np.testing.assert_array_equal(layer(x)[0, :, :, 0], [[4, 5], [0, 9]])
    dx = layer.backward(np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1))[0, :, :, 0]
    np.testing.assert_array_equal(dx, [[0, 0, 2, 0],     # tie of four 5s: the top-left one gets it
                                       [0, 1, 0, 0],
                                       [3, 0, 4, 0],     # tie of four 0s: the top-left one gets it
                                       [0, 0, 0, 0]])


def test_average_pooling_same_divides_by_the_real_cells_only():
    x = np.ones((1, 3, 3, 1))
    np.testing.assert_array_equal(AvgPool2D(padding="same")(x)[0, :, :, 0], np.ones((2, 2)))


def test_strides_default_to_pool_size_and_aliases_are_the_same_classes():
    assert MaxPool2D is MaxPooling2D and AvgPool2D is AveragePooling2D
    assert GlobalAvgPool2D is GlobalAveragePooling2D
    layer = MaxPooling2D(pool_size=3)
    assert layer.strides == (3, 3) and layer.padding == "valid"
    assert MaxPooling2D().pool_size == (2, 2)
    assert MaxPooling2D().name.startswith("max_pooling2d")


@pytest.mark.parametrize("layer", [MaxPooling2D((3, 2), strides=1, padding="same", name="p"),
                                   AveragePooling2D(2, input_shape=(8, 8, 3)), GlobalAveragePooling2D()])
def test_config_round_trip(layer):
    config = layer.get_config()
    assert type(layer)(**config).get_config() == config
    assert isinstance(type(layer).equation, str)


def test_bad_arguments_and_shapes():
    with pytest.raises(ValueError, match="pool_size"):
        MaxPooling2D(pool_size=0)
    with pytest.raises(ValueError, match="strides"):
        AveragePooling2D(strides=(1, 2, 3))
    with pytest.raises(ValueError, match="padding"):
        MaxPooling2D(padding="causal")
    with pytest.raises(ValueError, match=r"'gp' \(GlobalAveragePooling2D\) expects images"):
        GlobalAveragePooling2D(name="gp").build((10,))
    with pytest.raises(ValueError, match=r"MaxPooling2D.*must fit"):
        Sequential([Conv2D(2, 3, input_shape=(3, 3, 1)), MaxPooling2D()])


# ---------------------------------------------------------------- global max pooling


def test_global_max_pooling_value_gradient_and_the_first_maximum_on_ties():
    x = distinct((2, 5, 4, 3))
    layer = GlobalMaxPool2D()
    assert isinstance(layer, GlobalMaxPooling2D)
    np.testing.assert_array_equal(layer(x), x.max(axis=(1, 2)))
    result = gradcheck.check_layer(layer, x, verbose=False)
    assert result.passed and result["input"] < TOLERANCE
    tie = np.array([[0.0, 5.0], [5.0, 1.0]]).reshape(1, 2, 2, 1)
    layer(tie)
    np.testing.assert_array_equal(layer.backward(np.array([[2.0]]))[0, :, :, 0], [[0, 2], [0, 0]])   # the first 5
    assert Sequential([Conv2D(4, 3, input_shape=(8, 8, 1)), GlobalMaxPooling2D()]).output_shape == (None, 4)
    with pytest.raises(ValueError, match=r"GlobalMaxPooling2D\) expects images"):
        GlobalMaxPooling2D().build((4, 3))
