"""Merge layers: several tensors in, one out (``Add()([a, b])``, ``layers.concatenate([a, b])``).

Each takes a list ``xs`` of inputs of the same shape (Concatenate and Dot: compatible shapes) and its
backward returns one gradient per input. They are where a graph's branches meet; where a branch
starts (a value feeding two layers), the backward walk adds the gradients (the fork rule).

    Add        y = x1 + x2 + ...            dxi = dout
    Subtract   y = x1 - x2                  dx1 = dout, dx2 = -dout
    Multiply   y = x1 * x2 * ...            dxi = dout * prod_{j != i} xj
    Average    y = (x1 + ... + xn) / n      dxi = dout / n
    Maximum    y = max(x1, x2, ...)         dxi = dout where xi is the maximum (the first, on ties)
    Minimum    y = min(x1, x2, ...)         dxi = dout where xi is the minimum (the first, on ties)
    Concatenate(axis)                       dxi = dout's slice of xi
    Dot(axes)  y[n] = sum_k x1[n, k] x2[n, k]   dx1 = dout x2, dx2 = dout x1 (per sample, over ``axes``)
"""
import numpy as np

from ..checks import check_bool, check_int, invalid
from .base import Layer


class Merge(Layer):
    """Base of the elementwise merges: a list of at least two inputs of one shape."""

    def build(self, input_shape):
        self.check_shapes(input_shape)
        super().build(input_shape)

    def check_shapes(self, shapes):
        if not isinstance(shapes, list) or len(shapes) < 2:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) must be called on a list of at least two "
                             f"tensors, e.g. {type(self).__name__}()([a, b]). Received: {shapes!r}")
        first = tuple(shapes[0])
        for shape in shapes[1:]:
            if tuple(shape) != first:
                raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) needs inputs of one shape; received "
                                 f"(None, {', '.join(map(str, first))}) and (None, {', '.join(map(str, shape))}).")

    def compute_output_shape(self, input_shape):
        self.check_shapes(input_shape)
        return tuple(input_shape[0])


class Add(Merge):
    equation = "y = x1 + x2 + ..."

    def forward(self, xs, training=False):
        self.cache = (len(xs),)
        return sum(xs[1:], xs[0])

    def backward(self, dout):
        (n,) = self.cache
        return [dout] * n


class Subtract(Merge):
    equation = "y = x1 - x2"

    def check_shapes(self, shapes):
        super().check_shapes(shapes)
        if len(shapes) != 2:
            raise ValueError(f"Layer '{self.name}' (Subtract) takes exactly two inputs; received {len(shapes)}.")

    def forward(self, xs, training=False):
        return xs[0] - xs[1]

    def backward(self, dout):
        return [dout, -dout]


class Multiply(Merge):
    equation = "y = x1 * x2 * ..."

    def forward(self, xs, training=False):
        self.cache = (xs,)
        y = xs[0]
        for x in xs[1:]:
            y = y * x
        return y

    def backward(self, dout):
        (xs,) = self.cache
        grads = []
        for i in range(len(xs)):
            others = dout
            for j, x in enumerate(xs):
                if j != i:
                    others = others * x           # dxi = dout * prod of the other inputs
            grads.append(others)
        return grads


class Average(Merge):
    equation = "y = (x1 + ... + xn) / n"

    def forward(self, xs, training=False):
        self.cache = (len(xs),)
        return sum(xs[1:], xs[0]) / len(xs)

    def backward(self, dout):
        (n,) = self.cache
        return [dout / n] * n


class Maximum(Merge):
    """y = max(x1, x2, ...) elementwise; NOTE: on ties the gradient goes to the first maximum only."""

    equation = "y = max(x1, x2, ...)"

    def forward(self, xs, training=False):
        stacked = np.stack(xs)
        self.cache = (self.winner(stacked), len(xs))
        return np.take_along_axis(stacked, self.cache[0][None], axis=0)[0]

    @staticmethod
    def winner(stacked):
        return np.argmax(stacked, axis=0)

    def backward(self, dout):
        winner, n = self.cache
        return [dout * (winner == i) for i in range(n)]


class Minimum(Maximum):
    """y = min(x1, x2, ...) elementwise; NOTE: on ties the gradient goes to the first minimum only."""

    equation = "y = min(x1, x2, ...)"

    @staticmethod
    def winner(stacked):
        return np.argmin(stacked, axis=0)


