"""Conv2DTranspose: the adjoint of Conv2D, against a stamp-the-kernel loop, with Keras's shapes and layout."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinynet import Sequential, gradcheck
from tinynet.layers import BatchNormalization, Conv2D, Conv2DTranspose, Dense, LeakyReLU, Reshape

TOLERANCE = 1e-6


def keras_transpose_size(n, k, s, padding, output_padding=None):
    """Keras's compute_conv_transpose_output_length, written out from its documentation."""
    if output_padding is None:
        return n * s + max(k - s, 0) if padding == "valid" else n * s
    pad = k // 2 if padding == "same" else 0
    return (n - 1) * s + k - 2 * pad + output_padding


def stamp_reference(x, w, b, strides, padding, out_hw):
    """TensorFlow's conv2d_transpose by its definition: every input pixel stamps the kernel, scaled by its
    value, at stride steps on a big canvas; then the canvas is cut to ``out_hw`` as the forward convolution
    would have padded it ('same': TensorFlow's split, the extra row at the bottom)."""
    N, h, w_in, C = x.shape
    kh, kw, F, _ = w.shape
    (sh, sw), (H, W) = strides, out_hw
    canvas = np.zeros((N, (h - 1) * sh + kh, (w_in - 1) * sw + kw, F))
    for n in range(N):
        for i in range(h):
            for j in range(w_in):
                for c in range(C):
                    canvas[n, i * sh:i * sh + kh, j * sw:j * sw + kw, :] += x[n, i, j, c] * w[:, :, :, c]
    top = max((h - 1) * sh + kh - H, 0) // 2 if padding == "same" else 0
    left = max((w_in - 1) * sw + kw - W, 0) // 2 if padding == "same" else 0
    canvas = np.pad(canvas, ((0, 0), (0, max(H + top - canvas.shape[1], 0)), (0, max(W + left - canvas.shape[2], 0)),
                             (0, 0)))
    return canvas[:, top:top + H, left:left + W, :] + (0 if b is None else b)


@pytest.mark.parametrize("kernel, strides, padding, output_padding", [
    (3, 1, "valid", None), (3, 2, "valid", None), (3, 2, "same", None), (2, 3, "valid", None),
    (4, 2, "same", 1), ((2, 3), (3, 2), "valid", (2, 1)), (5, 2, "same", 1), (1, 2, "same", None),
])
def test_gradients_of_the_input_the_kernel_and_the_bias(kernel, strides, padding, output_padding):
    layer = Conv2DTranspose(3, kernel, strides=strides, padding=padding, output_padding=output_padding,
                            bias_initializer="random_normal")
    errors = gradcheck.check_layer(layer, np.random.default_rng(0).standard_normal((2, 4, 3, 2)), verbose=False)
    assert set(errors) == {"input", f"{layer.name}/kernel", f"{layer.name}/bias"}
    assert errors.passed and max(errors.values()) < TOLERANCE, errors.table()


@given(h=st.integers(1, 5), w=st.integers(1, 5), kh=st.integers(1, 4), kw=st.integers(1, 4), sh=st.integers(1, 3),
       sw=st.integers(1, 3), padding=st.sampled_from(["valid", "same"]), seed=st.integers(0, 2 ** 16))
