"""Keras 3's image preprocessing layers: Rescaling and Resizing, and the random augmentations RandomFlip,
RandomRotation, RandomTranslation and RandomZoom.

The random layers change each training batch (a new flip, angle, shift or zoom per image) and are
the identity in inference, so ``predict`` and ``evaluate`` see the images as they are. Called
directly (``layer(images)``) they augment, as Keras's do (their ``training`` defaults to True there);
inside a model they follow the model (``fit`` trains, ``predict`` does not).

A rotation, a shift and a zoom all move where each output pixel reads the input,
``(r, c) = A @ (i, j) + t``, and read it by bilinear interpolation: one op does all three
(``tinynet/core/ops/image.py``), and its backward (the transpose of the sampling) is their backward.
Matrices follow Keras 3's, about the image centre ((H - 1) / 2, (W - 1) / 2), in (row, column) order.
"""
import math

import numpy as np

from ..checks import check_choice, check_float, check_int, invalid, is_real
from ..ops.image import check_fill_mode, check_interpolation
from ..tensor import KerasTensor
from .base import Layer
from .core import check_data_format
from .noise import RandomLayer
from .reshaping import ReshapingLayer, check_image_shape


def as_float(x):
    """Images as floats: integer pixels (uint8) become float32, as Keras's preprocessing layers output floats."""
    return x if x.dtype.kind == "f" else x.astype(np.float32)


class Rescaling(Layer):
    """``y = x * scale + offset``: ``Rescaling(1 / 255)`` takes 0-255 pixels to [0, 1], ``Rescaling(1 / 127.5,
    offset=-1)`` to [-1, 1]. Active in training and inference. ``scale`` and ``offset`` may be numbers or
    arrays that broadcast over a sample (one per channel). Backward: ``dx = dout * scale``. No cache.
    """

    equation = "y = x * scale + offset"

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = self._check(scale, "scale"), self._check(offset, "offset")

    def _check(self, value, argument):
        array = np.asarray(value) if isinstance(value, (list, tuple, np.ndarray)) or is_real(value) else None
        if array is None or array.dtype.kind not in "iuf" or not np.isfinite(array).all():
            raise invalid(argument, "a finite number (or an array of them, one per channel)", value, self.name)
        return float(array) if array.ndim == 0 else array.astype(np.float32)

    def forward(self, x, training=False):
        # (a Python float or a float32 array keeps float32 images float32, and float64 ones float64)
        return as_float(x) * self.scale + self.offset

    def backward(self, dout):
        return dout * self.scale                              # dx = dout * scale

    def get_config(self):
        listed = {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in
                  (("scale", self.scale), ("offset", self.offset))}
        return {**super().get_config(), **listed}


class Resizing(ReshapingLayer):
    """Resize images to ``(height, width)`` as ``tf.image.resize`` does (pixel centres aligned, no antialiasing),
    in training and inference. ``interpolation``: 'bilinear' (default) or 'nearest'. Backward: the
    transpose of the sampling (``ops/image.py``). Cache: the op's ``WarpCache``.
    """

    equation = "y[n,i,j] = bilinear read of x at ((i + 0.5) H / height - 0.5, (j + 0.5) W / width - 0.5)"

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False, pad_to_aspect_ratio=False,
                 data_format=None, **kwargs):
        super().__init__(**kwargs)
        check_data_format(data_format, self.name)
        self.height = check_int(height, "height", 1, owner=self.name)
        self.width = check_int(width, "width", 1, owner=self.name)
        self.interpolation = check_interpolation(interpolation, self.name)
        for argument, value in (("crop_to_aspect_ratio", crop_to_aspect_ratio),
                                ("pad_to_aspect_ratio", pad_to_aspect_ratio)):
            if value:
                raise ValueError(f"Layer '{self.name}': {argument}=True is not implemented in tinynet (the image is "
                                 f"resized to the new size, whatever its aspect ratio). Received: {argument}={value!r}")

    def compute_output_shape(self, input_shape):
        check_image_shape(self, input_shape)
        return self.height, self.width, input_shape[-1]

    def forward(self, x, training=False):
        y, self.cache = self.ops.resize(as_float(x), self.height, self.width, self.interpolation)
        return y

    def backward(self, dout):
        return self.ops.warp_backward(dout, self.cache)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation}


class _RandomAugmentation(RandomLayer):
    """A random augmentation: on in training (and in direct calls, Keras's default), the identity in inference."""

    def __call__(self, x, training=None):
        # Called directly, it augments (Keras's default training=True); in a functional graph the call fixes
        # nothing, so the model's flag decides (fit: on; predict, evaluate: off), as in Keras 3.
        if training is None and not isinstance(x, KerasTensor):
            training = True
        return super().__call__(x, training=training)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        check_image_shape(self, input_shape)
        return tuple(input_shape)


