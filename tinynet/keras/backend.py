"""Keras's ``backend`` module, for scripts that do ``from keras import backend as K``.

tinynet has one backend, NumPy, and one layout, channels-last: images are
``(N, H, W, C)``. The functions here answer what Keras scripts ask of their
backend (``K.image_data_format()``, ``K.clear_session()``, ``K.epsilon()``,
``K.get_value(model.optimizer.lr)`` ...) with the values tinynet really uses, and
refuse the settings tinynet does not support instead of silently ignoring them.
"""
import numpy as np

from ..core.checks import invalid, short_repr
from ..core.layers.base import clear_names
from ..core.utils import epsilon, set_epsilon  # noqa: F401  (K.epsilon(), K.set_epsilon)

_floatx = "float32"


def backend():
    """The name of the backend: ``'numpy'``."""
    return "numpy"


# ----- image layout ---------------------------------------------------------
def image_data_format():
    """``'channels_last'``: images are ``(N, H, W, C)``, as Keras's default."""
    return "channels_last"


def set_image_data_format(data_format):
    """Accepts ``'channels_last'`` only; tinynet's layers have no channels-first code path."""
    if data_format != "channels_last":
        raise ValueError(
            "Received an invalid value for `data_format`, expected 'channels_last' (tinynet's layers work on "
            "(N, H, W, C) images only; move the channel axis last with np.moveaxis(x, 1, -1)). "
            f"Received: data_format={short_repr(data_format)}")


def image_dim_ordering():
    """Keras 1 spelling of ``image_data_format``: ``'tf'`` means channels last."""
    return "tf"


def set_image_dim_ordering(dim_ordering):
    """Keras 1 spelling: accepts ``'tf'`` (channels last) only."""
    if dim_ordering != "tf":
        raise ValueError(
            "Received an invalid value for `dim_ordering`, expected 'tf' (channels last; tinynet has no "
            f"channels-first ('th') layers). Received: dim_ordering={dim_ordering!r}")


# ----- session ----------------------------------------------------------------
def clear_session():
    """Forget the automatic layer and model names, as Keras does.

    After ``clear_session()`` the next Dense layer is named ``dense`` again (not
    ``dense_3``), so the names a book prints come out the same. Models and layers
    made before keep their names and weights; nothing else is global in tinynet.
    """
    clear_names()


# ----- numbers ----------------------------------------------------------------


def floatx():
    """The float type of weights and computations: ``'float32'``."""
    return _floatx


def set_floatx(value):
    """Accepts ``'float32'`` only: tinynet's layers create float32 weights.

    (Gradient checks run in float64 through ``tinynet.gradcheck``, not through this setting.)
    """
    if value != "float32":
        raise ValueError(
            "Received an invalid value for `value`, expected 'float32' (tinynet's layers create float32 weights; "
            f"a different floatx would be ignored). Received: value={value!r}")


def cast_to_floatx(x):
    """``x`` as a NumPy array of ``floatx()``."""
    return np.asarray(x, dtype=_floatx)


# ----- values -----------------------------------------------------------------
def get_value(x):
    """The value of ``x`` as NumPy: a weight array, a ``Parameter``, or a number.

    ``K.get_value(model.optimizer.lr)`` gives the learning rate as a float,
    ``K.get_value(model.optimizer.iterations)`` the step count as an int.
    """
    if isinstance(getattr(x, "data", None), np.ndarray):  # a Parameter
        return x.data.copy()
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x)
    raise TypeError(f"get_value expects an array, a Parameter or a number. Received: {x!r} of type {type(x).__name__}.")


eval = get_value  # Keras's K.eval; shadows the builtin inside this module only


def set_value(x, value):
    """Give ``x`` a new value, in place.

    ``x`` may be a NumPy array or ``Parameter``: the new value must have its shape and be real
    and finite (a NaN weight is refused, a complex one too, never cast); it is stored in ``x``'s
    dtype. Or ``x`` may be an optimizer's ``learning_rate`` / ``lr`` or ``iterations``, which
    have Keras's ``assign``: ``K.set_value(model.optimizer.lr, 1e-4)``,
    ``K.set_value(model.optimizer.iterations, 0)``. An optimizer given a learning-rate schedule
    refuses a number, as Keras does (TypeError), also through a ``learning_rate`` read before the
    schedule was set: the schedule is never silently replaced. A plain Python number cannot be
    changed in place: set the attribute instead (``model.optimizer.learning_rate = 1e-4``).
    """
    _prepare(x, value)()


def batch_get_value(xs):
    return [get_value(x) for x in xs]


def batch_set_value(pairs):
    """``set_value`` for each ``(x, value)`` pair, all or nothing: every pair is checked before any is set."""
    writes = [_prepare(x, value) for x, value in pairs]
    for write in writes:
        write()


