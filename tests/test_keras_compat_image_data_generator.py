"""Keras 2's ImageDataGenerator: labels stay with their images, Keras's geometry and options, a Sequence for fit."""
import numpy as np
import pytest

import tinynet
from tinynet.core.data_adapter import EpochIterator
from tinynet.keras.preprocessing.image import ImageDataGenerator
from tinynet.layers import Dense, Flatten


def labelled_images(n=20, size=8):
    """Image i is the constant label(i): any move with fill_mode='nearest' keeps it constant, so the image
    still says which label it must be paired with."""
    labels = np.arange(n) % 10
    return np.broadcast_to(labels[:, None, None, None], (n, size, size, 1)).astype(np.float32), labels


class Extreme:
    """A generator stand-in whose draws are all at the top of their range: the move is known exactly."""

    def uniform(self, low, high, size=None):
        return np.broadcast_to(np.asarray(high, np.float64), size if size is not None else ()).copy()

    def random(self, size=None):
        return np.zeros(size)                                 # < 0.5: every flip happens

    def integers(self, low, high, size=None):
        return np.full(size, high - 1)

    def choice(self, values, size=None):
        return np.full(size, np.max(values))


def test_every_batch_keeps_each_label_with_its_image():
    x, y = labelled_images(50)
    datagen = ImageDataGenerator(rotation_range=30, width_shift_range=0.2, height_shift_range=0.2, shear_range=10,
                                 zoom_range=0.2, horizontal_flip=True, fill_mode="nearest")
    flow = datagen.flow(x, y, batch_size=16)
    assert len(flow) == 4
    for xb, yb in (flow[i] for i in range(len(flow))):
        assert xb.dtype == np.float32 and xb.shape[1:] == (8, 8, 1)
        np.testing.assert_allclose(xb, np.broadcast_to(yb[:, None, None, None], xb.shape), atol=1e-5)
    seen = np.concatenate([flow[i][1] for i in range(len(flow))])
    assert sorted(seen.tolist()) == sorted(y.tolist())             # an epoch: every sample once, shuffled
    assert not np.array_equal(seen, y)


def test_the_geometry_is_kerass_matrix_about_the_centre():
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 3)).astype(np.float32)
    turn = ImageDataGenerator(rotation_range=90)                  # theta = +90: Keras's matrix turns the image clockwise
    np.testing.assert_allclose(turn.augment(x, Extreme()), np.rot90(x, -1, axes=(1, 2)), atol=1e-5)
    shift = ImageDataGenerator(width_shift_range=2, fill_mode="constant", cval=-1)      # whole pixels: 1 here
    shifted = shift.augment(x, Extreme())
    np.testing.assert_array_equal(shifted[:, :, :4], x[:, :, 1:])  # output column j reads input column j + 1
    np.testing.assert_array_equal(shifted[:, :, 4], -1)
    fraction = ImageDataGenerator(height_shift_range=0.4, fill_mode="wrap").augment(x, Extreme())  # 0.4 * 5 = 2 rows
    np.testing.assert_allclose(fraction, np.roll(x, -2, axis=1), atol=1e-6)
    flips = ImageDataGenerator(horizontal_flip=True, vertical_flip=True).augment(x, Extreme())
    np.testing.assert_array_equal(flips, x[:, ::-1, ::-1])
    zoom = ImageDataGenerator(zoom_range=(2.0, 2.0), fill_mode="constant").augment(np.ones((1, 6, 6, 1)), Extreme())
    assert zoom[0, 0, 0, 0] == 0 and zoom[0, 2:4, 2:4, 0].min() == 1  # a factor above 1 zooms out


def test_the_move_is_kerass_product_of_four_3x3_matrices():
    # Keras's apply_affine_transform: rotation @ shift @ shear @ zoom, then conjugated by the move to the centre.
    datagen = ImageDataGenerator(rotation_range=40, width_shift_range=0.2, height_shift_range=0.3, shear_range=25,
                                 zoom_range=(0.7, 1.4))
    N, H, W = 6, 9, 7
    A, t = datagen.random_matrices(N, H, W, np.random.default_rng(3))
    draws = np.random.default_rng(3)                             # the same draws, in the same order
    theta = np.deg2rad(draws.uniform(-40, 40, N))
    tx, ty = draws.uniform(-0.3, 0.3, N) * H, draws.uniform(-0.2, 0.2, N) * W
    shear = np.deg2rad(draws.uniform(-25, 25, N))
    zx, zy = draws.uniform(0.7, 1.4, (2, N))
    centre = np.array([[1, 0, H / 2 - 0.5], [0, 1, W / 2 - 0.5], [0, 0, 1]])
    for n in range(N):
        c, s = np.cos(theta[n]), np.sin(theta[n])
        move = (np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ np.array([[1, 0, tx[n]], [0, 1, ty[n]], [0, 0, 1]])
                @ np.array([[1, -np.sin(shear[n]), 0], [0, np.cos(shear[n]), 0], [0, 0, 1]])
                @ np.diag([zx[n], zy[n], 1]))
        expected = centre @ move @ np.linalg.inv(centre)
        np.testing.assert_allclose(A[n], expected[:2, :2], atol=1e-12)
        np.testing.assert_allclose(t[n], expected[:2, 2], atol=1e-12)


