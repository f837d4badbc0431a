"""Argument checks, with one wording for every message (Keras's):

    Received an invalid value for `units`, expected a positive integer. Received: units=-3

Every layer, optimizer, callback and function that takes settings checks them
here, in ``__init__`` (before any work is done). ``owner`` names who received the
argument (a layer's name, ``'EarlyStopping'``, ``'fit'``) and starts the message.
A bool is never taken for a number, NumPy scalars are, and strings never are.
"""
import math
import numbers

import numpy as np


def invalid(argument, expected, value, owner=None, error=ValueError):
    """The error every check raises (a ValueError unless ``error`` says otherwise): what was
    expected and what was received. Raise it: ``raise invalid('units', 'a positive integer', -3)``."""
    where = f"{owner}: received" if owner else "Received"
    return error(f"{where} an invalid value for `{argument}`, expected {expected}. "
                      f"Received: {argument}={short_repr(value)}")


def short_repr(value):
    """``repr(value)``, cut to 80 characters: messages never echo a whole large argument."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_real(value):
    return isinstance(value, (numbers.Real, np.floating, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_int(value, argument, minimum=None, maximum=None, owner=None):
    """``value`` as an int in ``[minimum, maximum]`` (either bound may be None)."""
    if not is_int(value) or (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise invalid(argument, _int_expected(minimum, maximum), value, owner)
    return int(value)


def check_steps(value, argument):
    """A count of batches (``steps_per_epoch``, ``validation_steps``): a positive int, or a positive float such
    as ``len(x_train) / 32`` (TensorFlow's tutorials pass one), which Keras's ``while step < steps`` loop
    rounds up: ``ceil(value)`` batches."""
    if is_real(value) and not is_int(value) and math.isfinite(value) and value > 0:
        return math.ceil(value)
    return check_int(value, argument, 1)


def _int_expected(minimum, maximum):
    if minimum == 1 and maximum is None:
        return "a positive integer"
    if minimum == 0 and maximum is None:
        return "a non-negative integer"
    if minimum is not None and maximum is not None:
        return f"an integer in [{minimum}, {maximum}]"
    if minimum is not None:
        return f"an integer >= {minimum}"
    if maximum is not None:
        return f"an integer <= {maximum}"
    return "an integer"


def check_float(value, argument, minimum=None, maximum=None, min_open=False, max_open=False, owner=None,
                expected=None):
    """``value`` as a finite float within the bounds; ``min_open`` / ``max_open`` exclude a bound itself."""
    ok = is_real(value) and math.isfinite(float(value))
    if ok and minimum is not None:
        ok = value > minimum if min_open else value >= minimum
    if ok and maximum is not None:
        ok = value < maximum if max_open else value <= maximum
    if not ok:
        if expected is None:
            expected = _float_expected(minimum, maximum, min_open, max_open)
        raise invalid(argument, expected, value, owner)
    return float(value)


def _float_expected(minimum, maximum, min_open, max_open):
    if minimum == 0 and maximum is None:
        return "a positive finite number" if min_open else "a non-negative finite number"
    if minimum is not None and maximum is not None:
        return f"a number in {'(' if min_open else '['}{minimum:g}, {maximum:g}{')' if max_open else ']'}"
    if minimum is not None:
        return f"a finite number {'>' if min_open else '>='} {minimum:g}"
    if maximum is not None:
        return f"a finite number {'<' if max_open else '<='} {maximum:g}"
    return "a finite number"


def check_bool(value, argument, owner=None):
    if not isinstance(value, (bool, np.bool_)):
        raise invalid(argument, "True or False", value, owner)
    return bool(value)


def check_choice(value, argument, choices, owner=None):
    """``value`` if it is one of ``choices`` (strings are compared lower-cased)."""
    key = value.lower() if isinstance(value, str) else value
    if not isinstance(value, (str, type(None), bool, int)) or key not in choices:
        raise invalid(argument, f"one of {tuple(choices)}", value, owner)
    return key


def check_optional_float(value, argument, owner=None, **bounds):
    """None, or ``value`` checked as ``check_float`` checks it (a ``baseline`` that may be unset)."""
    return None if value is None else check_float(value, argument, owner=owner, **bounds)


def check_instance(value, argument, types, expected, owner=None):
    """``value`` if it is an instance of ``types``; a TypeError saying ``expected`` otherwise."""
    if not isinstance(value, types):
        raise invalid(argument, expected, value, owner, error=TypeError)
    return value


def check_callable(value, argument, expected="a function", owner=None):
    if not callable(value):
        raise invalid(argument, expected, value, owner)
    return value


def check_pair(value, argument, owner=None):
    """A positive int or a pair of them -> a pair: ``2 -> (2, 2)``, ``(2, 3) -> (2, 3)``.

    Kernel sizes, pool sizes and strides, which Keras accepts in either form.
    """
    pair = (value, value) if is_int(value) else value
    try:
        pair = tuple(pair)
    except TypeError:
        pair = ()
    if len(pair) != 2 or not all(is_int(v) and v > 0 for v in pair):
        raise invalid(argument, "a positive integer or a pair of positive integers", value, owner)
    return int(pair[0]), int(pair[1])


def check_shape(value, argument, owner=None):
    """A shape without the batch axis: an int or a non-empty sequence of positive ints -> a tuple."""
    shape = (value,) if is_int(value) else value
    if isinstance(shape, (str, bytes)):
        shape = None
    try:
        shape = tuple(shape)
    except TypeError:
        shape = ()
    if not shape or not all(is_int(d) and d > 0 for d in shape):
        raise invalid(argument, "a non-empty tuple of positive integers", value, owner)
    return tuple(int(d) for d in shape)


# ----- what a user's function returns (a constraint, a regularizer) --------------------------

def function_name(function):
    """How to name a user's function in a message: ``clip``, ``<lambda>``, or its class (``L2``)."""
    return getattr(function, "__name__", None) or type(function).__name__


def describe(value):
    """A short description of a returned value: ``None``, ``a list``, ``an array of shape (3,) and dtype int64``."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} items"
    return short_repr(value)


def check_returned_array(value, like, who, expected):
    """``value``, which a user's function returned for the array ``like``, as an array of like's shape and dtype.

    Real numbers of the right shape pass (a float64 result is cast, as Keras assigns a value to a
    float32 weight); None, strings, booleans, another shape, or NaN where ``like`` has none give a
    TypeError / ValueError that starts with ``who`` (the function and whose it is) and says what was
    ``expected``.
    """
    where = f"{who} returned {describe(value)}, but it must return {expected}: an array of shape {like.shape}."
    if value is None or isinstance(value, (str, bytes, dict)):
        raise TypeError(where)
    try:
        array = np.asarray(value)
    except Exception:  # ragged lists and the like
        raise TypeError(where) from None
    if array.dtype.kind not in "iuf":
        raise TypeError(where + f" Its values must be real numbers, not {array.dtype}.")
    if array.shape != like.shape:
        raise ValueError(where)
    with np.errstate(over="ignore", invalid="ignore"):
        array = array.astype(like.dtype, copy=False)
    if np.isnan(array).any() and not np.isnan(like).any():
        raise ValueError(f"{who} returned {int(np.isnan(array).sum())} NaN value(s) for finite inputs (the largest "
                         f"|input| is {float(np.abs(like).max()):.3g}).")
    return array


def check_unique_layer_name(layer, layers, model_name):
    """Refuse a layer named like one of ``layers`` (files and ``get_layer`` find layers by name), in Keras's words.

    Automatic names never clash -- unless ``clear_session()`` ran between making two layers: it
    starts the names again from ``dense``."""
    if any(other.name == layer.name for other in layers):
        raise ValueError(
            f"All layers added to a Sequential model should have unique names. Name '{layer.name}' is already the "
            f"name of a layer in model '{model_name}'. Update the `name` argument to pass a unique name (after "
            "clear_session(), automatic names start again from the first: a layer made before it and one made "
            "after can share a name).")
