"""Keras's old ``keras.utils.np_utils`` module: ``np_utils.to_categorical(y, num_classes)``.

Scripts written for Keras 1 and early Keras 2 do ``from keras.utils import np_utils``;
with tinynet that is ``from tinynet.utils import np_utils`` (or ``from tinynet import np_utils``).
"""
import numpy as np

from ..core.utils import to_categorical


def normalize(x, axis=-1, order=2):
    """``x`` divided by its ``order``-norm along ``axis`` (rows of norm 0 are left at 0)."""
    x = np.asarray(x)
    norms = np.atleast_1d(np.linalg.norm(x, order, axis))
    norms[norms == 0] = 1
    return x / np.expand_dims(norms, axis)


__all__ = ["to_categorical", "normalize"]
