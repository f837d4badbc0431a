"""Layers that move values without mixing them: ZeroPadding2D, Cropping2D, UpSampling2D, RepeatVector, Permute.

Each output value is a copy of one input value (or a zero), so each backward sends every gradient
back to the value it was copied from, adding where one input was copied several times.
(``UpSampling2D(interpolation='bilinear')`` is the exception: it mixes neighbours, through the
sampling op of ``tinynet/core/ops/image.py``.)
"""
import numpy as np

from ..checks import check_int, check_pair, invalid, is_int
from ..ops.conv import crop2d, pad2d
from ..ops.image import check_interpolation
from .base import Layer
from .core import check_data_format


def check_image_shape(layer, input_shape):
    if len(input_shape) != 3:
        raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}) expects images of shape (height, width, "
                         f"channels) without the batch axis. Received: input_shape={tuple(input_shape)}")


def check_pads(value, argument, owner):
    """Keras's three spellings of a 2-D padding or cropping -> ((top, bottom), (left, right)):
    ``1`` (all four sides), ``(1, 2)`` (top and bottom 1, left and right 2), ``((1, 0), (2, 3))``."""
    expected = "a non-negative integer, a pair of them, or a pair of pairs ((top, bottom), (left, right))"
    both = (value, value) if is_int(value) else value
    if not isinstance(both, (tuple, list)) or len(both) != 2:
        raise invalid(argument, expected, value, owner)
    pairs = []
    for side in both:
        side = (side, side) if is_int(side) else side
        if not isinstance(side, (tuple, list)) or len(side) != 2 or not all(is_int(v) and v >= 0 for v in side):
            raise invalid(argument, expected, value, owner)
        pairs.append((int(side[0]), int(side[1])))
    return tuple(pairs)


class ReshapingLayer(Layer):
    """A layer without weights whose ``compute_output_shape`` checks the input: building runs that check."""

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        super().build(input_shape)


class ZeroPadding2D(ReshapingLayer):
    """Zeros around each image: ``(N, H, W, C) -> (N, top + H + bottom, left + W + right, C)``.

    Backward drops the gradient that landed on the zeros: ``dx = dout[:, top:top+H, left:left+W, :]``.
    No cache: the padding alone says where x sits.
    """

    equation = "y = pad(x, ((top, bottom), (left, right)))"

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        check_data_format(data_format, self.name)
        self.padding = check_pads(padding, "padding", self.name)

    def compute_output_shape(self, input_shape):
        check_image_shape(self, input_shape)
        (top, bottom), (left, right) = self.padding
        H, W, C = input_shape
        return H + top + bottom, W + left + right, C

    def forward(self, x, training=False):
        return pad2d(x, self.padding)

    def backward(self, dout):
        return crop2d(dout, self.padding)                   # dx = dout without the padded border

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


class Cropping2D(ReshapingLayer):
    """Each image without a border: ``(N, H, W, C) -> (N, H - top - bottom, W - left - right, C)``.

    Backward puts the gradient back in place, zeros on the cropped border: ``dx = pad(dout)``.
    No cache.
    """

    equation = "y = x[:, top:H-bottom, left:W-right, :]"

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        check_data_format(data_format, self.name)
        self.cropping = check_pads(cropping, "cropping", self.name)

    def compute_output_shape(self, input_shape):
        check_image_shape(self, input_shape)
        (top, bottom), (left, right) = self.cropping
        H, W, C = input_shape
        if top + bottom >= H or left + right >= W:
            raise ValueError(f"Layer '{self.name}': `cropping` must leave some of the input. Received: "
                             f"cropping={self.cropping}, input_shape={tuple(input_shape)}")
        return H - top - bottom, W - left - right, C

    def forward(self, x, training=False):
        return crop2d(x, self.cropping)

    def backward(self, dout):
        return pad2d(dout, self.cropping)                   # dx = dout put back, zeros where x was cropped

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}


