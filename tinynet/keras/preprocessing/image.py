"""Keras 2's ``ImageDataGenerator``: random rotations, shifts, shears, zooms and flips of batches of images.

    datagen = ImageDataGenerator(rotation_range=10, width_shift_range=0.1, height_shift_range=0.1,
                                 zoom_range=0.1, horizontal_flip=True, rescale=1 / 255)
    model.fit(datagen.flow(x_train, y_train, batch_size=64), epochs=10)

``flow`` returns a ``NumpyArrayIterator``, a ``keras.utils.Sequence`` of batches: each batch is drawn
anew, so every epoch sees other versions of the images, while each label stays with its image.

The geometry is Keras's, in (row, column) coordinates about the image centre (h/2 - 0.5, w/2 - 0.5):
output pixel p reads the input at ``T p``, with ``T = rotation @ shift @ shear @ zoom`` (angles in
degrees, shifts as fractions of the size when below 1, else pixels; ``zoom_range=z`` draws each axis's
factor in [1 - z, 1 + z], factors above 1 zooming out), read by bilinear interpolation
(``interpolation_order=1``) with ``fill_mode`` outside the image. That read is the sampling op of
``tinynet/core/ops/image.py`` (its fast twin, through the op registry), which the Random* layers use too:
one call per batch, no loop over images.
After the move: ``channel_shift_range``, the flips, then ``standardize`` (``preprocessing_function``,
``rescale``, the sample-wise then feature-wise centring and scaling), in Keras's order.
"""
import math

import numpy as np

from ...core.checks import check_bool, check_callable, check_choice, check_float, check_int, invalid, is_int, is_real
from ...core import ops
from ...core.utils import rng
from ..image_utils import array_to_img, img_to_array, save_img  # noqa: F401  (Keras 2's home for them)
from ..py_dataset import PyDataset

FILL_MODES = ("constant", "nearest", "reflect", "wrap")


def _check_shift(value, argument):
    """Keras's shift ranges: a float (a fraction of the size below 1, pixels from 1 on), an int (whole pixels),
    or a list of values to choose from."""
    if is_real(value) and value >= 0:
        return value
    if isinstance(value, (list, tuple, np.ndarray)) and len(value) and all(is_real(v) for v in value):
        return np.asarray(value, dtype=np.float64)
    raise invalid(argument, "a non-negative number or a list of numbers", value, "ImageDataGenerator")


def _check_zoom(value):
    if is_real(value) and value >= 0:
        return 1 - float(value), 1 + float(value)
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(is_real(v) for v in value) and 0 <= value[0] <= \
            value[1]:
        return float(value[0]), float(value[1])
    raise invalid("zoom_range", "a non-negative float or a pair [lower, upper]", value, "ImageDataGenerator")


