"""Keras 3's preprocessing layers: Rescaling, Resizing, and the random augmentations, on in training only."""
import numpy as np
import pytest

from tinynet import Sequential, gradcheck
from tinynet.layers import (Dense, Flatten, Input, Layer, RandomFlip, RandomRotation, RandomTranslation, RandomZoom,
                            Rescaling, Resizing)

TOLERANCE = 1e-6


def images(shape=(4, 6, 6, 2), seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("make", [
    lambda: Rescaling(1 / 127.5, offset=-1), lambda: Rescaling([0.5, 2.0]), lambda: Resizing(7, 4),
    lambda: Resizing(3, 9, interpolation="nearest"), lambda: RandomFlip(), lambda: RandomFlip("vertical"),
    lambda: RandomRotation(0.2), lambda: RandomRotation((-0.1, 0.3), fill_mode="constant", fill_value=0.5),
    lambda: RandomTranslation(0.3, (-0.2, 0.1), fill_mode="wrap"), lambda: RandomZoom(0.3, interpolation="nearest"),
    lambda: RandomZoom((-0.3, 0.2), (0.1, 0.4), fill_mode="nearest"), lambda: RandomRotation(0.3, fill_mode="mirror"),
], ids=["rescaling", "rescaling-per-channel", "resizing", "resizing-nearest", "flip", "flip-vertical", "rotation",
        "rotation-constant", "translation-wrap", "zoom-nearest", "zoom-anisotropic", "rotation-mirror"])
def test_gradients_with_the_draw_held_fixed(make):
    # A warp is linear in x (y = S x + a constant), its backward the transpose S^T: checked numerically.
    result = gradcheck.check_layer(make(), images(), seed=0, verbose=False)
    assert result.passed and result["input"] < TOLERANCE, result.table()


def test_rescaling_maps_pixels_as_the_tutorials_write_it():
    pixels = np.array([[0, 127.5, 255]], np.float32)
    np.testing.assert_allclose(Rescaling(1.0 / 255)(pixels), [[0, 0.5, 1]])
    np.testing.assert_allclose(Rescaling(1.0 / 127.5, offset=-1)(pixels), [[-1, 0, 1]])
    y = Rescaling(1.0 / 255)(np.array([[0, 255]], np.uint8))
    assert y.dtype == np.float32 and y.tolist() == [[0.0, 1.0]]
    assert Rescaling(0.5)(np.ones((1, 2))).dtype == np.float64          # float64 stays float64 (gradient checks)


def test_resizing_output_shape_and_a_constant_image_stays_constant():
    layer = Resizing(10, 3)
    assert layer.compute_output_shape((6, 6, 2)) == (10, 3, 2)
    np.testing.assert_allclose(layer(np.full((2, 6, 6, 2), 4.0)), np.full((2, 10, 3, 2), 4.0))


def test_rotation_by_a_quarter_turn_is_np_rot90_counter_clockwise():
    x = images((3, 5, 5, 2))
    quarter = RandomRotation((0.25, 0.25))            # factor in turns: 0.25 * 2 pi = 90 degrees, counter-clockwise
    np.testing.assert_allclose(quarter(x), np.rot90(x, 1, axes=(1, 2)), atol=1e-9)
    np.testing.assert_allclose(RandomRotation((0.5, 0.5))(x), x[:, ::-1, ::-1, :], atol=1e-9)
    np.testing.assert_allclose(RandomRotation((-0.25, -0.25))(x), np.rot90(x, -1, axes=(1, 2)), atol=1e-9)


def test_translation_by_whole_pixels_shifts_and_fills():
    x = images((2, 8, 6, 1)) + 10
    down = RandomTranslation((0.25, 0.25), 0.0, fill_mode="constant")       # 2 of 8 rows down, zeros above
    y = down(x)
    np.testing.assert_allclose(y[:, 2:], x[:, :-2], atol=1e-12)
    np.testing.assert_array_equal(y[:, :2], 0)
    left = RandomTranslation(0.0, (-0.5, -0.5), fill_mode="wrap")           # 3 of 6 columns left, wrapped round
    np.testing.assert_allclose(left(x), np.roll(x, -3, axis=2), atol=1e-12)


def test_zoom_in_by_two_reads_the_centre_at_half_steps():
    x = np.arange(16.0).reshape(1, 4, 4, 1)
    y = RandomZoom((-0.5, -0.5))(x)                   # zoom factor 1 - 0.5: each output step is half an input step
    centre = 1.5
    r = centre + 0.5 * (np.arange(4) - centre)        # rows read: 0.75, 1.25, 1.75, 2.25 (and the same columns)
    expected = 4 * r[:, None] + r[None, :]            # x is linear in (row, col): x = 4 row + col, read bilinearly
    np.testing.assert_allclose(y[0, :, :, 0], expected)
    out = RandomZoom((1.0, 1.0), fill_mode="constant", fill_value=-1)(np.ones((1, 4, 4, 1)))  # zoomed out by 2
    assert out[0, 0, 0, 0] == -1 and out[0, 1:3, 1:3, 0].min() > 0


def test_flips_are_whole_image_reversals_about_half_the_time():
    x = images((400, 3, 4, 1))
    y = RandomFlip("horizontal")(x)
    left_right = np.all(y == x[:, :, ::-1], axis=(1, 2, 3))
    unchanged = np.all(y == x, axis=(1, 2, 3))
    assert (left_right | unchanged).all() and 0.4 < left_right.mean() < 0.6
    both = RandomFlip()(x)
    kinds = [np.all(both == v, axis=(1, 2, 3)) for v in (x, x[:, ::-1], x[:, :, ::-1], x[:, ::-1, ::-1])]
    assert np.logical_or.reduce(kinds).all() and all(0.15 < k.mean() < 0.35 for k in kinds)


class Seen(Layer):
    """The identity, recording every batch that reaches it and whether it was a training pass."""

    def __init__(self):
        super().__init__()
        self.batches = []

    def compute_output_shape(self, input_shape):
        return input_shape  # said, so building the model does not run forward on a batch of zeros

    def forward(self, x, training=False):
        self.batches.append((x.copy(), training))
        return x

    def backward(self, dout):
        return dout


def test_augmentation_is_on_in_fit_and_direct_calls_and_off_in_predict_and_evaluate():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 6, 6, 1)).astype(np.float32), np.zeros((8, 3), np.float32)
    augment = [RandomFlip(), RandomRotation(0.1), RandomTranslation(0.1, 0.1), RandomZoom(0.1)]
    for layer in augment:
        assert layer(x, training=False).value is x                       # inference: the identity, not even a copy
        assert not np.allclose(layer(x), x)                         # a direct call augments, as Keras's default
    seen = Seen()
    model = Sequential([Input(shape=(6, 6, 1)), *augment, seen, Flatten(), Dense(3)])
    model.compile("sgd", "mse")
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    model.predict(x, verbose=0)
    model.evaluate(x, y, verbose=0)
    (trained, training), (predicted, _), (evaluated, _) = seen.batches
    assert training and not np.allclose(trained, x)                # fit saw augmented images
    np.testing.assert_array_equal(predicted, x)                     # predict and evaluate saw them as they are
    np.testing.assert_array_equal(evaluated, x)


