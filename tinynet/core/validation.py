"""Checks on the data and settings given to fit / evaluate / predict, with messages that say what to do.

Each check runs before any work is done, so a mistake costs no training time.
They are cheap: the whole training set is looked at once per ``fit`` (a min and
a max over ``x``), never once per batch.
"""
import numbers
import os
import sys
import warnings

import numpy as np

from . import data_adapter
from .checks import check_bool, check_int, invalid, is_int, short_repr


def as_float_array(x, argument, dtype=np.float32):
    """``x`` as a C-contiguous float array of ``dtype``, refusing non-numeric or empty data."""
    if x is None:
        raise ValueError(f"Received no value for `{argument}`: expected an array of samples. Received: {argument}=None")
    _refuse_streams(x, argument)
    try:
        array = np.asarray(x)
    except Exception as error:  # ragged lists and the like
        raise ValueError(f"`{argument}` could not be converted to a NumPy array: {error}") from None
    if array.dtype.kind not in "biuf":
        kind = {"c": "complex numbers", "U": "strings", "S": "bytes", "O": "Python objects"}.get(
            array.dtype.kind, f"values of dtype {array.dtype}")
        raise TypeError(
            f"`{argument}` must hold real numbers (int, uint, float or bool). "
            f"Received an array of dtype {array.dtype} ({kind}).")
    if array.ndim == 0 or array.shape[0] == 0:
        raise ValueError(f"`{argument}` is empty (shape {array.shape}); expected at least one sample.")
    # A float64 too large for float32 becomes inf here; check_values reports it, with its place.
    with np.errstate(over="ignore"):
        return np.ascontiguousarray(array, dtype=dtype)


def _refuse_streams(x, argument):
    """Say so when a dataset, a generator or a Sequence reaches code that takes arrays (rather than 'dtype object')."""
    if data_adapter.is_array_structure(x):
        return
    try:
        kind = data_adapter.kind_of(x)
    except TypeError:
        return                                  # not data at all: np.asarray's own error says what it is
    raise TypeError(f"`{argument}` is a {kind}, but fit / evaluate / predict take NumPy arrays only: reading a {kind} "
                    "batch by batch (tinynet.core.data_adapter.EpochIterator) is not wired into them yet. Pass "
                    f"arrays, e.g. {argument} = np.concatenate([batch_x for batch_x, batch_y in data]).")


def check_values(x, argument, warn_unscaled=True):
    """Refuse NaN / infinite values in ``x``; warn if it looks like unscaled 0-255 pixels.

    Returns True when it warned, so the model can remember and warn only once.
    """
    # NOTE: min and max propagate NaN and reach +-inf, so two reductions (no
    # temporary array) decide whether every value is finite; only when one is
    # not do we build the mask that counts and locates them.
    low, high = x.min(), x.max()
    if not (np.isfinite(low) and np.isfinite(high)):
        _raise_not_finite(x, argument)
    # Raw 8-bit images: whole numbers in [0, 255] whose maximum is in the upper half
    # (a bright pixel); small counts such as 0-99 are left alone.
    if not warn_unscaled or not (low >= 0 and 127 < high <= 255):
        return False
    # A sample of the values is enough to tell whole numbers from other data.
    sample = x.reshape(-1)[:4096]
    if not np.array_equal(sample, np.round(sample)):
        return False
    warnings.warn(
        f"`{argument}` holds whole numbers from {low:g} to {high:g}: it looks like unscaled 0-255 pixel "
        "values. Networks train poorly (accuracy stuck low) on inputs this large; scale them first, "
        f"e.g. {argument} = {argument}.astype('float32') / 255. (tinynet warns once per model.)",
        UserWarning, stacklevel=_stacklevel_outside_tinynet())
    return True


