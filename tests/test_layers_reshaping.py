"""ZeroPadding2D, Cropping2D, UpSampling2D, RepeatVector, Permute: values as NumPy writes them, gradients, shapes."""
import numpy as np
import pytest

from tinynet import Sequential, gradcheck
from tinynet.layers import (Conv2D, Cropping2D, Dense, Flatten, Permute, RepeatVector, UpSampling2D, ZeroPadding2D)

TOLERANCE = 1e-6


def images(shape=(2, 5, 6, 3), seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("make, x", [
    (lambda: ZeroPadding2D(((1, 2), (0, 3))), images()), (lambda: ZeroPadding2D(2), images()),
    (lambda: Cropping2D(((1, 2), (0, 3))), images()), (lambda: Cropping2D((1, 2)), images()),
    (lambda: UpSampling2D((2, 3)), images()), (lambda: UpSampling2D(interpolation="bilinear"), images()),
    (lambda: UpSampling2D((3, 2), interpolation="bilinear"), images()),
    (lambda: RepeatVector(3), images((2, 4))), (lambda: Permute((3, 1, 2)), images()),
    (lambda: Permute((2, 1)), images((2, 3, 4))),
], ids=["pad", "pad-int", "crop", "crop-sym", "up-nearest", "up-bilinear", "up-bilinear-3x2", "repeat",
        "permute-3d", "permute-2d"])
def test_gradients(make, x):
    result = gradcheck.check_layer(make(), x, verbose=False)
    assert result.passed and result["input"] < TOLERANCE, result.table()


def test_zero_padding_and_cropping_are_numpy_pad_and_slices_in_keras_spellings():
    x = images()
    np.testing.assert_array_equal(ZeroPadding2D(((1, 2), (0, 3)))(x), np.pad(x, ((0, 0), (1, 2), (0, 3), (0, 0))))
    np.testing.assert_array_equal(ZeroPadding2D((1, 2))(x), np.pad(x, ((0, 0), (1, 1), (2, 2), (0, 0))))
    np.testing.assert_array_equal(ZeroPadding2D()(x), np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))))
    np.testing.assert_array_equal(Cropping2D(((1, 2), (0, 3)))(x), x[:, 1:-2, 0:-3, :])
    np.testing.assert_array_equal(Cropping2D(1)(x), x[:, 1:-1, 1:-1, :])
    assert ZeroPadding2D(((1, 2), (0, 3))).compute_output_shape((5, 6, 3)) == (8, 9, 3)
    assert Cropping2D(((1, 2), (0, 3))).compute_output_shape((5, 6, 3)) == (2, 3, 3)


def test_the_keras_autoencoder_crops_back_to_28_after_upsampling_from_4():
    # keras.io / the Keras blog's convolutional autoencoder: 28 -> 14 -> 7 -> 4 (same), 4 -> 8 -> 16 -> (valid) 14 -> 28.
    model = Sequential([Conv2D(8, 3, padding="same", input_shape=(4, 4, 8)), UpSampling2D((2, 2)),
                        Conv2D(8, 3, padding="same"), UpSampling2D((2, 2)), Conv2D(16, 3), UpSampling2D((2, 2))])
    assert model.output_shape == (None, 28, 28, 16)
    assert Sequential([ZeroPadding2D(2, input_shape=(28, 28, 1)), Cropping2D(2)]).output_shape == (None, 28, 28, 1)


def test_upsampling_nearest_repeats_pixels_and_sums_their_gradients():
    x = np.arange(4.0).reshape(1, 2, 2, 1)
    layer = UpSampling2D((2, 3))
    y = layer(x)
    np.testing.assert_array_equal(y[0, :, :, 0], [[0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1],
                                                  [2, 2, 2, 3, 3, 3], [2, 2, 2, 3, 3, 3]])
    np.testing.assert_array_equal(layer.backward(np.ones_like(y))[0, :, :, 0], np.full((2, 2), 6.0))


