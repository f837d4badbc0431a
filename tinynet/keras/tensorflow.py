"""The TensorFlow names tutorials call around a Keras model, for ``import tinynet as tf``: ``tf.newaxis``,
``tf.cast``, ``tf.one_hot``, the dtype names (``tf.float32``), and the ``tf.nn``, ``tf.config`` and
``tf.test`` namespaces (``tinynet/keras/nn.py``, ``config.py``).

The maths a training loop written by hand calls (``tf.reduce_mean``, ``tf.concat``, ``tf.matmul``,
``tf.square``, ``tf.math.log`` ...) are tinynet's differentiable ops under TensorFlow's names and argument
names: on tensors computed inside a ``GradientTape`` they are recorded, each op's vector-Jacobian product
written beside its forward in ``tinynet/core/ops/math.py``. ``tf.Variable`` is a trainable weight (a
``Parameter``); ``tf.function`` runs the function as it is (tinynet has no graph compiler).

These are NumPy conveniences on arrays. tinynet does not pretend to be TensorFlow: there is no
``tf.__version__`` of TensorFlow's, and ``tf.config.list_physical_devices('GPU')`` is an empty list.
"""
import numpy as np

from ..core import tensor as _tensor
from ..core.checks import check_int, invalid
from ..core.layers.base import Parameter
from ..core.ops import math as _ops

newaxis = None                 # x[..., tf.newaxis] adds an axis, as x[..., None]

# tf.float32 and friends are NumPy's types: tf.cast(x, tf.float32), np.zeros(3, tf.float32) both work.
float16, float32, float64 = np.float16, np.float32, np.float64
int8, int16, int32, int64 = np.int8, np.int16, np.int32, np.int64
uint8, uint16, uint32, uint64 = np.uint8, np.uint16, np.uint32, np.uint64
bool = np.bool_  # noqa: A001  (TensorFlow's name)
DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "bool")