def _prepare(x, value):
    """Check that ``value`` can be given to ``x``; the function that does it, changing nothing yet."""
    if hasattr(x, "assign") and not isinstance(getattr(x, "data", None), np.ndarray):  # a weight is checked below
        if hasattr(x, "check"):  # tinynet's optimizer variables check without changing anything
            value = x.check(value)
        return lambda: x.assign(value)
    target = x.data if isinstance(getattr(x, "data", None), np.ndarray) else x
    if not isinstance(target, np.ndarray):
        raise TypeError(
            f"set_value cannot change a {type(x).__name__} in place. Received: {x!r}. To change a learning rate, "
            "set the attribute: `model.optimizer.learning_rate = value`.")
    name = f"'{x.name}'" if hasattr(x, "name") else "the variable"
    try:
        value = np.asarray(value)
    except (TypeError, ValueError) as error:  # ragged lists
        raise TypeError(f"set_value: the new value of {name} is not an array of numbers ({error}).") from None
    if value.dtype.kind not in "biuf":
        raise TypeError(f"set_value: the new value of {name} holds {value.dtype} values; expected real numbers "
                        f"(they are stored as {target.dtype}).")
    if value.shape != target.shape:
        raise ValueError(f"set_value: the new value has shape {value.shape}, but {name} has shape "
                         f"{target.shape}.")
    if not np.isfinite(value).all():
        raise ValueError(f"set_value: the new value of {name} holds NaN or infinite values.")
    with np.errstate(over="ignore"):  # said below, in words
        value = value.astype(target.dtype)
    if not np.isfinite(value).all():
        raise ValueError(f"set_value: the new value of {name} does not fit in {target.dtype} (it overflows).")

    def write():
        target[...] = value
    return write


# ----- shapes -----------------------------------------------------------------
def int_shape(x):
    """The shape of an array, ``Parameter``, layer or model, as a tuple (``None`` for the batch axis)."""
    if hasattr(x, "output_shape") and not isinstance(x, np.ndarray):  # a layer or a model
        return x.output_shape
    return tuple(np.shape(x.data if hasattr(x, "data") else x))


def ndim(x):
    return len(int_shape(x))


def dtype(x):
    return str(np.asarray(x.data if hasattr(x, "data") else x).dtype)


def count_params(x):
    """The number of scalars in an array or ``Parameter``."""
    return int(np.size(x.data if hasattr(x, "data") else x))


# ----- math on tensors: Keras 2's backend functions, as tinynet's differentiable ops -----------------
# A loss or metric written with them (``K.mean(K.square(y_pred - y_true), axis=-1)``) records each op,
# so its gradient needs nothing hand-written (tinynet/core/ops/math.py has each forward and its VJP).
from ..core.ops import math as _ops  # noqa: E402
from ..core.tensor import Tensor as _Tensor  # noqa: E402

mean, sum, max, min, var, std = _ops.mean, _ops.sum, _ops.max, _ops.min, _ops.var, _ops.std  # noqa: A001
square, sqrt, exp, log, abs = _ops.square, _ops.sqrt, _ops.exp, _ops.log, _ops.abs  # noqa: A001
maximum, minimum, clip = _ops.maximum, _ops.minimum, _ops.clip
dot, reshape, transpose, concatenate = _ops.dot, _ops.reshape, _ops.transpose, _ops.concatenate
expand_dims, squeeze, stack, repeat_elements, tile = _ops.expand_dims, _ops.squeeze, _ops.stack, _ops.repeat, _ops.tile
softmax, sigmoid, relu, tanh, softplus = _ops.softmax, _ops.sigmoid, _ops.relu, _ops.tanh, _ops.softplus
logsumexp, stop_gradient, switch = _ops.logsumexp, _ops.stop_gradient, _ops.where
argmax, argmin, equal, sign, one_hot = _ops.argmax, _ops.argmin, _ops.equal, _ops.sign, _ops.one_hot
zeros_like, ones_like = _ops.zeros_like, _ops.ones_like
cast = _ops.cast
flatten = _ops.flatten


def pow(x, a):  # noqa: A001  (Keras's name)
    """x ** a for a constant a."""
    return _ops.power(x, a)


def batch_flatten(x):
    """(N, ...) -> (N, prod(...))."""
    return _ops.flatten(x)


def shape(x):
    """The shape of ``x`` as a tuple (its first entry, the batch size, as Keras scripts index it)."""
    return _ops.shape(x)


def constant(value, dtype=None, shape=None, name=None):
    value = np.asarray(value, dtype=dtype or _floatx)
    return _Tensor(np.broadcast_to(value, shape).copy() if shape is not None else value)


def variable(value, dtype=None, name=None):
    return constant(value, dtype)


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    return _ops.categorical_crossentropy(target, output, from_logits, axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    return _ops.sparse_categorical_crossentropy(target, output, from_logits, axis)


def binary_crossentropy(target, output, from_logits=False):
    return _ops.binary_crossentropy(target, output, from_logits)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal noise of ``shape`` (a VAE's epsilon), from tinynet's generator or ``seed``'s: a constant tensor."""
    generator = np.random.default_rng(seed) if seed is not None else _rng()
    return _Tensor(generator.normal(mean, stddev, size=tuple(int(d) for d in shape)).astype(dtype or _floatx))


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    generator = np.random.default_rng(seed) if seed is not None else _rng()
    return _Tensor(generator.uniform(minval, maxval, size=tuple(int(d) for d in shape)).astype(dtype or _floatx))


def _rng():
    from ..core.utils import rng
    return rng()