class UpSampling2D(ReshapingLayer):
    """Enlarge images ``size = (sh, sw)`` times: ``(N, H, W, C) -> (N, H*sh, W*sw, C)``.

    ``interpolation='nearest'`` (the default) repeats each pixel into an sh x sw block:

        y[n, i, j, c] = x[n, i // sh, j // sw, c]        dx[n, a, b, c] = sum of dout over the block of (a, b)

    ``'bilinear'`` reads each output pixel's centre between the input pixels, as ``tf.image.resize``
    does (Keras's UpSampling2D calls it): a weighted sum of 4 neighbours, whose backward sends each
    gradient back with the same weights (``tinynet/core/ops/image.py``). Cache: None (nearest: the
    block sum needs no values) or the sampling op's ``WarpCache`` (bilinear).
    """

    equation = "y[n,i,j,c] = x[n, i // sh, j // sw, c]"

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        check_data_format(data_format, self.name)
        self.size = check_pair(size, "size", self.name)
        self.interpolation = check_interpolation(interpolation, self.name)

    def compute_output_shape(self, input_shape):
        check_image_shape(self, input_shape)
        H, W, C = input_shape
        return H * self.size[0], W * self.size[1], C

    def forward(self, x, training=False):
        sh, sw = self.size
        if self.interpolation == "bilinear":
            y, self.cache = self.ops.resize(x, x.shape[1] * sh, x.shape[2] * sw, "bilinear")
            return y
        self.cache = None
        return x.repeat(sh, axis=1).repeat(sw, axis=2)

    def backward(self, dout):
        if self.interpolation == "bilinear":
            return self.ops.warp_backward(dout, self.cache)
        sh, sw = self.size
        N, H, W, C = dout.shape
        return dout.reshape(N, H // sh, sh, W // sw, sw, C).sum(axis=(2, 4))  # each block's gradients, summed

    def get_config(self):
        return {**super().get_config(), "size": self.size, "interpolation": self.interpolation}


class RepeatVector(ReshapingLayer):
    """Repeat each input vector n times: ``(N, D) -> (N, n, D)``, ``y[:, t, :] = x``.

    Backward: x was copied n times, so its gradient is the sum of the copies': ``dx = sum_t dout[:, t, :]``.
    No cache.
    """

    equation = "y[n, t, d] = x[n, d]"

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = check_int(n, "n", 1, owner=self.name)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1:
            raise ValueError(f"Layer '{self.name}' (RepeatVector) expects vectors, inputs of shape (None, D). "
                             f"Received: input_shape=(None, {', '.join(map(str, input_shape))})")
        return self.n, input_shape[0]

    def forward(self, x, training=False):
        return np.repeat(x[:, None, :], self.n, axis=1)

    def backward(self, dout):
        return dout.sum(axis=1)                             # dx = sum over the n copies

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class Permute(ReshapingLayer):
    """Reorder the axes of each sample: ``dims`` numbers them from 1 (the batch axis stays first), as Keras.

        y = x.transpose(0, *dims)          dx = dout.transpose(the inverse permutation)

    ``Permute((2, 1))`` swaps the two axes of (N, T, D) inputs. No cache.
    """

    equation = "y = x.transpose(0, *dims)"

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        try:
            dims = tuple(dims)
        except TypeError:
            dims = ()
        if not dims or not all(is_int(d) for d in dims) or sorted(dims) != list(range(1, len(dims) + 1)):
            raise invalid("dims", "a permutation of 1, ..., n (the axes of a sample, numbered from 1)", dims,
                          self.name)
        self.dims = tuple(int(d) for d in dims)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != len(self.dims):
            raise ValueError(f"Layer '{self.name}' (Permute) with dims={self.dims} expects samples of "
                             f"{len(self.dims)} axes. Received: input_shape={tuple(input_shape)}")
        return tuple(input_shape[d - 1] for d in self.dims)

    def forward(self, x, training=False):
        return x.transpose((0,) + self.dims)

    def backward(self, dout):
        return dout.transpose((0,) + tuple(int(a) + 1 for a in np.argsort(self.dims)))

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}