class ImageDataGenerator:
    """Batches of randomly moved, flipped and rescaled copies of images, as Keras 2's ``ImageDataGenerator``.

    Implemented: ``rotation_range``, ``width_shift_range``, ``height_shift_range``, ``shear_range``,
    ``zoom_range``, ``channel_shift_range``, ``fill_mode``, ``cval``, ``horizontal_flip``, ``vertical_flip``,
    ``rescale``, ``preprocessing_function``, ``featurewise_center`` / ``featurewise_std_normalization``
    (after ``fit(x)``), ``samplewise_center`` / ``samplewise_std_normalization``, ``validation_split``
    (with ``flow(..., subset=)``), ``interpolation_order`` 0 or 1, ``dtype``. Refused with a message:
    ``zca_whitening``, ``brightness_range``, ``flow_from_directory`` / ``flow_from_dataframe``.
    """

    def __init__(self, featurewise_center=False, samplewise_center=False, featurewise_std_normalization=False,
                 samplewise_std_normalization=False, zca_whitening=False, zca_epsilon=1e-6, rotation_range=0,
                 width_shift_range=0.0, height_shift_range=0.0, brightness_range=None, shear_range=0.0,
                 zoom_range=0.0, channel_shift_range=0.0, fill_mode="nearest", cval=0.0, horizontal_flip=False,
                 vertical_flip=False, rescale=None, preprocessing_function=None, data_format=None,
                 validation_split=0.0, interpolation_order=1, dtype=None):
        owner = "ImageDataGenerator"
        for argument, value in (("zca_whitening", zca_whitening), ("brightness_range", brightness_range)):
            if value:
                raise ValueError(f"{owner}: `{argument}` is not implemented in tinynet. Received: {argument}={value!r}")
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{owner}: tinynet works on channels-last images (N, H, W, C) only. Received: "
                             f"data_format={data_format!r}")
        self.featurewise_center = check_bool(featurewise_center, "featurewise_center", owner)
        self.samplewise_center = check_bool(samplewise_center, "samplewise_center", owner)
        self.featurewise_std_normalization = check_bool(featurewise_std_normalization,
                                                        "featurewise_std_normalization", owner)
        self.samplewise_std_normalization = check_bool(samplewise_std_normalization, "samplewise_std_normalization",
                                                       owner)
        self.rotation_range = check_float(rotation_range, "rotation_range", 0, owner=owner)
        self.width_shift_range = _check_shift(width_shift_range, "width_shift_range")
        self.height_shift_range = _check_shift(height_shift_range, "height_shift_range")
        self.shear_range = check_float(shear_range, "shear_range", 0, owner=owner)
        self.zoom_range = _check_zoom(zoom_range)
        self.channel_shift_range = check_float(channel_shift_range, "channel_shift_range", 0, owner=owner)
        self.fill_mode = check_choice(fill_mode, "fill_mode", FILL_MODES, owner)
        self.cval = check_float(cval, "cval", owner=owner)
        self.horizontal_flip = check_bool(horizontal_flip, "horizontal_flip", owner)
        self.vertical_flip = check_bool(vertical_flip, "vertical_flip", owner)
        self.rescale = None if rescale in (None, 0) else check_float(rescale, "rescale", owner=owner)
        self.preprocessing_function = None if preprocessing_function is None else check_callable(
            preprocessing_function, "preprocessing_function", owner=owner)
        self.validation_split = check_float(validation_split, "validation_split", 0, 1, max_open=True, owner=owner)
        self.interpolation_order = check_int(interpolation_order, "interpolation_order", 0, 1, owner=owner)
        self.dtype = np.dtype(dtype or "float32")
        self.mean = self.std = None

    # ----- the random move ---------------------------------------------------------------------------
    def _shift(self, shift_range, size, N, generator):
        if isinstance(shift_range, np.ndarray):                     # a choice of values, either sign
            shift = generator.choice(shift_range, N) * generator.choice([-1, 1], N)
        elif is_int(shift_range):                                   # whole pixels in (-range, range)
            shift = generator.integers(-shift_range + 1, shift_range, N) if shift_range else np.zeros(N)
        else:
            shift = generator.uniform(-shift_range, shift_range, N)
        return shift * size if np.max(np.abs(shift_range)) < 1 else shift

    def random_matrices(self, N, H, W, generator):
        """(A, t) of N random moves, or None when none is asked for: input (r, c) = A @ output (i, j) + t."""
        if not (self.rotation_range or np.any(self.width_shift_range) or np.any(self.height_shift_range)
                or self.shear_range or self.zoom_range != (1.0, 1.0)):
            return None
        theta = np.deg2rad(generator.uniform(-self.rotation_range, self.rotation_range, N))
        tx = self._shift(self.height_shift_range, H, N, generator)       # Keras's tx moves rows
        ty = self._shift(self.width_shift_range, W, N, generator)
        shear = np.deg2rad(generator.uniform(-self.shear_range, self.shear_range, N))
        zx, zy = (generator.uniform(*self.zoom_range, (2, N)) if self.zoom_range != (1.0, 1.0) else np.ones((2, N)))
        # move = rotation @ shift @ shearing @ zoom (3x3, Keras's order), multiplied out: its 2x2 part is
        # rotation @ shearing @ zoom, its translation rotation @ (tx, ty) (shearing and zoom do not move the origin).
        cos, sin = np.cos(theta), np.sin(theta)
        m01 = cos * -np.sin(shear) + -sin * np.cos(shear)         # (rotation @ shearing)[0, 1]
        m11 = sin * -np.sin(shear) + cos * np.cos(shear)          # (rotation @ shearing)[1, 1]
        A = np.stack([np.stack([cos * zx, m01 * zy], -1), np.stack([sin * zx, m11 * zy], -1)], 1)
        moved = np.stack([cos * tx + -sin * ty, sin * tx + cos * ty], -1)
        centre = np.array([H / 2 - 0.5, W / 2 - 0.5])               # about the centre: T = O @ move @ O^-1
        t = moved + centre - A @ centre
        return A, t

    def augment(self, x, generator=None):
        """Random versions of a batch of images ``x: (N, H, W, C)`` (float ``dtype``): move, channel shift, flips."""
        generator = rng() if generator is None else generator
        x = np.asarray(x, dtype=self.dtype)
        N, H, W, _ = x.shape
        moves = self.random_matrices(N, H, W, generator)
        if moves is not None:
            x, _ = ops.get("fast").warp(x, *moves, fill_mode=self.fill_mode, fill_value=self.cval,
                                        interpolation="bilinear" if self.interpolation_order == 1 else "nearest")
        if self.channel_shift_range:
            # Keras: one intensity per image added to every channel, clipped to the image's own range.
            shift = generator.uniform(-self.channel_shift_range, self.channel_shift_range, (N, 1, 1, 1))
            low, high = x.min(axis=(1, 2, 3), keepdims=True), x.max(axis=(1, 2, 3), keepdims=True)
            x = np.clip(x + shift, low, high).astype(self.dtype)
        if self.horizontal_flip:
            x = np.where((generator.random(N) < 0.5)[:, None, None, None], x[:, :, ::-1], x)
        if self.vertical_flip:
            x = np.where((generator.random(N) < 0.5)[:, None, None, None], x[:, ::-1], x)
        return x

    def standardize(self, x):
        """``preprocessing_function``, ``rescale``, then the sample-wise and feature-wise normalizations (Keras's order)."""
        x = np.asarray(x, dtype=self.dtype)
        if self.preprocessing_function is not None:
            x = np.stack([np.asarray(self.preprocessing_function(image), dtype=self.dtype) for image in x])
        if self.rescale:
            x = x * self.dtype.type(self.rescale)
        axes = tuple(range(1, x.ndim))
        if self.samplewise_center:
            x = x - x.mean(axis=axes, keepdims=True)
        if self.samplewise_std_normalization:
            x = x / (x.std(axis=axes, keepdims=True) + 1e-6)
        if self.featurewise_center or self.featurewise_std_normalization:
            if self.mean is None:
                raise ValueError("This ImageDataGenerator specifies `featurewise_center` or "
                                 "`featurewise_std_normalization`, but it hasn't been fit on any training data. Fit "
                                 "it first by calling `.fit(numpy_data)`.")
            if self.featurewise_center:
                x = x - self.mean
            if self.featurewise_std_normalization:
                x = x / (self.std + 1e-6)
        return x.astype(self.dtype, copy=False)

    def random_transform(self, x, seed=None):
        """One randomly moved and flipped copy of the image ``x: (H, W, C)``."""
        generator = rng() if seed is None else np.random.default_rng(seed)
        return self.augment(np.asarray(x)[None], generator)[0]

    # ----- statistics and iterators -----------------------------------------------------------------
    def fit(self, x, augment=False, rounds=1, seed=None):
        """The per-channel mean and standard deviation of ``x`` (N, H, W, C), for the feature-wise options
        (with ``augment=True``, of ``rounds`` augmented copies)."""
        x = _check_images(x)
        if augment:
            generator = rng() if seed is None else np.random.default_rng(seed)
            x = np.concatenate([self.augment(x, generator) for _ in range(check_int(rounds, "rounds", 1))])
        x = np.asarray(x, dtype=np.float64)
        if self.rescale:
            x = x * self.rescale
        self.mean = x.mean(axis=(0, 1, 2)).reshape(1, 1, -1).astype(self.dtype)
        self.std = x.std(axis=(0, 1, 2)).reshape(1, 1, -1).astype(self.dtype)

    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None, save_to_dir=None,
             save_prefix="", save_format="png", ignore_class_split=False, subset=None):
        """A ``NumpyArrayIterator`` of augmented batches ``(x, y)`` (``x`` alone without y, ``(x, y, w)`` with
        ``sample_weight``)."""
        if save_to_dir is not None:
            raise ValueError("ImageDataGenerator.flow: `save_to_dir` (writing the augmented images as files) is not "
                             "implemented in tinynet.")
        return NumpyArrayIterator(x, y, self, batch_size, shuffle, sample_weight, seed, subset, ignore_class_split)

    def flow_from_directory(self, *args, **kwargs):
        raise NotImplementedError("ImageDataGenerator.flow_from_directory is not implemented in tinynet (it reads "
                                  "image files). Load the images into an array and use .flow(x, y).")

    def flow_from_dataframe(self, *args, **kwargs):
        raise NotImplementedError("ImageDataGenerator.flow_from_dataframe is not implemented in tinynet (it reads "
                                  "image files). Load the images into an array and use .flow(x, y).")