class Concatenate(Layer):
    """y = the inputs joined along ``axis`` (the last by default); each input's gradient is its slice."""

    equation = "y = [x1, x2, ...] along axis"

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = check_int(axis, "axis", owner=self.name)
        if self.axis == 0:
            raise invalid("axis", "an axis other than 0, the batch axis", axis, self.name)

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) < 2:
            raise ValueError(f"Layer '{self.name}' (Concatenate) must be called on a list of at least two tensors.")
        rank = len(input_shape[0])
        axis = (self.axis - 1) if self.axis > 0 else rank + self.axis  # without the batch axis
        if not 0 <= axis < rank or any(len(s) != rank for s in input_shape):
            raise ValueError(f"Layer '{self.name}' (Concatenate): inputs of shapes {_shapes(input_shape)} cannot be "
                             f"joined along axis={self.axis}.")
        for shape in input_shape[1:]:
            if tuple(s for i, s in enumerate(shape) if i != axis) != tuple(
                    s for i, s in enumerate(input_shape[0]) if i != axis):
                raise ValueError(f"Layer '{self.name}' (Concatenate) needs inputs whose shapes agree except along "
                                 f"axis={self.axis}; received {_shapes([input_shape[0], shape])}.")
        out = list(input_shape[0])
        out[axis] = sum(s[axis] for s in input_shape)
        return tuple(out)

    def forward(self, xs, training=False):
        self.cache = ([x.shape[self.axis] for x in xs],)
        return np.concatenate(xs, axis=self.axis)

    def backward(self, dout):
        (sizes,) = self.cache
        return np.split(dout, np.cumsum(sizes)[:-1], axis=self.axis)


class Dot(Layer):
    """Per-sample dot product of two inputs along ``axes``: ``y[n] = sum_k a[n, k] b[n, k]`` for vectors.

    Shapes: two inputs ``(N, D)`` give ``(N, 1)``; ``normalize=True`` first divides each by its L2 norm
    (the cosine similarity). Backward: da = dout * b, db = dout * a (before normalising; through the
    normalisation, d(a/|a|) = (da - (a/|a|) (a/|a| . da)) / |a|).
    """

    equation = "y[n] = sum_k a[n, k] * b[n, k]"

    def __init__(self, axes=-1, normalize=False, **kwargs):
        super().__init__(**kwargs)
        axes = axes if isinstance(axes, (list, tuple)) else (axes, axes)
        self.axes = tuple(check_int(a, "axes", owner=self.name) for a in axes)
        self.normalize = check_bool(normalize, "normalize", owner=self.name)

    def compute_output_shape(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) != 2:
            raise ValueError(f"Layer '{self.name}' (Dot) takes exactly two inputs.")
        a, b = input_shape
        if len(a) != 1 or len(b) != 1 or self.axes not in ((-1, -1), (1, 1)):
            raise ValueError(f"Layer '{self.name}' (Dot) supports two vectors per sample (shapes (None, D)) dotted "
                             f"along their last axis; received {_shapes(input_shape)} with axes={self.axes}.")
        if a[0] != b[0]:
            raise ValueError(f"Layer '{self.name}' (Dot): the inputs' dotted axes differ in size: {_shapes(input_shape)}.")
        return (1,)

    def forward(self, xs, training=False):
        a, b = xs
        norms = None
        if self.normalize:
            norms = (np.sqrt((a * a).sum(-1, keepdims=True)) + 1e-12, np.sqrt((b * b).sum(-1, keepdims=True)) + 1e-12)
            a, b = a / norms[0], b / norms[1]
        self.cache = (a, b, norms)
        return (a * b).sum(axis=-1, keepdims=True)

    def backward(self, dout):
        a, b, norms = self.cache
        da, db = dout * b, dout * a
        if norms is not None:  # back through u = x / |x|
            da = (da - a * (a * da).sum(-1, keepdims=True)) / norms[0]
            db = (db - b * (b * db).sum(-1, keepdims=True)) / norms[1]
        return [da, db]


def _shapes(shapes):
    return " and ".join(f"(None, {', '.join(map(str, s))})" for s in shapes)


# Keras's function forms: layers.add([a, b]) is Add()([a, b]).
def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