def test_standardize_in_kerass_order():
    x = np.full((4, 3, 3, 2), 255.0, np.float32)
    x[:, :, :, 1] = 0
    datagen = ImageDataGenerator(rescale=1 / 255, featurewise_center=True, featurewise_std_normalization=True)
    with pytest.raises(ValueError, match=r"hasn't been fit on any training data. Fit it first by calling `.fit"):
        datagen.flow(x, batch_size=4)[0]
    datagen.fit(x)
    np.testing.assert_allclose(datagen.mean.ravel(), [1.0, 0.0])     # statistics of the rescaled data
    batch = datagen.flow(x, batch_size=4, shuffle=False)[0]          # no y: the batch is the images alone
    np.testing.assert_allclose(batch, 0, atol=1e-6)
    sample = ImageDataGenerator(samplewise_center=True, samplewise_std_normalization=True, preprocessing_function=
                                lambda image: image * 2).flow(np.arange(16.0).reshape(1, 4, 4, 1), batch_size=1)[0]
    np.testing.assert_allclose([sample.mean(), sample.std()], [0, 1], atol=1e-5)


def test_flow_is_a_sequence_and_an_endless_iterator():
    x, y = labelled_images(10)
    flow = ImageDataGenerator().flow(x, y, batch_size=4, sample_weight=np.arange(10.0), seed=1)
    xb, yb, wb = flow[2]
    assert len(xb) == 2 and np.array_equal(wb % 10, yb)           # sample i: label i % 10, weight i
    with pytest.raises(ValueError, match="Asked to retrieve element 3, but the Sequence has length 3"):
        flow[3]
    assert sum(len(next(flow)[0]) for _ in range(6)) == 20         # 2 epochs of 4 + 4 + 2, as Keras loops forever
    assert [len(b[0]) for _, b in EpochIterator(flow).epoch()] == [4, 4, 2]


def test_validation_split_subsets_are_kerass_first_part_for_validation():
    x, y = labelled_images(40)
    datagen = ImageDataGenerator(validation_split=0.25)
    validation = datagen.flow(x, y, batch_size=40, subset="validation", shuffle=False)
    training = datagen.flow(x, y, batch_size=40, subset="training", shuffle=False)
    np.testing.assert_array_equal(validation[0][1], y[:10])
    np.testing.assert_array_equal(training[0][1], y[10:])
    with pytest.raises(ValueError, match="different number of classes after the split"):
        datagen.flow(x, np.sort(y), subset="training")


def test_a_model_trains_on_the_augmented_batches():
    x, y = labelled_images(32)
    model = tinynet.Sequential([Flatten(input_shape=(8, 8, 1)), Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    datagen = ImageDataGenerator(rotation_range=10, zoom_range=0.1, rescale=1 / 9)
    losses = [model.train_on_batch(xb, yb) for _ in range(3) for _, (xb, yb, _) in
              EpochIterator(datagen.flow(x, y, batch_size=8)).epoch()]
    assert len(losses) == 12 and losses[-1] < losses[0]


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(zca_whitening=True), ValueError, "`zca_whitening` is not implemented"),
    (dict(brightness_range=(0.5, 1.5)), ValueError, "`brightness_range` is not implemented"),
    (dict(fill_mode="mirror"), ValueError, r"`fill_mode`, expected one of \('constant', 'nearest', 'reflect', 'wrap'\)"),
    (dict(zoom_range=(1.2, 0.8)), ValueError, r"`zoom_range`"),
    (dict(rotation_range=-5), ValueError, r"`rotation_range`"),
    (dict(data_format="channels_first"), ValueError, "channels-last"),
])
def test_settings_it_does_not_have_are_refused_by_name(kwargs, error, message):
    with pytest.raises(error, match=message):
        ImageDataGenerator(**kwargs)


def test_directory_readers_say_they_are_missing():
    with pytest.raises(NotImplementedError, match="flow_from_directory is not implemented"):
        ImageDataGenerator().flow_from_directory("data/train")
    with pytest.raises(ValueError, match="should have rank 4"):
        ImageDataGenerator().flow(np.zeros((3, 8, 8)), np.zeros(3))
