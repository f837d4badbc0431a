"""Conv2D: gradients, the reference op, Keras's shapes and weight layout, and the CNN models."""
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from test_ops_conv import keras_output_size
from tinynet import Sequential, gradcheck
from tinynet.ops import conv
from tinynet.fast import conv as conv_fast
from tinynet.layers import (BatchNormalization, Conv2D, Dense, Dropout, Flatten, GlobalAveragePooling2D,
                            MaxPooling2D, ReLU, AveragePooling2D)

TOLERANCE = 1e-6


def images(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ---------------------------------------------------------------- gradients


@pytest.mark.parametrize("kernel", [1, 2, 3, 5])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("x_shape", [(2, 7, 6, 3), (2, 6, 5, 2)], ids=["odd-height", "even-height"])
def test_conv2d_gradients(kernel, stride, padding, x_shape):
    layer = Conv2D(4, kernel, strides=stride, padding=padding, bias_initializer="random_normal")
    errors = gradcheck.check_layer(layer, images(x_shape), training=True)
    assert set(errors) == {"input", f"{layer.name}/kernel", f"{layer.name}/bias"}
    assert max(errors.values()) < TOLERANCE, errors


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_conv2d_gradients_with_activation_and_rectangular_kernel(activation):
    layer = Conv2D(3, (2, 3), strides=(1, 2), padding="same", activation=activation)
    errors = gradcheck.check_layer(layer, images((2, 5, 7, 2), seed=1))
    assert max(errors.values()) < TOLERANCE, errors


def test_conv2d_without_bias_has_only_a_kernel():
    layer = Conv2D(2, 3, use_bias=False)
    layer.build((5, 5, 2))
    errors = gradcheck.check_layer(layer, images((2, 5, 5, 2)))
    assert set(errors) == {"input", f"{layer.name}/kernel"} and max(errors.values()) < TOLERANCE
    assert [w.shape for w in layer.get_weights()] == [(3, 3, 2, 2)]


def test_small_cnn_whole_model_gradients():
    # No bias right before BatchNormalization: subtracting the batch mean cancels it, so its
    # true gradient is 0 and a relative error between two round-off values means nothing.
    model = Sequential([
        Conv2D(3, 3, padding="same", use_bias=False, input_shape=(6, 6, 2)), BatchNormalization(), ReLU(),
        MaxPooling2D(), Conv2D(4, 2, strides=2, padding="same", activation="tanh"),
        AveragePooling2D(pool_size=1), Flatten(), Dense(5, use_bias=False), BatchNormalization(), ReLU(),
        Dense(3, activation="softmax"),
    ])
    model.compile("adam", "mse")   # not a cross-entropy: the model runs the Softmax layer's own backward
    errors = gradcheck.check_model(model, images((4, 6, 6, 2), seed=3), np.eye(3)[[0, 1, 2, 1]])
    assert len(errors) == 1 + 1 + 2 + 2 + 1 + 2 + 2  # the input and every trainable weight
    assert max(errors.values()) < TOLERANCE, errors


# ---------------------------------------------------------------- against the reference op


@given(N=st.integers(1, 2), H=st.integers(1, 7), W=st.integers(1, 7), C=st.integers(1, 3),
       filters=st.integers(1, 3), kh=st.integers(1, 4), kw=st.integers(1, 4), sh=st.integers(1, 3),
       sw=st.integers(1, 3), padding=st.sampled_from(["valid", "same"]), impl=st.sampled_from(["fast", "naive"]),
       seed=st.integers(0, 2 ** 16))
def test_conv2d_is_the_reference_op(N, H, W, C, filters, kh, kw, sh, sw, padding, impl, seed):
    if padding == "valid" and (kh > H or kw > W):
        with pytest.raises(ValueError, match="must fit"):
            Conv2D(filters, (kh, kw), strides=(sh, sw), padding=padding).build((H, W, C))
        return
    layer = Conv2D(filters, (kh, kw), strides=(sh, sw), padding=padding, impl=impl)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, H, W, C))
    layer.build(x.shape[1:])
    for parameter in layer.weights:
        parameter.data = rng.standard_normal(parameter.shape)
        parameter.grad = np.zeros(parameter.shape)
    out = layer.forward(x, training=True)
    expected_shape = (N, keras_output_size(H, kh, sh, padding), keras_output_size(W, kw, sw, padding), filters)
    assert out.shape == expected_shape == (N,) + layer.compute_output_shape((H, W, C))
    w, b = layer.kernel.data, layer.bias.data
    z, cache = conv.conv2d_forward(x, w, b, (sh, sw), padding)
    np.testing.assert_allclose(out, z, rtol=1e-10, atol=1e-10)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    dx_ref, dw_ref, db_ref = conv.conv2d_backward(dout, cache)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(layer.kernel.grad, dw_ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(layer.bias.grad, db_ref, rtol=1e-10, atol=1e-10)


def test_inference_in_chunks_equals_one_batch(monkeypatch):
    layer = Conv2D(5, 3, padding="same", activation="relu")
    x = images((7, 9, 8, 3)).astype(np.float32)
    whole = layer(x, training=True)
    monkeypatch.setattr(conv_fast, "MAX_INFERENCE_COLS_BYTES", 3 * 9 * 8 * 27 * 4)  # three samples per im2col
    np.testing.assert_allclose(layer(x, training=False), whole, rtol=1e-6, atol=1e-6)
    assert layer.cache.cols is None  # inference keeps no im2col matrix


def test_backward_after_inference_forward_rebuilds_im2col():
    layer = Conv2D(2, 3)
    errors = gradcheck.check_layer(layer, images((2, 5, 6, 2)), training=False)
    assert max(errors.values()) < TOLERANCE


# ---------------------------------------------------------------- Keras compatibility


def test_keras_weight_layout_and_hand_computed_output():
    layer = Conv2D(2, (2, 2), input_shape=(3, 3, 1))
    layer.build((3, 3, 1))
    assert [w.shape for w in layer.get_weights()] == [(2, 2, 1, 2), (2,)]  # kernel (kh, kw, C_in, filters), bias
    kernel = np.zeros((2, 2, 1, 2), dtype=np.float32)
    kernel[:, :, 0, 0] = [[1, 0], [0, 0]]     # filter 0 picks the window's top-left pixel
    kernel[:, :, 0, 1] = [[0, 1], [1, 0]]     # filter 1 adds its top-right and bottom-left pixels
    layer.set_weights([kernel, np.array([0.0, 10.0])])
    x = np.arange(9, dtype=np.float32).reshape(1, 3, 3, 1)
    y = layer(x)
    np.testing.assert_array_equal(y[0, :, :, 0], [[0, 1], [3, 4]])
    np.testing.assert_array_equal(y[0, :, :, 1], [[14, 16], [20, 22]])


def test_same_padding_puts_the_odd_extra_row_at_the_bottom_like_tensorflow():
    # 4 wide, kernel 2, stride 1: total padding 1, all of it after. A kernel that reads only
    # the window's bottom-right pixel then returns x shifted up-left, with zeros at the end.
    layer = Conv2D(1, 2, padding="same", use_bias=False)
    layer.build((4, 4, 1))
    kernel = np.zeros((2, 2, 1, 1), dtype=np.float32)
    kernel[1, 1] = 1
    layer.set_weights([kernel])
    x = np.arange(1, 17, dtype=np.float32).reshape(1, 4, 4, 1)
    expected = np.zeros((4, 4))
    expected[:3, :3] = x[0, 1:, 1:, 0]
    np.testing.assert_array_equal(layer(x)[0, :, :, 0], expected)


def test_defaults_and_config_round_trip():
    layer = Conv2D(8, 3)
    assert (layer.strides, layer.padding, layer.use_bias, layer.kernel_size) == ((1, 1), "valid", True, (3, 3))
    layer = Conv2D(8, (3, 5), strides=2, padding="SAME", activation="relu", use_bias=False,
                   kernel_initializer="he_normal", input_shape=(28, 28, 1), name="c")
    config = layer.get_config()
    clone = type(layer)(**config)
    assert clone.get_config() == config
    assert config["kernel_size"] == (3, 5) and config["strides"] == (2, 2) and config["padding"] == "same"
    assert "w[di,dj,c,f]" in Conv2D.equation   # the notation of docs/backprop.md: kernel w, filter f


@pytest.mark.parametrize("kwargs, message", [
    (dict(filters=0, kernel_size=3), "filters"),
    (dict(filters=2.5, kernel_size=3), "filters"),
    (dict(filters=4, kernel_size=0), "kernel_size"),
    (dict(filters=4, kernel_size=(3, 3, 3)), "kernel_size"),
    (dict(filters=4, kernel_size=3, strides=-1), "strides"),
    (dict(filters=4, kernel_size=3, padding="full"), "padding"),
    (dict(filters=4, kernel_size=3, activation="swishy"), "swishy"),
])
def test_bad_arguments_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Conv2D(**kwargs)


def test_bad_input_shapes_name_the_layer():
    with pytest.raises(ValueError, match=r"'conv_a' \(Conv2D\) expects images of shape"):
        Conv2D(4, 3, name="conv_a").build((784,))
    with pytest.raises(ValueError, match="must fit"):
        Sequential([Conv2D(4, 5, input_shape=(3, 3, 1))])


def test_first_conv_of_a_model_skips_its_input_gradient():
    model = Sequential([Conv2D(2, 3, input_shape=(5, 5, 1)), Flatten(), Dense(2, activation="softmax")])
    model.compile("sgd", "mse")
    model.train_on_batch(images((3, 5, 5, 1)), np.eye(2)[[0, 1, 0]])
    assert model.layers[0].needs_input_gradient is False


def test_cifar100_model_of_seed_002_has_keras_parameter_counts():
    model = Sequential()
    model.add(Conv2D(32, kernel_size=(3, 3), input_shape=(32, 32, 3), activation="relu"))
    model.add(Conv2D(64, kernel_size=(3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Conv2D(128, kernel_size=(3, 3), activation="relu"))
    model.add(Conv2D(256, kernel_size=(3, 3), activation="relu"))
    model.add(Conv2D(512, kernel_size=(3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Conv2D(1024, kernel_size=(3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Flatten())
    model.add(Dense(500, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(100, activation="softmax"))
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    # (output shape, parameters) of each row of the article's summary
    expected = [((30, 30, 32), 896), ((28, 28, 64), 18496), ((14, 14, 64), 0), ((12, 12, 128), 73856),
                ((10, 10, 256), 295168), ((8, 8, 512), 1180160), ((4, 4, 512), 0), ((2, 2, 1024), 4719616),
                ((1, 1, 1024), 0), ((1024,), 0), ((500,), 512500), ((500,), 0), ((100,), 50100)]
    rows = [line for line in lines if re.match(r" \w+ \(", line)][1:]  # skip the header row
    assert len(rows) == len(expected)
    for row, (shape, params) in zip(rows, expected):
        shape_text = "(None, " + ", ".join(map(str, shape)) + ")"
        assert shape_text in row and row.rstrip().endswith(f" {params}"), (row, shape, params)
    assert "Total params: 6,850,792" in text
    assert "Trainable params: 6,850,792" in text and "Non-trainable params: 0" in text


def test_global_average_pooling_after_conv_feeds_dense():
    model = Sequential([Conv2D(6, 3, padding="same", input_shape=(8, 8, 3)), GlobalAveragePooling2D(),
                        Dense(2, activation="softmax")])
    assert model.output_shape == (None, 2) and model.layers[1].output_shape == (None, 6)


def test_predict_and_evaluate_split_huge_batches_without_changing_results():
    model = Sequential([Conv2D(4, 3, padding="same", input_shape=(6, 6, 1)), BatchNormalization(), ReLU(),
                        Flatten(), Dense(3, activation="softmax")])
    model.compile("adam", "mse", metrics=["accuracy"])
    x, y = images((50, 6, 6, 1)).astype(np.float32), np.eye(3)[np.arange(50) % 3]
    model.fit(x, y, batch_size=10, epochs=1, verbose=0)
    model.layers[1].moving_mean.data[...] = [0.5, -1, 2, 0]   # moving statistics away from their start
    model.layers[1].moving_variance.data[...] = [0.5, 2, 1, 3]
    whole = model.predict(x, batch_size=50)
    scores = model.evaluate(x, y, batch_size=50, verbose=0)
    model.max_inference_activation_bytes = 6 * 6 * 4 * 4 * 7  # seven samples of the largest output
    assert model._inference_batch_size(50) == 7
    np.testing.assert_allclose(model.predict(x, batch_size=50), whole, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=50, verbose=0), scores, rtol=1e-5)
