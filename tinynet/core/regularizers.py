"""Weight regularizers: a penalty on a weight array, added to the loss.

    L1:    penalty = l1 * sum(|w|)             d penalty / dw = l1 * sign(w)
    L2:    penalty = l2 * sum(w^2)             d penalty / dw = 2 * l2 * w
    L1L2:  penalty = L1 + L2                   d penalty / dw = the sum of both

As in Keras: ``Dense(64, kernel_regularizer=regularizers.l2(0.01))``; the model
adds the penalty of every regularized weight to the loss it reports and adds
``gradient(w)`` to that weight's gradient. Note the L2 penalty has no 1/2: its
gradient is ``2 * l2 * w``.

NOTE: |w| has no derivative at 0; like Keras (whose ``sign(0) = 0``) we use the
subgradient 0 there.

The model asks for penalties and gradients through ``penalty`` and ``penalty_gradient``,
which check what a regularizer returns -- a user's may return anything -- and name it
and its layer when that is not one number, or an array shaped like the weight.
"""
import math

import numpy as np

from .checks import check_float, check_returned_array, describe, function_name, is_real, short_repr
from .utils import Configurable


class Regularizer(Configurable):
    """Base class: ``regularizer(w) -> float`` (the penalty) and ``regularizer.gradient(w) -> array``."""

    def __call__(self, w):
        raise NotImplementedError

    def gradient(self, w):
        raise NotImplementedError


class L1(Regularizer):
    """``l1 * sum(|w|)``."""

    def __init__(self, l1=0.01):
        self.l1 = check_float(l1, "l1", minimum=0, owner="L1")

    def __call__(self, w):
        return self.l1 * float(np.sum(np.abs(w)))

    def gradient(self, w):
        return self.l1 * np.sign(w)

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(w^2)``."""

    def __init__(self, l2=0.01):
        self.l2 = check_float(l2, "l2", minimum=0, owner="L2")

    def __call__(self, w):
        return self.l2 * float(np.sum(np.square(w)))

    def gradient(self, w):
        return 2.0 * self.l2 * w

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w^2)``. Both factors default to 0, as in Keras's class."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = check_float(l1, "l1", minimum=0, owner="L1L2")
        self.l2 = check_float(l2, "l2", minimum=0, owner="L1L2")

    def __call__(self, w):
        return self.l1 * float(np.sum(np.abs(w))) + self.l2 * float(np.sum(np.square(w)))

    def gradient(self, w):
        return self.l1 * np.sign(w) + 2.0 * self.l2 * w

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


def penalty(regularizer, x, name):
    """``regularizer(x)``, the penalty added to the loss, checked: one real number, not NaN.

    ``name`` says whose it is: ``'dense/kernel'`` (a weight) or ``'dense/activity'`` (the
    output of layer ``dense``). Anything else (an array, None) raises an error naming the
    regularizer and the layer, before the loss is used: no weight changes.
    """
    value = regularizer(x)
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if not is_real(value) or math.isnan(value):
        raise (ValueError if is_real(value) else TypeError)(
            f"{_who(regularizer, name)} returned {describe(value)}, but it must return the penalty: one number "
            f"(e.g. 0.01 * np.sum(w ** 2)).")
    return float(value)


def penalty_gradient(regularizer, x, name):
    """``regularizer.gradient(x)``, d(penalty)/dx, checked: real numbers of x's shape, in x's dtype."""
    return check_returned_array(regularizer.gradient(x), x, _who(regularizer, name, ".gradient"),
                                "d(penalty)/dw")


def _who(regularizer, name, method=""):
    layer, _, part = name.rpartition("/")
    return f"Layer '{layer}': the {part}_regularizer {function_name(regularizer)}{method}"


# Keras's lower-case spellings: l1(0.01), l2(0.01) are the classes; l1_l2 defaults both factors to 0.01.
l1 = L1
l2 = L2


def l1_l2(l1=0.01, l2=0.01):
    return L1L2(l1=l1, l2=l2)


ALL = {"l1": L1, "l2": L2, "l1_l2": l1_l2, "l1l2": L1L2}


def get(identifier):
    """A regularizer from None, a name (``'l2'``, with Keras's default factor 0.01), a Keras config dict
    (``{'class_name': 'L2', 'config': {'l2': 0.01}}``), a Regularizer, or any callable ``w -> penalty``
    that also has a ``gradient`` method."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in ALL:
        return ALL[identifier.lower()]()
    if isinstance(identifier, dict) and str(identifier.get("class_name", "")).lower() in ALL:
        return ALL[identifier["class_name"].lower()](**identifier.get("config", {}))
    if callable(identifier) and callable(getattr(identifier, "gradient", None)):
        return identifier
    raise ValueError(
        f"Unknown regularizer: {short_repr(identifier)}. Expected one of {sorted(ALL)}, a Regularizer such as "
        "regularizers.l2(0.01), or an object with __call__(w) and gradient(w) (tinynet needs the gradient).")
