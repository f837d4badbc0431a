"""SpatialDropout2D and GaussianNoise: what training draws, the identity in inference, gradients, seeds."""
import numpy as np
import pytest

import tinynet
from tinynet import Sequential, gradcheck
from tinynet.layers import Conv2D, Dense, Flatten, GaussianNoise, SpatialDropout2D

TOLERANCE = 1e-6


def test_spatial_dropout_drops_whole_channels_and_scales_the_rest():
    x = np.random.default_rng(0).standard_normal((64, 5, 5, 8)).astype(np.float32) + 3    # no zeros in x
    y = SpatialDropout2D(0.25)(x, training=True)
    kept = (y != 0)
    per_map = kept.all(axis=(1, 2)) | (~kept).all(axis=(1, 2))
    assert per_map.all()                                           # each (image, channel) map: all kept or all dropped
    maps = kept[:, 0, 0, :]
    np.testing.assert_allclose(y[kept], (x / 0.75)[kept], rtol=1e-6)
    assert abs((~maps).mean() - 0.25) < 0.05                         # 512 maps, about a quarter of them dropped


def test_noise_layers_are_the_identity_in_inference_and_in_predict():
    x = np.random.default_rng(0).standard_normal((4, 3, 3, 2)).astype(np.float32)
    for layer in (SpatialDropout2D(0.5), GaussianNoise(1.0)):
        assert layer(x).value is x
    model = Sequential([GaussianNoise(0.5, input_shape=(3, 3, 2)), SpatialDropout2D(0.5), Flatten(), Dense(2)])
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))


def test_gaussian_noise_adds_zero_centred_noise_of_stddev_and_passes_the_gradient_through():
    x = np.zeros((200, 50), np.float32)
    layer = GaussianNoise(0.3)
    e = layer(x, training=True)
    assert e.dtype == np.float32
    assert abs(e.mean()) < 0.01 and abs(e.std() - 0.3) < 0.01
    np.testing.assert_array_equal(layer.backward(np.full((200, 50), 2.0)), 2.0)    # dx = dout


@pytest.mark.parametrize("make", [lambda: SpatialDropout2D(0.4), lambda: GaussianNoise(0.5)])
def test_gradients_with_the_draw_held_fixed(make):
    result = gradcheck.check_layer(make(), np.random.default_rng(1).standard_normal((3, 4, 4, 5)), seed=0,
                                   verbose=False)
    assert result.passed and result["input"] < TOLERANCE, result.table()


def test_seed_gives_the_same_draws_whatever_else_draws():
    x = np.ones((2, 3, 3, 4), np.float32)
    first, second = SpatialDropout2D(0.5, seed=7), SpatialDropout2D(0.5, seed=7)
    a = first(x, training=True)
    tinynet.utils.rng().random(10)                                   # other draws in between change nothing
    np.testing.assert_array_equal(a, second(x, training=True))
    assert SpatialDropout2D.from_config(first.get_config()).seed == 7


def test_a_cnn_with_spatial_dropout_trains():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 6, 6, 1)).astype(np.float32), np.eye(2)[rng.integers(0, 2, 16)]
    model = Sequential([Conv2D(4, 3, activation="relu", input_shape=(6, 6, 1)), SpatialDropout2D(0.2),
                        GaussianNoise(0.1), Flatten(), Dense(2, activation="softmax")])
    model.compile("adam", "categorical_crossentropy")
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 3 and np.isfinite(history.history["loss"]).all()


@pytest.mark.parametrize("make, message", [
    (lambda: SpatialDropout2D(1.0), r"`rate`, expected a float in \[0, 1\)"),
    (lambda: SpatialDropout2D(0.5).build((4, 3)), r"SpatialDropout2D\) expects images"),
    (lambda: GaussianNoise(-1), r"`stddev`, expected a non-negative finite number"),
    (lambda: GaussianNoise(0.1, seed=-2), r"`seed`"),
])
def test_bad_settings_are_refused_by_name(make, message):
    with pytest.raises(ValueError, match=message):
        make()