def test_seeded_layers_draw_the_same_augmentations():
    x = images()
    np.testing.assert_array_equal(RandomRotation(0.2, seed=3)(x), RandomRotation(0.2, seed=3)(x))
    layer = RandomZoom(0.2, seed=5)
    assert RandomZoom.from_config(layer.get_config()).get_config() == layer.get_config()


@pytest.mark.parametrize("make, message", [
    (lambda: RandomRotation(0.2, fill_mode="edge"), r"`fill_mode`, expected one of .*'constant'"),
    (lambda: RandomRotation(0.2, interpolation="bicubic"), r"`interpolation`"),
    (lambda: RandomRotation((0.3, 0.1)), r"`factor`, expected a number or a pair \(lower, upper\) with lower <= upper"),
    (lambda: RandomRotation("big"), r"`factor`"),
    (lambda: RandomTranslation(1.5, 0.1), r"`height_factor`.*within \[-1, 1\]"),
    (lambda: RandomTranslation(0.1, (-2, 0)), r"`width_factor`"),
    (lambda: RandomZoom((-1.5, 0)), r"`height_factor`"),
    (lambda: RandomFlip("diagonal"), r"`mode`, expected one of \('horizontal', 'vertical', 'horizontal_and_vertical'\)"),
    (lambda: Rescaling("1/255"), r"`scale`, expected a finite number"),
    (lambda: Resizing(0, 4), r"`height`, expected a positive integer"),
    (lambda: Resizing(4, 4, crop_to_aspect_ratio=True), r"crop_to_aspect_ratio=True is not implemented"),
    (lambda: RandomFlip().build((6, 6)), r"RandomFlip\) expects images"),
])
def test_bad_settings_are_refused_by_name(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def fit_and_predict(augment, x, seed=0):
    """The batches a layer after ``augment`` saw in one fit (one batch) and one predict, after set_random_seed."""
    import tinynet
    tinynet.set_random_seed(seed)
    seen = Seen()
    model = Sequential([Input(shape=x.shape[1:]), *augment, seen, Flatten(), Dense(2)])
    model.compile("sgd", "mse")
    model.fit(x, np.zeros((len(x), 2), np.float32), batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    model.predict(x, batch_size=len(x), verbose=0)
    return seen.batches


def test_frozen_augmentation_layers_still_follow_the_training_flag():
    # As in Keras, trainable=False freezes weights, it does not turn training off (BatchNormalization aside):
    # frozen augmentation layers still augment in fit, and still do nothing in predict.
    x = images((6, 5, 5, 1)).astype(np.float32)
    augment = [RandomFlip(seed=1), RandomRotation(0.2, seed=2), RandomTranslation(0.2, 0.2, seed=3),
               RandomZoom(0.2, seed=4)]
    for layer in augment:
        layer.trainable = False
    (trained, training), (predicted, predicting) = fit_and_predict(augment, x)
    assert training and not predicting
    assert trained.dtype == np.float32 and not np.allclose(trained, x)    # float32 in, float32 out
    np.testing.assert_array_equal(predicted, x)


def test_the_same_seed_gives_the_same_augmented_batch():
    x = images((6, 5, 5, 1)).astype(np.float32)

    def augment(seed=None):
        return [RandomFlip(seed=seed), RandomRotation(0.2, seed=seed), RandomTranslation(0.2, 0.2, seed=seed),
                RandomZoom(0.2, seed=seed)]

    # tinynet.set_random_seed seeds the unseeded layers; a layer's own seed= seeds its own generator
    np.testing.assert_array_equal(fit_and_predict(augment(), x, seed=3)[0][0], fit_and_predict(augment(), x, 3)[0][0])
    assert not np.allclose(fit_and_predict(augment(), x, seed=3)[0][0], fit_and_predict(augment(), x, 4)[0][0])
    np.testing.assert_array_equal(fit_and_predict(augment(5), x, seed=1)[0][0], fit_and_predict(augment(5), x, 2)[0][0])
    assert not np.allclose(fit_and_predict(augment(5), x)[0][0], fit_and_predict(augment(6), x)[0][0])


@pytest.mark.parametrize("fill_mode, expected", [
    # Keras's docs draw each mode on a row a b c d = 1 2 3 4; shifted 2 pixels right, the output reads
    # columns -2, -1, 0, 1 of the extended row.
    ("reflect", [2, 1, 1, 2]),        # d c b a | a b c d | d c b a
    ("constant", [7, 7, 1, 2]),       # k k k k | a b c d | k k k k   (k = fill_value)
    ("nearest", [1, 1, 1, 2]),        # a a a a | a b c d | d d d d
    ("wrap", [3, 4, 1, 2]),           # a b c d | a b c d | a b c d
])
def test_fill_modes_are_the_keras_docs_drawings(fill_mode, expected):
    row = np.array([1.0, 2, 3, 4], np.float32).reshape(1, 1, 4, 1)
    shift = RandomTranslation(0.0, (0.5, 0.5), fill_mode=fill_mode, fill_value=7.0)    # half of 4 columns: 2
    np.testing.assert_allclose(shift(row).ravel(), expected)


def test_interpolation_reads_between_pixels_or_the_nearest_one():
    # Shifted 0.3 pixel right, output column j reads input column j - 0.3 (between j - 1 and j).
    row = np.array([0.0, 10, 30, 60], np.float32).reshape(1, 1, 4, 1)
    bilinear = RandomTranslation(0.0, (0.075, 0.075), fill_mode="nearest")            # 0.075 * 4 = 0.3 pixel
    nearest = RandomTranslation(0.0, (0.075, 0.075), fill_mode="nearest", interpolation="nearest")
    np.testing.assert_allclose(bilinear(row).ravel(), [0, 0.3 * 0 + 0.7 * 10, 0.3 * 10 + 0.7 * 30,
                                                       0.3 * 30 + 0.7 * 60], rtol=1e-6)
    np.testing.assert_array_equal(nearest(row).ravel(), [0, 10, 30, 60])               # j - 0.3 rounds to j


def test_factors_are_fractions_drawn_over_the_whole_range():
    # factor=0.1: angles in [-0.1, 0.1] * 2 pi; translation factors: fractions of the height and width;
    # zoom factors: 1 + z, z in [lower, upper], one z for both axes when width_factor is None.
    H, W, N = 20, 10, 4000
    A, _ = RandomRotation(0.1, seed=0).transform(N, H, W)
    angle = np.arctan2(A[:, 0, 1], A[:, 0, 0])
    assert np.abs(angle).max() <= 0.2 * np.pi and np.abs(angle).max() > 0.199 * np.pi and angle.min() < 0
    _, t = RandomTranslation((-0.2, 0.1), 0.3, seed=0).transform(N, H, W)
    dy, dx = -t[:, 0], -t[:, 1]
    assert -0.2 * H <= dy.min() < -0.199 * H and 0.099 * H < dy.max() <= 0.1 * H
    assert -0.3 * W <= dx.min() < -0.299 * W and 0.299 * W < dx.max() <= 0.3 * W
    A, t = RandomZoom((-0.3, 0.2), seed=0).transform(N, H, W)
    np.testing.assert_array_equal(A[:, 0, 0], A[:, 1, 1])
    assert 0.7 <= A[:, 0, 0].min() < 0.701 and 1.199 < A[:, 0, 0].max() <= 1.2
    centre = np.array([(H - 1) / 2, (W - 1) / 2])                                      # the centre stays put
    np.testing.assert_allclose(np.einsum("nij,j->ni", A, centre) + t, np.broadcast_to(centre, (N, 2)))


@pytest.mark.parametrize("impl", ["fast", "naive"])
def test_both_impls_augment_alike(impl):
    # The layers call the sampling op through the registry: the textbook warp and its fast twin agree.
    x = images((3, 7, 6, 2)).astype(np.float32)
    outputs = []
    for which in ("naive", impl):
        layer = RandomRotation(0.2, seed=3, fill_mode="constant")
        layer.impl = which
        outputs.append(layer(x))
    np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-5)
