"""Differentiable ops on tensors, as Keras 3's ``keras.ops`` names them: each forward beside its VJP.

An op takes tensors (or arrays, numbers, weights), computes its value with NumPy, and -- while a
tape records -- appends a node whose vector-Jacobian product (VJP) maps ``g = dL/d(output)`` to
``dL/d(input)`` for each input. They are what a loss written as a Python function, a ``Lambda``
layer, a subclassed model's ``call`` and a ``GradientTape`` loop are made of.

Notation: ``g`` the gradient arriving at the output, ``y`` the output, shapes as NumPy's.
Every VJP here is checked against centred differences (``tests/test_ops_math.py``).
The operators of tensors (``+ - * / @ ** []``) are ops too: ``tinynet/core/tensor.py``.
"""
import numpy as np

from ..tensor import (PAIRS, Tensor, add, as_tensor, cast, divide, matmul, multiply, negative, power, record, reshape,
                      subtract, transpose, unbroadcast)
from .softmax import log_softmax as _log_softmax_values
from .softmax import softmax as _softmax_values


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % ndim for a in (axis if isinstance(axis, (tuple, list)) else (axis,)))


def _expand(g, shape, axis, keepdims):
    """A reduction's output gradient ``g`` broadcast back over the reduced axes."""
    if not keepdims:
        for a in sorted(_axes(axis, len(shape))):
            g = np.expand_dims(g, a)
    return np.broadcast_to(g, shape)


# ----- elementwise ---------------------------------------------------------------------------------
def exp(x):
    """y = e^x;  dx = g * y."""
    x = as_tensor(x)
    y = np.exp(x.value)
    return record("exp", [x], y, lambda g: [g * y])


def log(x):
    """y = log x;  dx = g / x."""
    x = as_tensor(x)
    return record("log", [x], np.log(x.value), lambda g: [g / x.value])


def log1p(x):
    """y = log(1 + x);  dx = g / (1 + x)."""
    x = as_tensor(x)
    return record("log1p", [x], np.log1p(x.value), lambda g: [g / (1 + x.value)])


def sqrt(x):
    """y = sqrt(x);  dx = g / (2 y)."""
    x = as_tensor(x)
    y = np.sqrt(x.value)
    return record("sqrt", [x], y, lambda g: [g / (2 * y)])


def square(x):
    """y = x^2;  dx = 2 g x."""
    x = as_tensor(x)
    return record("square", [x], np.square(x.value), lambda g: [2 * g * x.value])


def abs(x):  # noqa: A001  (Keras's name)
    """y = |x|;  dx = g * sign(x)  (0 at x = 0, the subgradient NumPy's sign gives)."""
    x = as_tensor(x)
    return record("abs", [x], np.abs(x.value), lambda g: [g * np.sign(x.value)])


def tanh(x):
    """y = tanh x;  dx = g (1 - y^2)."""
    x = as_tensor(x)
    y = np.tanh(x.value)
    return record("tanh", [x], y, lambda g: [g * (1 - y * y)])


def sigmoid(x):
    """y = 1 / (1 + e^-x);  dx = g y (1 - y).  NOTE: computed from e^-|x|, which never overflows."""
    x = as_tensor(x)
    e = np.exp(-np.abs(x.value))
    y = np.where(x.value >= 0, 1 / (1 + e), e / (1 + e))
    out = record("sigmoid", [x], y, lambda g: [g * y * (1 - y)])
    out.logits = (x, PAIRS["sigmoid"])
    return out


def relu(x):
    """y = max(x, 0);  dx = g [x > 0]  (0 at x = 0, as Keras)."""
    x = as_tensor(x)
    y = np.maximum(x.value, 0)
    return record("relu", [x], y, lambda g: [g * (x.value > 0)])


def softplus(x):
    """y = log(1 + e^x);  dx = g sigmoid(x).  NOTE: max(x, 0) + log1p(e^-|x|) never overflows."""
    x = as_tensor(x)
    v = x.value
    e = np.exp(-np.abs(v))
    y = np.maximum(v, 0) + np.log1p(e)
    return record("softplus", [x], y, lambda g: [g * np.where(v >= 0, 1 / (1 + e), e / (1 + e))])


def maximum(a, b):
    """max(a, b) elementwise;  the gradient goes to the larger (to a on ties)."""
    a, b = as_tensor(a), as_tensor(b)
    mask = a.value >= b.value
    return record("maximum", [a, b], np.maximum(a.value, b.value), lambda g: [
        unbroadcast(g * mask, a.shape), unbroadcast(g * ~mask, b.shape)])


