"""Small helpers shared by the whole library: one-hot labels and the random state.

Every random draw in tinynet (weight initialisation, dropout masks, the
shuffling in ``fit``) comes from one generator, ``utils.rng()``, so that
``set_random_seed(s)`` makes a whole run reproducible bit for bit.
"""
import random

import numpy as np

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
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(
            f"Received an invalid value for `seed`, expected a non-negative integer. Received: seed={seed!r}")
    _generator = np.random.default_rng(int(seed))
    np.random.seed(int(seed) % 2**32)
    random.seed(int(seed))


def to_categorical(y, num_classes=None):
    """One-hot encode integer labels: ``(N,)`` -> ``(N, num_classes)`` float32.

    Like Keras, a trailing axis of size 1 is dropped first, so ``(N, 1)`` labels work too.
    """
    y = np.asarray(y)
    if y.dtype.kind not in "iub":
        if y.dtype.kind == "f" and y.size and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            raise ValueError(
                f"to_categorical expects integer class labels. Received an array of dtype {y.dtype}.")
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    y = y.astype(np.int64)
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical expects labels >= 0. Received a label {y.min()}.")
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    elif y.size and y.max() >= num_classes:
        raise ValueError(
            f"to_categorical received label {y.max()}, which does not fit num_classes={num_classes} "
            f"(labels must be in [0, {num_classes - 1}]).")
    one_hot = np.zeros(y.shape + (num_classes,), dtype=np.float32)
    np.put_along_axis(one_hot, y[..., None], 1.0, axis=-1)
    return one_hot
