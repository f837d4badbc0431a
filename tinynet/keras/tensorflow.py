"""The TensorFlow names tutorials call around a Keras model, for ``import tinynet as tf``: ``tf.newaxis``,
``tf.cast``, ``tf.one_hot``, the dtype names (``tf.float32``), and the ``tf.nn``, ``tf.config`` and
``tf.test`` namespaces (``tinynet/keras/nn.py``, ``config.py``).

These are NumPy conveniences on arrays. tinynet does not pretend to be TensorFlow: there is no
``tf.__version__`` of TensorFlow's, and ``tf.config.list_physical_devices('GPU')`` is an empty list.
"""
import numpy as np

from ..core.checks import check_int, invalid

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


__all__ = ["newaxis", "cast", "one_hot", *DTYPES]