def minimum(a, b):
    """min(a, b) elementwise;  the gradient goes to the smaller (to a on ties)."""
    a, b = as_tensor(a), as_tensor(b)
    mask = a.value <= b.value
    return record("minimum", [a, b], np.minimum(a.value, b.value), lambda g: [
        unbroadcast(g * mask, a.shape), unbroadcast(g * ~mask, b.shape)])


def clip(x, x_min, x_max):
    """x clipped to [x_min, x_max];  dx = g where x was inside (0 where it was clipped)."""
    x = as_tensor(x)
    low, high = _plain(x_min), _plain(x_max)
    inside = (x.value >= low) & (x.value <= high)
    return record("clip", [x], np.clip(x.value, low, high), lambda g: [g * inside])


def where(condition, x1, x2):
    """x1 where condition, else x2;  the gradient follows the same choice (none to the condition)."""
    condition = np.asarray(_plain(condition), dtype=bool)
    a, b = as_tensor(x1), as_tensor(x2)
    return record("where", [a, b], np.where(condition, a.value, b.value), lambda g: [
        unbroadcast(g * condition, a.shape), unbroadcast(g * ~condition, b.shape)])


# ----- reductions ------------------------------------------------------------------------------------
def sum(x, axis=None, keepdims=False):  # noqa: A001
    """y = sum over ``axis``;  dx = g broadcast back over the summed axes."""
    x = as_tensor(x)
    return record("sum", [x], np.sum(x.value, axis=_tuple(axis), keepdims=keepdims),
                  lambda g: [_expand(g, x.shape, axis, keepdims).copy()])


def mean(x, axis=None, keepdims=False):
    """y = mean over ``axis`` (n values);  dx = g / n broadcast back."""
    x = as_tensor(x)
    n = int(np.prod([x.shape[a] for a in _axes(axis, x.ndim)])) if x.ndim else 1
    return record("mean", [x], np.mean(x.value, axis=_tuple(axis), keepdims=keepdims),
                  lambda g: [_expand(g, x.shape, axis, keepdims) / n])


def max(x, axis=None, keepdims=False):  # noqa: A001
    """y = max over ``axis``;  dx = g shared equally by the entries equal to the max (as TensorFlow)."""
    return _extremum(x, axis, keepdims, np.max, "max")


def min(x, axis=None, keepdims=False):  # noqa: A001
    """y = min over ``axis``;  dx = g shared equally by the entries equal to the min."""
    return _extremum(x, axis, keepdims, np.min, "min")


def _extremum(x, axis, keepdims, reduce, name):
    x = as_tensor(x)
    y = reduce(x.value, axis=_tuple(axis), keepdims=True)
    winners = x.value == y
    share = winners / winners.sum(axis=_tuple(axis), keepdims=True)
    out = y if keepdims else np.squeeze(y, axis=_axes(axis, x.ndim))
    return record(name, [x], out, lambda g: [_expand(g, x.shape, axis, keepdims) * share])


