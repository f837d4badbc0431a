"""Weight constraints: after each optimizer step, a weight is replaced by ``constraint(w)``.

    MaxNorm(m):    each slice's norm is clipped to at most m:    w * clip(n, 0, m) / (eps + n)
    UnitNorm:      each slice is scaled to norm 1:               w / (eps + n)
    MinMaxNorm:    norms pulled into [min, max] at ``rate``:
                   w * (rate * clip(n, min, max) + (1 - rate) * n) / (eps + n)
    NonNeg:        negative entries set to 0:                    w * (w >= 0)

where ``n = sqrt(sum(w^2, axis, keepdims=True))`` and ``eps = 1e-7`` (``tinynet.utils.epsilon()``, Keras's ``K.epsilon()``).

Keras's axis convention: the norm is taken over ``axis`` and one norm is kept
per remaining index. A Dense kernel is ``(in, out)``, so the default ``axis=0``
constrains the vector of weights coming *into* each unit. For a Conv2D kernel
``(kh, kw, C_in, C_out)`` use ``axis=[0, 1, 2]``: one norm per filter.

The optimizer calls a constraint through ``apply``, which checks what it returns (a user's
function may return anything) before the step commits.
"""
import numpy as np

from .checks import check_float, check_returned_array, function_name, invalid, short_repr
from .utils import Configurable, epsilon


def _axis(value, owner):
    if isinstance(value, (list, tuple)):
        if not value or not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in value):
            raise invalid("axis", "an integer or a list of integers", value, owner)
        return tuple(int(a) for a in value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    raise invalid("axis", "an integer or a list of integers", value, owner)


def _norms(w, axis):
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


class Constraint(Configurable):
    """Base class: ``constraint(w) -> new w`` (a new array; ``w`` is left as it was)."""

    def __call__(self, w):
        return w


class MaxNorm(Constraint):
    """Clip each slice's L2 norm (over ``axis``) to at most ``max_value``."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = check_float(max_value, "max_value", minimum=0, min_open=True, owner="MaxNorm")
        self.axis = _axis(axis, "MaxNorm")

    def __call__(self, w):
        n = _norms(w, self.axis)
        desired = np.clip(n, 0, self.max_value)
        return (w * (desired / (epsilon() + n))).astype(w.dtype, copy=False)

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Set negative weights to 0."""

    def __call__(self, w):
        return w * (w >= 0).astype(w.dtype)


class UnitNorm(Constraint):
    """Scale each slice (over ``axis``) to L2 norm 1."""

    def __init__(self, axis=0):
        self.axis = _axis(axis, "UnitNorm")

    def __call__(self, w):
        return (w / (epsilon() + _norms(w, self.axis))).astype(w.dtype, copy=False)

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Move each slice's norm towards ``[min_value, max_value]``; ``rate=1`` moves it all the way."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = check_float(min_value, "min_value", minimum=0, owner="MinMaxNorm")
        self.max_value = check_float(max_value, "max_value", minimum=self.min_value, owner="MinMaxNorm")
        self.rate = check_float(rate, "rate", minimum=0, maximum=1, owner="MinMaxNorm")
        self.axis = _axis(axis, "MinMaxNorm")

    def __call__(self, w):
        n = _norms(w, self.axis)
        desired = self.rate * np.clip(n, self.min_value, self.max_value) + (1 - self.rate) * n
        return (w * (desired / (epsilon() + n))).astype(w.dtype, copy=False)

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


def apply(constraint, w, name):
    """``constraint(w)`` for the weight called ``name`` (``'dense/kernel'``), checked: real numbers of w's
    shape, in w's dtype (a float64 result is cast). Anything else -- None, a list of another
    shape, a scalar, NaN for finite weights -- raises an error naming the constraint and the layer;
    the optimizer then commits nothing."""
    layer, _, part = name.rpartition("/")
    return check_returned_array(constraint(w), w, f"Layer '{layer}': the {part}_constraint {function_name(constraint)}",
                                "the new weight")


# Keras's lower-case spellings.
max_norm = MaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
min_max_norm = MinMaxNorm

ALL = {"max_norm": MaxNorm, "maxnorm": MaxNorm, "non_neg": NonNeg, "nonneg": NonNeg,
       "unit_norm": UnitNorm, "unitnorm": UnitNorm, "min_max_norm": MinMaxNorm, "minmaxnorm": MinMaxNorm}


def get(identifier):
    """A constraint from None, a name (``'max_norm'``, ``'non_neg'`` ...), a Keras config dict
    (``{'class_name': 'MaxNorm', 'config': {...}}``), a Constraint, or any callable ``w -> new w``."""
    if identifier is None or isinstance(identifier, Constraint):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in ALL:
        return ALL[identifier.lower()]()
    if isinstance(identifier, dict) and str(identifier.get("class_name", "")).lower() in ALL:
        return ALL[identifier["class_name"].lower()](**identifier.get("config", {}))
    if callable(identifier) and not isinstance(identifier, (str, dict)):
        return identifier
    raise ValueError(f"Unknown constraint: {short_repr(identifier)}. Expected one of {sorted(ALL)}, a Constraint, "
                     "or a function w -> new w.")
