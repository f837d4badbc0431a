"""Checks on the data given to fit / evaluate / predict, with messages that say what to do.

Each check runs before any work is done, so a mistake costs no training time.
"""
import numpy as np


def as_float_array(x, argument, dtype=np.float32):
    """``x`` as a C-contiguous float array of ``dtype``, refusing non-numeric or empty data."""
    try:
        array = np.asarray(x)
    except Exception as error:  # ragged lists and the like
        raise ValueError(f"`{argument}` could not be converted to a NumPy array: {error}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"`{argument}` must hold real numbers (int, uint, float or bool). "
            f"Received an array of dtype {array.dtype}.")
    if array.ndim == 0 or array.shape[0] == 0:
        raise ValueError(f"`{argument}` is empty (shape {array.shape}); expected at least one sample.")
    return np.ascontiguousarray(array, dtype=dtype)


def check_same_length(x, y, x_name="x", y_name="y"):
    if len(x) != len(y):
        raise ValueError(
            f"`{x_name}` and `{y_name}` must have the same number of samples. "
            f"Received: {x_name} has {len(x)}, {y_name} has {len(y)}.")


def check_input_shape(model, x, argument="x"):
    expected = model.input_shape[1:]
    if tuple(x.shape[1:]) != tuple(expected):
        first = model.layers[0]
        raise ValueError(
            f"Input to layer '{first.name}' ({type(first).__name__}) of model '{model.name}' has the wrong "
            f"shape: expected {argument} of shape (None, {', '.join(map(str, expected))}), "
            f"received {argument} of shape {x.shape}.")


def as_targets(y, loss, output_shape, argument="y"):
    """Labels in the form ``loss`` needs: integers for sparse losses, floats otherwise."""
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"`{argument}` must hold numbers. Received an array of dtype {y.dtype}.")
    if y.ndim == 0 or y.shape[0] == 0:
        raise ValueError(f"`{argument}` is empty (shape {y.shape}); expected at least one label.")
    classes = output_shape[-1]
    if loss.name == "sparse_categorical_crossentropy":
        if y.ndim == 2 and y.shape[1] == classes and classes > 1:
            raise ValueError(
                f"`{argument}` looks one-hot encoded (shape {y.shape}), but the loss "
                "'sparse_categorical_crossentropy' expects integer class labels of shape (N,). "
                "Use loss='categorical_crossentropy', or pass y.argmax(axis=1).")
        if not (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)):
            raise ValueError(
                f"'sparse_categorical_crossentropy' expects integer labels of shape (N,). Received {argument} "
                f"of shape {y.shape}.")
        if y.dtype.kind == "f" and not np.all(y == np.round(y)):
            raise ValueError(f"'sparse_categorical_crossentropy' expects integer labels; `{argument}` has fractions.")
        labels = y.reshape(-1).astype(np.int64)
        if labels.min() < 0 or labels.max() >= classes:
            raise ValueError(
                f"`{argument}` has label {labels.min() if labels.min() < 0 else labels.max()}, but the model "
                f"outputs {classes} classes, so labels must be in [0, {classes - 1}].")
        return labels
    if loss.name == "categorical_crossentropy" and y.ndim == 1:
        raise ValueError(
            f"`{argument}` holds integer labels of shape {y.shape}, but 'categorical_crossentropy' expects "
            f"one-hot labels of shape (N, {classes}). Use loss='sparse_categorical_crossentropy', or "
            f"tinynet.utils.to_categorical(y, {classes}).")
    if y.ndim == 1 and len(output_shape) == 1 and classes == 1:
        y = y.reshape(-1, 1)
    if tuple(y.shape[1:]) != tuple(output_shape):
        raise ValueError(
            f"`{argument}` has shape {y.shape}, but the model's output has shape "
            f"(None, {', '.join(map(str, output_shape))}) and loss '{loss.name}' compares them elementwise.")
    return np.ascontiguousarray(y, dtype=np.float32)


def check_batch_size(batch_size):
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(
            f"Received an invalid value for `batch_size`, expected a positive integer. "
            f"Received: batch_size={batch_size!r}")
    return int(batch_size)