def _stacklevel_outside_tinynet():
    """The ``stacklevel`` that makes a warning point at the user's line, not at tinynet's."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(2), 2  # frame 2 (level 2): the caller of the function that warns
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def _raise_not_finite(array, argument):
    bad = ~np.isfinite(array)
    count = int(bad.sum())
    first = np.unravel_index(int(np.argmax(bad)), array.shape)
    where = f"{argument}[{', '.join(str(int(i)) for i in first)}]"
    nans = int(np.isnan(array).sum())
    raise ValueError(
        f"`{argument}` contains {count} NaN or infinite value{'s' if count > 1 else ''} ({nans} NaN, "
        f"{count - nans} infinite) out of {array.size}; the first is {where} = {array[first]}. "
        "Remove those samples or replace the values (e.g. np.nan_to_num) before training.")


def check_same_length(x, y, x_name="x", y_name="y"):
    if len(x) != len(y):
        raise ValueError(
            f"`{x_name}` and `{y_name}` must have the same number of samples. "
            f"Received: {x_name} has {len(x)}, {y_name} has {len(y)}.")


def check_input_shape(model, x, argument="x"):
    expected = tuple(model.input_shape[1:])
    received = tuple(x.shape[1:])
    if received != expected:
        first = model.layers[0]
        hint = ""
        if received + (1,) == expected:
            hint = f" Add the channel axis: {argument}[..., None] (or {argument}.reshape(-1, {', '.join(map(str, expected))}))."
        elif int(np.prod(received)) == int(np.prod(expected)):
            hint = f" The sizes agree: reshape it with {argument}.reshape(-1, {', '.join(map(str, expected))})."
        raise ValueError(
            f"Input to layer '{first.name}' ({type(first).__name__}) of model '{model.name}' has the wrong "
            f"shape: expected {argument} of shape (None, {', '.join(map(str, expected))}), "
            f"received {argument} of shape {x.shape}.{hint}")


def as_targets(y, loss, output_shape, argument="y", output_layer=None):
    """Labels in the form ``loss`` needs: integers for sparse losses, floats otherwise.

    ``output_layer`` is the model's last layer, named in the messages.
    """
    if y is None:
        raise ValueError(f"Received no value for `{argument}`: expected the targets (labels). "
                         f"Received: {argument}=None")
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"`{argument}` must hold real numbers (int, uint, float or bool). "
                        f"Received an array of dtype {y.dtype}.")
    if y.ndim == 0 or y.shape[0] == 0:
        raise ValueError(f"`{argument}` is empty (shape {y.shape}); expected at least one label.")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        _raise_not_finite(y, argument)
    classes = output_shape[-1]
    last = f"the last layer '{output_layer.name}'" if output_layer is not None else "the model"
    if loss.name == "sparse_categorical_crossentropy":
        if y.ndim == 2 and y.shape[1] == classes and classes > 1:
            raise ValueError(
                f"`{argument}` looks one-hot encoded (shape {y.shape}), but the loss "
                "'sparse_categorical_crossentropy' expects integer class labels of shape (N,). "
                f"Use loss='categorical_crossentropy', or pass {argument}.argmax(axis=1).")
        if not (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)):
            raise ValueError(
                f"'sparse_categorical_crossentropy' expects integer labels of shape (N,). Received {argument} "
                f"of shape {y.shape}, while {last} outputs {classes} classes.")
        if y.dtype.kind == "f" and not np.all(y == np.round(y)):
            raise ValueError(f"'sparse_categorical_crossentropy' expects integer labels; `{argument}` has fractions.")
        # Compared in y's own dtype, so 2**64 - 1 (uint64) or 1e20 is reported as itself, not wrapped around.
        low, high = y.min(), y.max()
        if low < 0 or high >= classes:
            bad = low if low < 0 else high
            hint = f" Give the last layer {int(high) + 1} units if there are {int(high) + 1} classes." if (
                low >= 0 and high < 2 ** 31) else ""
            raise ValueError(
                f"`{argument}` has label {int(bad)} (at index {int(np.argmax(y.reshape(-1) == bad))}), but {last} "
                f"outputs {classes} classes, so labels must be in [0, {classes - 1}].{hint}")
        return y.reshape(-1).astype(np.int64)
    if loss.name == "categorical_crossentropy":
        if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1 and classes > 1):
            raise ValueError(
                f"`{argument}` holds integer labels of shape {y.shape}, but 'categorical_crossentropy' expects "
                f"one-hot labels of shape (N, {classes}). Use loss='sparse_categorical_crossentropy', or "
                f"tinynet.utils.to_categorical({argument}, {classes}).")
        if y.ndim == 2 and y.shape[1] != classes:
            raise ValueError(
                f"`{argument}` is one-hot encoded for {y.shape[1]} classes (shape {y.shape}), but {last} outputs "
                f"{classes} classes. Give the last layer {y.shape[1]} units, or encode {argument} for {classes} "
                "classes.")
        _check_class_probabilities(y, argument)
    if loss.name == "binary_crossentropy" and (y.min() < 0 or y.max() > 1):
        raise ValueError(
            f"'binary_crossentropy' expects targets in [0, 1]. Received `{argument}` with values from "
            f"{y.min()} to {y.max()}. For more than two classes use 'sparse_categorical_crossentropy'.")
    if y.ndim == 1 and len(output_shape) == 1 and classes == 1:
        y = y.reshape(-1, 1)
    if tuple(y.shape[1:]) != tuple(output_shape):
        raise ValueError(
            f"`{argument}` has shape {y.shape}, but {last} outputs shape "
            f"(None, {', '.join(map(str, output_shape))}) and loss '{loss.name}' compares them elementwise.")
    return np.ascontiguousarray(y, dtype=np.float32)


def _check_class_probabilities(y, argument):
    """Categorical targets say how likely each class is: no negative entry, no all-zero row.

    One-hot rows, soft labels (label smoothing) and multi-hot rows pass; the loss's
    gradient is exact for all of them (``losses.CategoricalCrossentropy``).
    """
    if y.min() < 0:
        where = np.unravel_index(int(np.argmin(y)), y.shape)
        raise ValueError(
            f"'categorical_crossentropy' expects targets that are class probabilities (one-hot or soft labels), "
            f"but `{argument}` has the negative value {y[where]} at index {tuple(int(i) for i in where)}.")
    empty = ~y.any(axis=-1)
    if empty.any():
        where = np.unravel_index(int(np.argmax(empty)), empty.shape)
        raise ValueError(
            f"'categorical_crossentropy' expects each target row to name a class (one-hot) or give class "
            f"probabilities, but row {tuple(int(i) for i in where)} of `{argument}` is all zeros "
            f"({int(empty.sum())} such rows).")


def check_batch_size(batch_size):
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(
            f"Received an invalid value for `batch_size`, expected a positive integer. "
            f"Received: batch_size={short_repr(batch_size)}")
    return int(batch_size)


def check_epochs(epochs):
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(
            f"Received an invalid value for `epochs`, expected a non-negative integer. Received: epochs={epochs!r}")
    return int(epochs)


def check_validation_split(validation_split):
    # numbers.Real leaves out strings and None, which would fail the comparison with a TypeError of their own.
    if (isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real)
            or not 0 <= validation_split < 1):
        raise ValueError(
            "Received an invalid value for `validation_split`, expected a float in [0, 1). "
            f"Received: validation_split={validation_split!r}")
    return float(validation_split)


def check_validation_data(validation_data):
    """``(x_val, y_val)`` or ``(x_val, y_val, sample_weight_val)`` from ``validation_data``, as Keras takes it;
    or a dataset, Sequence or generator, which yields its own batches."""
    if not isinstance(validation_data, (tuple, list, dict, str, np.ndarray)) and (
            hasattr(validation_data, "__iter__") or hasattr(validation_data, "__getitem__")):
        return validation_data
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        received = (f"a {type(validation_data).__name__} of {len(validation_data)} items"
                    if isinstance(validation_data, (tuple, list)) else f"a {type(validation_data).__name__}")
        raise ValueError(
            "Received an invalid value for `validation_data`, expected a tuple (x_val, y_val) "
            f"or (x_val, y_val, sample_weight_val). Received: {received}.")
    return validation_data


def check_verbose(verbose):
    """0 (silent), 1 (progress bar), 2 (one line per epoch) or 'auto' (= 1, as Keras outside a cluster)."""
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool):  # fit(verbose=False), as scripts write it (Keras takes it as 0 / 1)
        return int(verbose)
    if not is_int(verbose) or not 0 <= verbose <= 2:
        raise invalid("verbose", "0, 1, 2 or 'auto'", verbose)
    return int(verbose)


def check_fit_arguments(batch_size, epochs, initial_epoch, shuffle, verbose, validation_split, validation_data):
    """``fit``'s settings, checked before any work: ``(batch_size, epochs, initial_epoch, shuffle, verbose, split)``."""
    epochs = check_epochs(epochs)
    initial_epoch = check_int(initial_epoch, "initial_epoch", 0, epochs)
    if validation_data is not None:
        check_validation_data(validation_data)
    return (check_batch_size(batch_size), epochs, initial_epoch, check_bool(shuffle, "shuffle"),
            check_verbose(verbose), check_validation_split(validation_split))