def var(x, axis=None, keepdims=False):
    """The (biased) variance, mean((x - mean x)^2), as a composition of recorded ops."""
    centred = subtract(x, mean(x, axis=axis, keepdims=True))
    return mean(square(centred), axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    return sqrt(var(x, axis=axis, keepdims=keepdims))


def logsumexp(x, axis=None, keepdims=False):
    """y = log sum e^x, computed as m + log sum e^(x - m);  dx = g softmax(x) over ``axis``."""
    x = as_tensor(x)
    m = np.max(x.value, axis=_tuple(axis), keepdims=True)
    e = np.exp(x.value - m)
    s = e.sum(axis=_tuple(axis), keepdims=True)
    y = m + np.log(s)
    out = y if keepdims else np.squeeze(y, axis=_axes(axis, x.ndim))
    return record("logsumexp", [x], out, lambda g: [_expand(g, x.shape, axis, keepdims) * e / s])


# ----- shapes --------------------------------------------------------------------------------------
def concatenate(xs, axis=-1):
    """The tensors joined along ``axis``;  each input's gradient is its slice of g."""
    xs = [as_tensor(x) for x in xs]
    sizes = np.cumsum([x.shape[axis] for x in xs])[:-1]
    return record("concatenate", xs, np.concatenate([x.value for x in xs], axis=axis),
                  lambda g: list(np.split(g, sizes, axis=axis)))


def stack(xs, axis=0):
    """The tensors stacked on a new ``axis``;  each input's gradient is its slice of g."""
    xs = [as_tensor(x) for x in xs]
    return record("stack", xs, np.stack([x.value for x in xs], axis=axis),
                  lambda g: [np.take(g, i, axis=axis) for i in range(len(xs))])


def expand_dims(x, axis):
    x = as_tensor(x)
    return record("expand_dims", [x], np.expand_dims(x.value, axis), lambda g: [np.reshape(g, x.shape)])


def squeeze(x, axis=None):
    x = as_tensor(x)
    return record("squeeze", [x], np.squeeze(x.value, axis=axis), lambda g: [np.reshape(g, x.shape)])


def flatten(x):
    """(N, ...) -> (N, prod(...)): a reshape keeping the batch axis."""
    x = as_tensor(x)
    return reshape(x, (x.shape[0], -1))


def repeat(x, repeats, axis=None):
    """Each entry repeated ``repeats`` times along ``axis``;  dx = the sum of the copies' gradients."""
    x = as_tensor(x)
    y = np.repeat(x.value, repeats, axis=axis)

    def vjp(g):
        if axis is None:
            return [g.reshape(-1, repeats).sum(axis=1).reshape(x.shape)]
        a = axis % x.ndim
        shape = x.shape[:a] + (x.shape[a], repeats) + x.shape[a + 1:]
        return [g.reshape(shape).sum(axis=a + 1)]
    return record("repeat", [x], y, vjp)


def tile(x, repeats):
    """x tiled ``repeats`` times per axis;  dx = the sum of the tiles' gradients."""
    x = as_tensor(x)
    reps = (repeats,) if np.ndim(repeats) == 0 else tuple(repeats)
    reps = (1,) * (x.ndim - len(reps)) + reps
    y = np.tile(x.value, reps)

    def vjp(g):
        shape = []
        for r, n in zip(reps, x.shape):
            shape += [r, n]
        return [g.reshape(shape).sum(axis=tuple(range(0, 2 * x.ndim, 2)))]
    return record("tile", [x], y, vjp)


def dot(a, b):
    """a . b: for matrices a @ b (Keras's ``ops.dot``, ``K.dot``)."""
    return matmul(a, b)


# ----- neural-network functions -------------------------------------------------------------------
def softmax(x, axis=-1):
    """p = e^(x - max x) / sum e^(x - max x) along ``axis``;  dx = p (g - sum(g p)).

    Recorded as the op 'softmax': a cross-entropy loss given its output takes its input, the logits
    (``tinynet/core/tensor.py``, ``logits_for``).
    """
    x = as_tensor(x)
    if axis not in (-1, x.ndim - 1):
        p = np.exp(x.value - np.max(x.value, axis=axis, keepdims=True))
        p /= p.sum(axis=axis, keepdims=True)
    else:
        p = _softmax_values(x.value)
    out = record("softmax", [x], p, lambda g: [p * (g - (g * p).sum(axis=axis, keepdims=True))])
    out.logits = (x, PAIRS["softmax"])
    return out


def log_softmax(x, axis=-1):
    """log softmax x = x - logsumexp(x);  dx = g - softmax(x) sum(g)."""
    x = as_tensor(x)
    y = _log_softmax_values(x.value) if axis in (-1, x.ndim - 1) else \
        x.value - np.log(np.exp(x.value - x.value.max(axis=axis, keepdims=True)).sum(axis=axis, keepdims=True)) \
        - x.value.max(axis=axis, keepdims=True)
    return record("log_softmax", [x], y, lambda g: [g - np.exp(y) * g.sum(axis=axis, keepdims=True)])


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """-sum(target * log p) per sample (p = softmax(output) with ``from_logits``), from recorded ops;
    probabilities are clipped to [1e-7, 1 - 1e-7] as Keras does."""
    log_p = log_softmax(output, axis) if from_logits else log(clip(output, 1e-7, 1 - 1e-7))
    return negative(sum(multiply(_plain(target), log_p), axis=axis))


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """-log p[label] per sample."""
    output = as_tensor(output)
    labels = np.asarray(_plain(target)).reshape(output.shape[:-1]).astype(np.intp)
    one_hot_labels = np.zeros(output.shape, dtype=output.dtype)
    np.put_along_axis(one_hot_labels, labels[..., None], 1, axis=-1)
    return categorical_crossentropy(one_hot_labels, output, from_logits, axis)


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise -(t log p + (1 - t) log(1 - p)) (p = sigmoid(output) with ``from_logits``)."""
    t = _plain(target)
    if from_logits:  # max(z, 0) - z t + log(1 + e^-|z|): finite for any z
        z = as_tensor(output)
        return add(subtract(relu(z), multiply(z, t)), softplus(negative(abs(z))))
    p = clip(output, 1e-7, 1 - 1e-7)
    return negative(add(multiply(t, log(p)), multiply(subtract(1.0, t), log(subtract(1.0, p)))))


# ----- no gradient: values only -----------------------------------------------------------------
def argmax(x, axis=-1):
    return np.argmax(_plain(x), axis=axis)


def argmin(x, axis=-1):
    return np.argmin(_plain(x), axis=axis)


def one_hot(indices, num_classes, dtype="float32"):
    labels = np.asarray(_plain(indices)).astype(np.intp)
    out = np.zeros(labels.shape + (int(num_classes),), dtype=dtype)
    valid = (labels >= 0) & (labels < num_classes)  # TensorFlow gives a row of zeros outside the range
    np.put_along_axis(out, np.where(valid, labels, 0)[..., None], valid[..., None].astype(dtype), axis=-1)
    return out


def equal(a, b):
    return np.equal(_plain(a), _plain(b))


def sign(x):
    return np.sign(_plain(x))


def convert_to_tensor(x, dtype=None):
    t = as_tensor(x)
    return t if dtype is None else cast(t, dtype)


def convert_to_numpy(x):
    return np.asarray(_plain(x))


def zeros(shape, dtype="float32"):
    return Tensor(np.zeros(shape, dtype=dtype))


def ones(shape, dtype="float32"):
    return Tensor(np.ones(shape, dtype=dtype))


def zeros_like(x, dtype=None):
    return Tensor(np.zeros_like(np.asarray(_plain(x)), dtype=dtype))


def ones_like(x, dtype=None):
    return Tensor(np.ones_like(np.asarray(_plain(x)), dtype=dtype))


def shape(x):
    return tuple(np.shape(_plain(x)))


def _plain(x):
    if isinstance(x, Tensor):
        return x.value
    if hasattr(x, "as_tensor"):
        return x.data
    return x


def _tuple(axis):
    return tuple(axis) if isinstance(axis, list) else axis


# NumPy's functions and ufuncs on tensors are these ops (np.exp(t) records like exp(t)).
Tensor.numpy_twins.update({
    np.add: add, np.subtract: subtract, np.multiply: multiply, np.true_divide: divide, np.negative: negative,
    np.power: power, np.matmul: matmul, np.exp: exp, np.log: log, np.log1p: log1p, np.sqrt: sqrt, np.square: square,
    np.absolute: abs, np.tanh: tanh, np.maximum: maximum, np.minimum: minimum,
    np.sum: sum, np.mean: mean, np.max: max, np.amax: max, np.min: min, np.amin: min, np.var: var, np.std: std,
    np.concatenate: concatenate, np.stack: stack, np.reshape: reshape, np.transpose: transpose, np.clip: clip,
    np.where: where, np.dot: dot, np.expand_dims: expand_dims, np.squeeze: squeeze, np.repeat: repeat,
    np.tile: tile,
})

Tensor.methods.update({"abs": abs, "sum": sum, "mean": mean, "max": max, "min": min, "var": var, "std": std, "clip": clip,
                       "squeeze": squeeze, "flatten": lambda x: reshape(x, (-1,)), "ravel": lambda x: reshape(x, (-1,)),
                       "transpose": lambda x, *axes: transpose(x, (axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes) or None), "dot": dot})

absolute = abs
__all__ = ["add", "subtract", "multiply", "divide", "negative", "power", "matmul", "transpose", "reshape", "cast",
           "exp", "log", "log1p", "sqrt", "square", "abs", "absolute", "tanh", "sigmoid", "relu", "softplus",
           "maximum", "minimum", "clip", "where", "sum", "mean", "max", "min", "var", "std", "logsumexp",
           "concatenate", "stack", "expand_dims", "squeeze", "flatten", "repeat", "tile", "dot", "softmax",
           "log_softmax", "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
           "argmax", "argmin", "one_hot", "equal", "sign", "convert_to_tensor", "convert_to_numpy", "zeros", "ones",
           "zeros_like", "ones_like", "shape", "stop_gradient"]


def stop_gradient(x):
    """x's value, with no gradient flowing back through it (a constant to the tape)."""
    return Tensor(np.asarray(_plain(x)))