def test_forward_is_the_kernel_stamped_at_stride_steps(h, w, kh, kw, sh, sw, padding, seed):
    rng = np.random.default_rng(seed)
    layer = Conv2DTranspose(2, (kh, kw), strides=(sh, sw), padding=padding, bias_initializer="random_normal")
    x = rng.standard_normal((2, h, w, 3))
    y = layer(x)
    H, W = keras_transpose_size(h, kh, sh, padding), keras_transpose_size(w, kw, sw, padding)
    assert y.shape == (2, H, W, 2) == (2,) + layer.compute_output_shape((h, w, 3))
    np.testing.assert_allclose(y, stamp_reference(x, layer.kernel.data, layer.bias.data, (sh, sw), padding, (H, W)),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("strides, padding", [(1, "valid"), (2, "valid"), (2, "same"), (3, "same")])
def test_it_is_the_adjoint_of_the_convolution_with_the_same_kernel(strides, padding):
    # <conv(big), small> == <big, conv_transpose(small)>: the two are transposes of one linear map.
    rng = np.random.default_rng(1)
    transpose = Conv2DTranspose(4, 3, strides=strides, padding=padding, use_bias=False)
    small = rng.standard_normal((2, 3, 4, 5))
    big_image = transpose(small)
    conv = Conv2D(5, 3, strides=strides, padding=padding, use_bias=False)
    conv.build(big_image.shape[1:])
    conv.set_weights(transpose.get_weights())           # (kh, kw, 4, 5) is a Conv2D kernel taking 4 channels to 5
    big = rng.standard_normal(big_image.shape)
    assert conv(big).shape == small.shape
    np.testing.assert_allclose(np.sum(conv(big) * small), np.sum(big * transpose(small)), rtol=1e-10)
    # ... so its forward is the convolution's dx, and its dx is the convolution's forward
    conv.forward(big, training=True)
    np.testing.assert_allclose(conv.backward(small), transpose(small), rtol=1e-10)
    transpose.forward(small, training=True)
    np.testing.assert_allclose(transpose.backward(big), conv(big), rtol=1e-10)


@given(n=st.integers(1, 9), k=st.integers(1, 5), s=st.integers(1, 4), padding=st.sampled_from(["valid", "same"]),
       output_padding=st.one_of(st.none(), st.integers(0, 3)))
def test_output_shape_is_keras_formula(n, k, s, padding, output_padding):
    if output_padding is not None and (output_padding >= s or (padding == "same" and k % 2 == 0
                                                                and output_padding == 0)):
        with pytest.raises(ValueError, match="output.padding"):
            Conv2DTranspose(1, k, strides=s, padding=padding, output_padding=output_padding)
        return
    layer = Conv2DTranspose(2, k, strides=s, padding=padding, output_padding=output_padding)
    expected = keras_transpose_size(n, k, s, padding, output_padding)
    assert layer.compute_output_shape((n, n, 1)) == (expected, expected, 2)
    assert layer(np.ones((1, n, n, 1))).shape == (1, expected, expected, 2)


def test_the_tensorflow_dcgan_generator_has_keras_shapes_and_parameter_counts():
    generator = Sequential([
        Dense(7 * 7 * 256, use_bias=False, input_shape=(100,)), BatchNormalization(), LeakyReLU(),
        Reshape((7, 7, 256)),
        Conv2DTranspose(128, (5, 5), strides=(1, 1), padding="same", use_bias=False), BatchNormalization(), LeakyReLU(),
        Conv2DTranspose(64, (5, 5), strides=(2, 2), padding="same", use_bias=False), BatchNormalization(), LeakyReLU(),
        Conv2DTranspose(1, (5, 5), strides=(2, 2), padding="same", use_bias=False, activation="tanh"),
    ])
    shapes = [layer.output_shape for layer in generator.layers if isinstance(layer, Conv2DTranspose)]
    assert shapes == [(None, 7, 7, 128), (None, 14, 14, 64), (None, 28, 28, 1)]
    # The tutorial's summary: 819,200 / 204,800 / 1,600 parameters, kernels stored (kh, kw, filters, in_channels).
    kernels = [layer.kernel.shape for layer in generator.layers if isinstance(layer, Conv2DTranspose)]
    assert kernels == [(5, 5, 128, 256), (5, 5, 64, 128), (5, 5, 1, 64)]
    assert [np.prod(k) for k in kernels] == [819200, 204800, 1600]
    images = generator.predict(np.random.default_rng(0).standard_normal((3, 100)).astype(np.float32), verbose=0)
    assert images.shape == (3, 28, 28, 1) and np.abs(images).max() <= 1


def test_a_small_generator_passes_the_whole_model_gradient_check():
    model = Sequential([Dense(2 * 2 * 3, input_shape=(4,)), Reshape((2, 2, 3)),
                        Conv2DTranspose(2, 3, strides=2, padding="same", activation="tanh"),
                        Conv2DTranspose(1, 2, strides=2)])
    model.compile("adam", "mse")
    rng = np.random.default_rng(2)
    result = gradcheck.check_model(model, rng.standard_normal((3, 4)), rng.standard_normal((3, 8, 8, 1)),
                                   verbose=False)
    assert result.passed and max(result.values()) < TOLERANCE, result.table()


@pytest.mark.parametrize("kwargs, message", [
    (dict(strides=2, output_padding=2), r"strides must be greater than output padding"),
    (dict(strides=1, output_padding=1), r"strides must be greater than output padding"),
    (dict(output_padding=-1), r"`output_padding`.*Received: output_padding=-1"),
    (dict(dilation_rate=2), r"dilated transposed convolutions are not implemented"),
    (dict(filters=0), r"`filters`, expected a positive integer"),
    (dict(padding="full"), r"`padding`.*'valid', 'same'"),
    (dict(data_format="channels_first"), r"channels-last"),
    (dict(kernel_size=4, strides=2, padding="same", output_padding=0), r"even kernel_size"),
])
def test_bad_settings_are_refused_by_name(kwargs, message):
    settings = {"filters": 2, "kernel_size": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        Conv2DTranspose(**settings)


def test_config_rebuilds_the_layer():
    layer = Conv2DTranspose(8, (3, 5), strides=(2, 1), padding="same", output_padding=(1, 0), activation="relu")
    rebuilt = Conv2DTranspose.from_config(layer.get_config())
    assert rebuilt.get_config() == layer.get_config()
    assert rebuilt.compute_output_shape((4, 4, 2)) == layer.compute_output_shape((4, 4, 2)) == (8, 4, 8)
