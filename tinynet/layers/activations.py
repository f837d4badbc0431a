"""Activation functions as layers: each reads as its equation and its derivative.

They are used on their own (``ReLU()``, ``Softmax()``), through ``Activation('relu')``,
or inside Dense / Conv2D via ``activation='relu'``. Each instance keeps its own
``cache`` (the output y, which every derivative here is written in), so every layer
gets a fresh instance from ``get``.
"""
import numpy as np

from ..checks import invalid, is_int
from ..ops import softmax
from .base import Layer


class Linear(Layer):
    """y = x;  dx = dout."""

    equation = "y = x"

    def forward(self, x, training=False):
        return x

    def backward(self, dout):
        return dout


class ReLU(Layer):
    """y = max(x, 0);  dx = dout * [x > 0].   Cache: (y,).

    NOTE: ReLU has no derivative at 0; we use 0 there (the subgradient Keras,
    PyTorch and TensorFlow use), so a numerical check at exactly 0 would disagree.
    """

    equation = "y = max(x, 0)"

    def forward(self, x, training=False):
        y = np.maximum(x, 0)
        # x > 0 exactly where y > 0: keeping y (a reference, no extra work) defers the mask
        # to backward, so inference never pays for it.
        self.cache = (y,)
        return y

    def backward(self, dout):
        return dout * self.mask()

    def mask(self):
        """[x > 0] for the last forward's x: which side of the kink at 0 each input is on."""
        (y,) = self.cache
        return y > 0


class Sigmoid(Layer):
    """y = 1 / (1 + exp(-x));  dx = dout * y * (1 - y).   Cache: (y,)."""

    equation = "y = 1 / (1 + exp(-x))"

    def forward(self, x, training=False):
        # NOTE: exp of -|x| never overflows; both branches are 1 / (1 + exp(-x)).
        e = np.exp(-np.abs(x))
        y = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        self.cache = (y,)
        return y

    def backward(self, dout):
        (y,) = self.cache
        return dout * y * (1 - y)


class Tanh(Layer):
    """y = tanh(x);  dx = dout * (1 - y^2).   Cache: (y,)."""

    equation = "y = tanh(x)"

    def forward(self, x, training=False):
        y = np.tanh(x)
        self.cache = (y,)
        return y

    def backward(self, dout):
        (y,) = self.cache
        return dout * (1 - y * y)


class Softmax(Layer):
    """p_i = exp(z_i) / sum_j exp(z_j) over the last axis.   Cache: (p,).

    Backward is the vector-Jacobian product dz = dp J with J_ij = dp_i/dz_j = p_i ([i = j] - p_j):

        dz_j = sum_i dp_i p_i ([i = j] - p_j) = p_j * (dp_j - sum_i dp_i p_i)

    one line, no K x K matrix. (Before a cross-entropy the model hands the logits z to
    the loss instead, whose gradient is then p - y: see ``tinynet.losses``.)
    """

    equation = "p = exp(z - max z) / sum(exp(z - max z))"

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not is_int(axis) or axis != -1:
            raise invalid("axis", "-1 (Softmax supports only the last axis)", axis)
        self.axis = axis

    def forward(self, x, training=False):
        p = softmax(x)
        self.cache = (p,)
        return p

    def backward(self, dout):
        (p,) = self.cache
        return p * (dout - (dout * p).sum(axis=-1, keepdims=True))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


ACTIVATIONS = {"linear": Linear, "relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "softmax": Softmax}


def get(identifier, owner="layer"):
    """A fresh activation layer from a Keras name (``'relu'``) or ``None`` (linear)."""
    if identifier is None:
        return Linear(name=f"{owner}_linear")
    if isinstance(identifier, str) and identifier.lower() in ACTIVATIONS:
        return ACTIVATIONS[identifier.lower()](name=f"{owner}_{identifier.lower()}")
    if isinstance(identifier, type) and identifier in ACTIVATIONS.values():
        return identifier(name=f"{owner}_{identifier.__name__.lower()}")
    raise ValueError(
        f"Unknown activation: {identifier!r}. Expected one of {sorted(ACTIVATIONS)} or None.")


def name_of(activation):
    """The Keras name of an activation layer (inverse of ``get``)."""
    for name, cls in ACTIVATIONS.items():
        if type(activation) is cls:
            return name
    raise ValueError(f"{activation!r} is not a built-in activation")