class RandomFlip(_RandomAugmentation):
    """Flip each image left-right and/or upside down, each with probability 1/2, in training.

        'horizontal': y[n, i, j] = x[n, i, W-1-j] if flip[n] else x[n, i, j]      ('vertical': rows reversed)

    A flip only moves pixels, and reversing the order twice is the identity, so backward flips
    ``dout`` the same way. Cache: (which images were flipped left-right, which upside down) or None.
    """

    equation = "y = x[:, :, ::-1] or x[:, ::-1, :] or x, at random (training); y = x (inference)"
    MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        check_data_format(data_format, self.name)
        self.mode = check_choice(mode, "mode", self.MODES, self.name)

    def forward(self, x, training=False):
        self.cache = None
        if not training:
            return x
        N = x.shape[0]
        left_right = (self.generator().random(N) < 0.5) & (self.mode != "vertical")
        up_down = (self.generator().random(N) < 0.5) & (self.mode != "horizontal")
        self.cache = (left_right, up_down)
        return self._flip(as_float(x), left_right, up_down)

    @staticmethod
    def _flip(x, left_right, up_down):
        x = np.where(left_right[:, None, None, None], x[:, :, ::-1, :], x)
        return np.where(up_down[:, None, None, None], x[:, ::-1, :, :], x)

    def backward(self, dout):
        if self.cache is None:
            return dout
        return self._flip(dout, *self.cache)                 # dx = the same flips applied to dout

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class _RandomWarp(_RandomAugmentation):
    """A random affine move of each image, read by the sampling op: ``y = S x (+ fill)``, ``dx = S^T dout``.
    Subclasses draw ``A, t`` for a batch (``transform``); the cache is the op's ``WarpCache``, or None."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(seed=seed, **kwargs)
        check_data_format(data_format, self.name)
        self.fill_mode = check_fill_mode(fill_mode, self.name)
        self.interpolation = check_interpolation(interpolation, self.name)
        self.fill_value = check_float(fill_value, "fill_value", owner=self.name)

    def forward(self, x, training=False):
        self.cache = None
        if not training:
            return x
        N, H, W, _ = x.shape
        A, t = self.transform(N, H, W)
        y, self.cache = self.ops.warp(as_float(x), A, t, fill_mode=self.fill_mode, fill_value=self.fill_value,
                             interpolation=self.interpolation)
        return y

    def backward(self, dout):
        return dout if self.cache is None else self.ops.warp_backward(dout, self.cache)   # dx = S^T dout

    def draw(self, bounds, N):
        """N numbers drawn uniformly in [lower, upper]."""
        lower, upper = bounds
        return self.generator().uniform(lower, upper, N)

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "fill_value": self.fill_value}


def about_centre(A, H, W):
    """``t`` that makes ``(r, c) = A @ (i, j) + t`` keep the image centre in place: t = centre - A @ centre."""
    centre = np.array([(H - 1) / 2, (W - 1) / 2])
    return centre - A @ centre


def check_factor(value, argument, owner, low=-math.inf, high=math.inf):
    """Keras's factor: a number f means (-|f|, |f|), a pair (lower, upper) itself; both within [low, high]."""
    if is_real(value):
        bounds = (-abs(float(value)), abs(float(value)))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(is_real(v) for v in value):
        bounds = (float(value[0]), float(value[1]))
    else:
        bounds = None
    if bounds is None or not all(low <= b <= high for b in bounds) or bounds[0] > bounds[1]:
        where = "" if (low, high) == (-math.inf, math.inf) else f" within [{low:g}, {high:g}]"
        raise invalid(argument, f"a number or a pair (lower, upper) with lower <= upper{where}", value, owner)
    return bounds


class RandomRotation(_RandomWarp):
    """Rotate each image about its centre by a random angle in [lower, upper] * 2 pi (``factor=0.1``: up to
    36 degrees either way; positive angles turn counter-clockwise), in training.

    Output pixel (i, j) reads the input at the centre plus the rotated offset, in (row, column) order:

        A = [[cos a, sin a], [-sin a, cos a]]        t = centre - A @ centre
    """

    equation = "y[n,i,j] = x[n] read at R(angle_n) ((i, j) - centre) + centre (training); y = x (inference)"

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = check_factor(factor, "factor", self.name)

    def transform(self, N, H, W):
        angle = 2 * np.pi * self.draw(self.factor, N)
        cos, sin = np.cos(angle), np.sin(angle)
        A = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], 1)     # (N, 2, 2)
        return A, about_centre(A, H, W)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class RandomTranslation(_RandomWarp):
    """Shift each image by a random fraction of its height and width, in training: ``height_factor=0.1`` moves
    it up to 10 % of its height up or down (positive: down), ``width_factor`` likewise (positive: right).

        (r, c) = (i - dy, j - dx)            A = I,  t = (-dy, -dx)
    """

    equation = "y[n,i,j] = x[n, i - dy_n, j - dx_n] (training); y = x (inference)"

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = check_factor(height_factor, "height_factor", self.name, -1, 1)
        self.width_factor = check_factor(width_factor, "width_factor", self.name, -1, 1)

    def transform(self, N, H, W):
        dy = self.draw(self.height_factor, N) * H
        dx = self.draw(self.width_factor, N) * W
        A = np.broadcast_to(np.eye(2), (N, 2, 2))
        return A, -np.stack([dy, dx], -1)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


class RandomZoom(_RandomWarp):
    """Zoom each image about its centre, in training: ``height_factor=0.2`` scales by 1 + z, z in [-0.2, 0.2];
    a positive z zooms OUT (each output pixel reads farther from the centre), a negative one in.
    ``width_factor=None`` keeps the aspect ratio (the same z for both axes).

        (r, c) = centre + (1 + z_h, 1 + z_w) * ((i, j) - centre)      A = diag(1 + z_h, 1 + z_w)
    """

    equation = "y[n,i,j] = x[n] read at centre + (1 + z_n) ((i, j) - centre) (training); y = x (inference)"

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = check_factor(height_factor, "height_factor", self.name, -1, math.inf)
        self.width_factor = None if width_factor is None else check_factor(width_factor, "width_factor", self.name,
                                                                           -1, math.inf)

    def transform(self, N, H, W):
        zoom_h = 1 + self.draw(self.height_factor, N)
        zoom_w = zoom_h if self.width_factor is None else 1 + self.draw(self.width_factor, N)
        A = np.zeros((N, 2, 2))
        A[:, 0, 0], A[:, 1, 1] = zoom_h, zoom_w
        return A, about_centre(A, H, W)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}
