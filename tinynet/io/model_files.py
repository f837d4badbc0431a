"""Opening a model file of any format we read, and what every reader hands back.

A reader (chosen by ``tinynet.io.formats.open_model_file`` from the file's first bytes) returns a
*spec*: the model as plain data, the same for every format, so ``tinynet.io.loading`` builds a
model from it without knowing where it came from::

    {'format':          'tinynet' (our .npz), 'keras-h5', 'keras-v3' (the .keras zip),
     'kind':            'model' or 'weights' (a weights-only file has no compile settings),
     'name':            the model's name,
     'input_shape':     [int, ...] without the batch axis, or None,
     'layers':          [{'class_name': 'Dense', 'config': {...get_config()...}}, ...],
     'weight_names':    [str, ...], in model.weights order,
     'weight_shapes':   [tuple, ...], declared by the file, in model.weights order,
     'compile':         None, or {'loss': {'class_name', 'config'},
                                  'metrics': [name or {'class_name', 'config'}, ...],
                                  'loss_weights': [float, ...] or None (all 1),
                                  'optimizer': {'class_name', 'config', 'iterations'}},
     'optimizer_state': [None or {key: shape}, ...] per trainable weight (Keras's keys: m, v, ...),
     'rng_state':       a NumPy bit-generator state dict, or None}

Arrays are read separately, after the caller has compared the declared shapes with
what the configuration implies (``ModelFile.read_weights``, ``read_optimizer_state``):
a file's size says nothing about the memory its description asks for. ``read()`` gives
the whole spec with arrays in ``'weights'`` and ``'optimizer_state'``, for callers that
need no such check.
"""
import os

import numpy as np

from .errors import ModelFileError


class ModelFile:
    """A model file opened by a reader: ``spec`` (plain data, no arrays yet) and the readers of its arrays.

    Subclasses set ``path`` and ``spec`` and implement ``_weight(i)``, ``_state(i, key)`` and
    ``close()``. Every array read is checked to be finite, with the declared shape.
    """

    path = None
    spec = None

    def read_weights(self):
        """The weight arrays, in ``spec['weight_names']`` order."""
        return [self._checked(self._weight(i), shape, f"weight {name!r}")
                for i, (name, shape) in enumerate(zip(self.spec["weight_names"], self.spec["weight_shapes"]))]

    def read_optimizer_state(self):
        """Per trainable weight, None or {key: array} as ``spec['optimizer_state']`` declares."""
        return [None if keys is None else
                {key: self._checked(self._state(i, key), shape, f"optimizer state {key!r} of trainable weight {i}")
                 for key, shape in keys.items()}
                for i, keys in enumerate(self.spec["optimizer_state"])]

    def read(self):
        """The spec with the arrays in it (``'weights'``; ``'optimizer_state'`` as {key: array})."""
        return {**self.spec, "weights": self.read_weights(), "optimizer_state": self.read_optimizer_state()}

    def _checked(self, array, shape, what):
        if array.shape != tuple(shape):
            raise ModelFileError(f"{self.path} is corrupt: {what} has shape {array.shape}, declared {tuple(shape)}")
        if array.dtype.kind != "f":
            raise ModelFileError(f"{self.path} is corrupt: {what} holds {array.dtype}, expected floats")
        if not np.isfinite(array).all():
            raise ModelFileError(f"{self.path} is corrupt: {what} holds NaN or infinite values")
        return array

    def _weight(self, i):
        raise NotImplementedError

    def _state(self, i, key):
        raise NotImplementedError

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def check_path(path):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"Received an invalid value for `path`, expected a str or os.PathLike. Received: path={path!r}")


# How error messages name JSON types.
_JSON_TYPE_NAMES = {dict: "a JSON object", list: "a list", str: "a string", int: "an integer",
                    float: "a number", bool: "true or false", type(None): "null"}


def field(path, mapping, key, expected, where):
    """``mapping[key]`` from a file's JSON, checked to be of type ``expected`` (ModelFileError if not)."""
    if not isinstance(mapping, dict):
        raise ModelFileError(f"{path} is corrupt: {where} should be a JSON object, but is {short(mapping)}")
    if key not in mapping:
        raise ModelFileError(f"{path} is corrupt: {where} has no {key!r}")
    value = mapping[key]
    expected = expected if isinstance(expected, tuple) else (expected,)
    if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
        wanted = " or ".join(_JSON_TYPE_NAMES[t] for t in expected)
        raise ModelFileError(f"{path} is corrupt: {where}.{key} should be {wanted}, but is {short(value)}")
    return value


def check_input_shape(path, shape, where):
    """An input shape from a file must be None or a non-empty list of positive integers."""
    if shape is None:
        return
    if not (isinstance(shape, list) and shape and all(
            isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape)):
        raise ModelFileError(f"{path} is corrupt: {where} should be a list of positive integers, but is {short(shape)}")


# More steps than any run makes: at tinynet's fastest step (about 50 microseconds, a tiny model on one
# sample) 10**11 steps take two months without a pause; Keras runs count in the millions. A count
# read from a file beyond this (or negative) is damage, refused before any optimizer computes with it.
MAX_ITERATIONS = 10 ** 11


def check_iterations(path, value, where):
    """A step count read from a file: an integer in [0, MAX_ITERATIONS] (ModelFileError if not)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ITERATIONS:
        raise ModelFileError(f"{path} is corrupt: {where} should be a step count between 0 and {MAX_ITERATIONS:,}, "
                             f"but is {short(value)}")
    return value


def listed(names, limit=10):
    """``names`` joined by commas for a message: the first ``limit``, each cut short, and how many in all."""
    shown = ", ".join(cut(str(name), 60) for name in names[:limit])
    return shown if len(names) <= limit else f"{shown}, ... ({len(names):,} in all)"


def short(value):
    """``repr(value)``, cut short: a hostile file's values can be megabytes long."""
    return cut(repr(value), 60)


def cut(text, limit=300):
    return text if len(text) <= limit else text[:limit - 3] + "..."