def test_upsampling_bilinear_reads_between_pixel_centres_as_tf_image_resize():
    # tf.image.resize([[0, 1]], (1, 4), 'bilinear') = [0, 0.25, 0.75, 1]: output centre j reads input (j + 0.5)/2 - 0.5,
    # clamped to the border.
    x = np.array([0.0, 1.0]).reshape(1, 1, 2, 1)
    y = UpSampling2D((1, 2), interpolation="bilinear")(x)
    np.testing.assert_allclose(y[0, 0, :, 0], [0, 0.25, 0.75, 1])
    flat = np.full((1, 3, 3, 2), 7.0)
    np.testing.assert_allclose(UpSampling2D(interpolation="bilinear")(flat), np.full((1, 6, 6, 2), 7.0))


def test_repeat_vector_and_permute():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    layer = RepeatVector(3)
    np.testing.assert_array_equal(layer(x), [[[1, 2]] * 3, [[3, 4]] * 3])
    np.testing.assert_array_equal(layer.backward(np.ones((2, 3, 2))), np.full((2, 2), 3.0))
    assert Sequential([Dense(4, input_shape=(5,)), RepeatVector(6)]).output_shape == (None, 6, 4)
    x = images((2, 3, 4, 5))
    permute = Permute((3, 1, 2))
    np.testing.assert_array_equal(permute(x), x.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(permute.backward(permute(x)), x)
    assert Sequential([Permute((2, 1), input_shape=(10, 64)), Flatten()]).layers[0].output_shape == (None, 64, 10)


@pytest.mark.parametrize("make, message", [
    (lambda: ZeroPadding2D(-1), r"`padding`.*Received: padding=-1"),
    (lambda: ZeroPadding2D((1, 2, 3)), r"`padding`, expected a non-negative integer, a pair"),
    (lambda: Cropping2D(((1, 1), (1,))), r"`cropping`"),
    (lambda: Cropping2D(((3, 3), (0, 0))).build((5, 6, 3)), r"`cropping` must leave some of the input"),
    (lambda: UpSampling2D(interpolation="bicubic"), r"`interpolation`.*'bilinear', 'nearest'"),
    (lambda: UpSampling2D(0), r"`size`"),
    (lambda: RepeatVector(0), r"`n`, expected a positive integer"),
    (lambda: RepeatVector(2).build((3, 4)), r"RepeatVector\) expects vectors"),
    (lambda: Permute((1, 3)), r"`dims`, expected a permutation of 1, ..., n"),
    (lambda: Permute((0, 1)), r"`dims`"),
    (lambda: Permute((2, 1)).build((2, 3, 4)), r"expects samples of 2 axes"),
    (lambda: ZeroPadding2D(1).build((5, 6)), r"expects images of shape \(height, width, channels\)"),
])
def test_bad_settings_and_inputs_are_refused_by_name(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("layer", [ZeroPadding2D(((1, 2), (0, 3))), Cropping2D(((1, 0), (2, 2))),
                                   UpSampling2D((2, 3), interpolation="bilinear"), RepeatVector(4), Permute((2, 1))])
def test_config_rebuilds_the_layer(layer):
    rebuilt = type(layer).from_config(layer.get_config())
    assert rebuilt.get_config() == layer.get_config()


def test_bilinear_upsampling_reads_the_resize_op_of_its_impl(monkeypatch):
    # UpSampling2D calls resize through the op registry, like every layer: impl='naive' the textbook warp,
    # 'fast' its twin, and both give tf.image.resize's values.
    from tinynet.core import ops as core_ops
    calls = []
    for impl in core_ops.IMPLS:
        original = core_ops.get(impl).resize
        monkeypatch.setitem(core_ops._REGISTRY[impl], "resize",
                            lambda *args, impl=impl, original=original: calls.append(impl) or original(*args))
    x = np.array([0.0, 1]).reshape(1, 1, 2, 1)
    for impl in ("naive", "fast"):
        layer = UpSampling2D((1, 2), interpolation="bilinear")
        layer.impl = impl
        np.testing.assert_allclose(np.asarray(layer(x)).ravel(), [0, 0.25, 0.75, 1])
    assert calls == ["naive", "fast"]
