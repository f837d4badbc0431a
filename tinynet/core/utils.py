"""Small helpers shared by the whole library: one-hot labels and the random state.

Every random draw in tinynet (weight initialisation, dropout masks, the
shuffling in ``fit``) comes from one generator, ``utils.rng()``, so that
``set_random_seed(s)`` makes a whole run reproducible bit for bit.
"""
import random

import numpy as np

from .checks import check_int, invalid

_generator = np.random.default_rng()


def rng():
    """The library's random generator (a ``numpy.random.Generator``)."""
    return _generator


def set_random_seed(seed):
    """Seed tinynet, NumPy's legacy global generator and Python's ``random``.

    After ``set_random_seed(s)``, building and fitting the same model on the
    same data gives bit-identical weights and history.
    """
    global _generator
    seed = check_int(seed, "seed", minimum=0)
    _generator = np.random.default_rng(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


_epsilon = 1e-7


def epsilon():
    """The fuzz factor added to avoid dividing by zero (Keras's ``K.epsilon()``, 1e-7): used by the constraints."""
    return _epsilon


def set_epsilon(value):
    """Change ``epsilon()`` (Keras's ``K.set_epsilon``): a number in (0, 1)."""
    global _epsilon
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not 0 < value < 1:
        raise invalid("value", "a number in (0, 1)", value)
    _epsilon = float(value)


# A larger label would make a one-hot array of more than 2**31 columns: surely not a class label.
MAX_LABEL = 2**31 - 1


def to_categorical(y, num_classes=None):
    """One-hot encode integer labels: ``(N,)`` -> ``(N, num_classes)`` float32.

    Like Keras, a trailing axis of size 1 is dropped first, so ``(N, 1)`` labels work too.
    Labels must be whole numbers in ``[0, num_classes - 1]``; everything is checked
    before the array is made.
    """
    owner = "to_categorical"
    if num_classes is not None:
        num_classes = check_int(num_classes, "num_classes", minimum=1, owner=owner)
    y = np.asarray(y)
    if y.dtype.kind not in "iubf" or (y.dtype.kind == "f" and y.size and not (
            np.all(np.isfinite(y)) and np.all(y == np.round(y)))):
        raise invalid("y", "integer class labels", y, owner)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    if y.size:
        # Compared in y's own dtype, before any cast: a uint64 2**64-1 or a float 1e20 is not wrapped round.
        low, high = y.min(), y.max()
        top = MAX_LABEL if num_classes is None else num_classes - 1
        if low < 0 or high > top:
            bad = low if low < 0 else high
            raise invalid("y", f"class labels in [0, {top}]" + ("" if num_classes is None else
                          f" for num_classes={num_classes}"), bad.item(), owner)
    y = y.astype(np.int64)
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    one_hot = np.zeros(y.shape + (num_classes,), dtype=np.float32)
    np.put_along_axis(one_hot, y[..., None], 1.0, axis=-1)
    return one_hot



class Configurable:
    """``get_config`` / ``from_config`` / ``repr`` for objects made of a few settings, as Keras
    serialises them (regularizers, constraints, learning-rate schedules): a subclass's
    ``get_config`` returns the keyword arguments that rebuild it."""

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        settings = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({settings})"