def _check_images(x):
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"Input data in `NumpyArrayIterator` should have rank 4 (N, height, width, channels). "
                         f"Received: an array of shape {x.shape}")
    return x


class NumpyArrayIterator(PyDataset):
    """Batches of augmented copies of ``x`` with the matching rows of ``y`` (and ``sample_weight``).

    A ``Sequence``: ``len(it)`` batches per epoch, ``it[i]`` batch i of this epoch's order (a new random order
    after each ``on_epoch_end`` when ``shuffle``). Also an endless iterator, as Keras's:
    ``next(it)`` gives batch after batch, epoch after epoch.
    """

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=True, sample_weight=None, seed=None,
                 subset=None, ignore_class_split=False):
        super().__init__()
        x = _check_images(x)
        self.batch_size = check_int(batch_size, "batch_size", 1)
        self.shuffle = check_bool(shuffle, "shuffle")
        self.image_data_generator = image_data_generator
        y = None if y is None else np.asarray(y)
        w = None if sample_weight is None else np.asarray(sample_weight)
        for name, value in (("y", y), ("sample_weight", w)):
            if value is not None and len(value) != len(x):
                raise ValueError(f"`x` (images tensor) and `{name}` should have the same length. Found: "
                                 f"x.shape = {x.shape}, {name}.shape = {value.shape}")
        if subset is not None:
            x, y, w = self._subset(subset, x, y, w, image_data_generator.validation_split, ignore_class_split)
        self.x, self.y, self.sample_weight = x, y, w
        self.n = len(x)
        self.generator = rng() if seed is None else np.random.default_rng(check_int(seed, "seed", 0))
        self.index_array = None
        self.batch_index = 0

    @staticmethod
    def _subset(subset, x, y, w, validation_split, ignore_class_split):
        """Keras's split: the FIRST ``validation_split`` of the samples are 'validation', the rest 'training'."""
        check_choice(subset, "subset", ("training", "validation"), "flow")
        if not validation_split:
            raise ValueError("flow(subset=...) needs ImageDataGenerator(validation_split=...) to be set.")
        split = int(len(x) * validation_split)
        if (y is not None and not ignore_class_split and
                not np.array_equal(np.unique(y[:split]), np.unique(y[split:]))):
            raise ValueError("Training and validation subsets have different number of classes after the split. If "
                             "your numpy arrays are sorted by the label, you might want to shuffle them.")
        rows = slice(0, split) if subset == "validation" else slice(split, None)
        return x[rows], None if y is None else y[rows], None if w is None else w[rows]

    def __len__(self):
        return math.ceil(self.n / self.batch_size)

    def _set_index_array(self):
        self.index_array = self.generator.permutation(self.n) if self.shuffle else np.arange(self.n)

    def on_epoch_end(self):
        self._set_index_array()

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise ValueError(f"Asked to retrieve element {index}, but the Sequence has length {len(self)}")
        if self.index_array is None:
            self._set_index_array()
        rows = self.index_array[self.batch_size * index:self.batch_size * (index + 1)]
        return self._batch(rows)

    def _batch(self, rows):
        images = self.image_data_generator.augment(self.x[rows], self.generator)
        batch = (self.image_data_generator.standardize(images),)
        if self.y is not None:
            batch += (self.y[rows],)
        if self.sample_weight is not None:
            batch += (self.sample_weight[rows],)
        return batch[0] if len(batch) == 1 else batch

    def __iter__(self):
        return self

    def __next__(self):
        if self.batch_index == 0:
            self._set_index_array()
        index = self.batch_index
        self.batch_index = (self.batch_index + 1) % len(self)
        rows = self.index_array[self.batch_size * index:self.batch_size * (index + 1)]
        return self._batch(rows)


__all__ = ["ImageDataGenerator", "NumpyArrayIterator", "array_to_img", "img_to_array", "save_img"]