def cast(x, dtype, name=None):
    """``x`` as an array of ``dtype`` (``tf.cast(image, tf.float32) / 255``); floats cast to ints are truncated
    toward zero, as TensorFlow does."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise invalid("dtype", f"a dtype such as tf.float32 or 'float32' (one of {DTYPES})", dtype, "cast") from None
    return np.asarray(x).astype(dtype)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """One-hot vectors: ``one_hot([0, 2], 3) == [[1, 0, 0], [0, 0, 1]]`` (float32). A new axis of size ``depth``
    goes last (or at ``axis``); an index outside [0, depth) gives a vector of ``off_value``, as in TensorFlow."""
    depth = check_int(depth, "depth", 0, owner="one_hot")
    indices = np.asarray(indices)
    if indices.dtype.kind not in "iu":
        raise invalid("indices", "integer class indices", indices.dtype, "one_hot")
    dtype = np.dtype(dtype or (np.asarray(on_value).dtype if on_value is not None else np.float32))
    on = dtype.type(1 if on_value is None else on_value)
    off = dtype.type(0 if off_value is None else off_value)
    hot = indices[..., None] == np.arange(depth)
    result = np.where(hot, on, off).astype(dtype)
    return result if axis in (None, -1) else np.moveaxis(result, -1, axis)


# ----- the maths of a hand-written step: tinynet's ops, TensorFlow's names ----------------------------
def reduce_mean(input_tensor, axis=None, keepdims=False, name=None):
    return _ops.mean(input_tensor, axis=axis, keepdims=keepdims)


def reduce_sum(input_tensor, axis=None, keepdims=False, name=None):
    return _ops.sum(input_tensor, axis=axis, keepdims=keepdims)


def reduce_max(input_tensor, axis=None, keepdims=False, name=None):
    return _ops.max(input_tensor, axis=axis, keepdims=keepdims)


def reduce_min(input_tensor, axis=None, keepdims=False, name=None):
    return _ops.min(input_tensor, axis=axis, keepdims=keepdims)


def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None):
    return _ops.logsumexp(input_tensor, axis=axis, keepdims=keepdims)


def concat(values, axis, name=None):
    return _ops.concatenate(values, axis=axis)


def stack(values, axis=0, name=None):
    return _ops.stack(values, axis=axis)


def matmul(a, b, transpose_a=False, transpose_b=False, name=None):
    """a @ b, either transposed first (its last two axes swapped)."""
    a = _swap_last(a) if transpose_a else a
    b = _swap_last(b) if transpose_b else b
    return _tensor.matmul(a, b)


def _swap_last(x):
    x = _tensor.as_tensor(x)
    axes = list(range(x.ndim))
    axes[-2:] = axes[-1], axes[-2]
    return _tensor.transpose(x, axes)


def reshape(tensor, shape, name=None):
    return _tensor.reshape(tensor, shape)


def transpose(a, perm=None, name=None):
    return _tensor.transpose(a, perm)


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    return _ops.clip(t, clip_value_min, clip_value_max)


def argmax(input, axis=None, output_type=np.int64, name=None):  # noqa: A002  (TensorFlow's name)
    """The index of the largest value along ``axis`` (TensorFlow's default: axis 0)."""
    return np.argmax(np.asarray(input), axis=0 if axis is None else axis).astype(output_type)


def argmin(input, axis=None, output_type=np.int64, name=None):  # noqa: A002
    return np.argmin(np.asarray(input), axis=0 if axis is None else axis).astype(output_type)


def shape(input, out_type=np.int32, name=None):  # noqa: A002  (TensorFlow's name)
    """The sizes of ``input``'s axes as an int32 vector (``batch = tf.shape(z)[0]``), as TensorFlow returns them."""
    return np.array(_ops.shape(input), dtype=out_type)


def constant(value, dtype=None, shape=None, name=None):
    value = np.asarray(value, dtype=None if dtype is None else np.dtype(dtype))
    return _tensor.Tensor(value if shape is None else np.broadcast_to(value, shape).copy())


def convert_to_tensor(value, dtype=None, name=None):
    return _ops.convert_to_tensor(value, dtype)


def zeros(shape, dtype=np.float32, name=None):
    return _ops.zeros(shape, dtype)


def ones(shape, dtype=np.float32, name=None):
    return _ops.ones(shape, dtype)


# noqa: A001 (abs: TensorFlow's name)
(square, exp, log, sqrt, abs, tanh, sigmoid, add, subtract, multiply, divide, maximum, minimum, expand_dims,
 squeeze, where, zeros_like, ones_like, equal) = (
    _ops.square, _ops.exp, _ops.log, _ops.sqrt, _ops.abs, _ops.tanh, _ops.sigmoid, _tensor.add, _tensor.subtract,
    _tensor.multiply, _tensor.divide, _ops.maximum, _ops.minimum, _ops.expand_dims, _ops.squeeze, _ops.where,
    _ops.zeros_like, _ops.ones_like, _ops.equal)


def Variable(initial_value, trainable=True, name=None, dtype=None, **kwargs):  # noqa: N802  (TensorFlow's name)
    """A weight outside any layer (``w = tf.Variable(tf.random.normal((784, 10)))``): a ``Parameter``, so
    ``tape.gradient(loss, [w])`` and ``optimizer.apply_gradients`` take it, and ``w.assign`` changes it.
    Floats are kept float32 unless ``dtype`` says otherwise, as TensorFlow keeps them."""
    value = np.array(initial_value() if callable(initial_value) else np.asarray(initial_value),
                     dtype=None if dtype is None else np.dtype(dtype))
    if dtype is None and value.dtype.kind == "f":
        value = value.astype(np.float32)
    return Parameter(value, name or "Variable", trainable=bool(trainable))


def function(func=None, **settings):
    """``@tf.function`` and ``@tf.function(jit_compile=True)``: the function itself. TensorFlow traces it into
    a graph to run faster; tinynet runs Python as written, so there is nothing to compile."""
    if func is None:
        return lambda f: f
    return func


__all__ = ["newaxis", "cast", "one_hot", *DTYPES, "reduce_mean", "reduce_sum", "reduce_max", "reduce_min",
           "reduce_logsumexp", "concat", "stack", "matmul", "reshape", "transpose", "clip_by_value", "argmax", "argmin",
           "constant", "convert_to_tensor", "zeros", "ones", "square", "exp", "log", "sqrt", "abs", "tanh", "sigmoid",
           "add", "subtract", "multiply", "divide", "maximum", "minimum", "expand_dims", "squeeze", "where",
           "zeros_like", "ones_like", "equal", "Variable", "function"]
