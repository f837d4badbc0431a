"""Activation functions as layers: each reads as its equation and its derivative.

They are used on their own (``ReLU()``, ``Softmax()``), through ``Activation('relu')``,
or inside Dense / Conv2D via ``activation='relu'``. Each instance caches its own
forward values, so every layer gets a fresh instance from ``get``.
"""
import numpy as np

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
    """y = max(x, 0);  dx = dout * [x > 0].

    NOTE: ReLU has no derivative at 0; we use 0 there (the subgradient Keras,
    PyTorch and TensorFlow use), so a numerical check at exactly 0 would disagree.
    """

    equation = "y = max(x, 0)"

    def forward(self, x, training=False):
        # Backward needs only where x > 0, which is where y > 0: keep y (a reference,
        # no extra work) and find the mask in backward, so inference never pays for it.
        self.y = np.maximum(x, 0)
        return self.y

    def backward(self, dout):
        return dout * (self.y > 0)


class Sigmoid(Layer):
    """y = 1 / (1 + exp(-x));  dx = dout * y * (1 - y).

    As the output layer before binary cross-entropy it can be fused with the
    loss, like Softmax (see ``Softmax``).
    """

    equation = "y = 1 / (1 + exp(-x))"

    fused_with_loss = False

    def forward(self, x, training=False):
        # NOTE: exp of -|x| never overflows; both branches give 1 / (1 + exp(-x)).
        e = np.exp(-np.abs(x))
        self.y = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        if self.fused_with_loss:
            self.logits = x
        return self.y

    def backward(self, dout):
        if self.fused_with_loss:
            return dout  # the loss has already differentiated through the sigmoid
        return dout * self.y * (1 - self.y)


class Tanh(Layer):
    """y = tanh(x);  dx = dout * (1 - y^2)."""

    equation = "y = tanh(x)"

    def forward(self, x, training=False):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dout):
        return dout * (1 - self.y * self.y)


class Softmax(Layer):
    """p_i = exp(z_i) / sum_j exp(z_j) over the last axis.

    backward (the Jacobian-vector product): dz_i = p_i * (dp_i - sum_j dp_j p_j).

    Fused with cross-entropy: when a model ends in Softmax and is compiled with a
    cross-entropy loss, ``Sequential.compile`` sets ``fused_with_loss``. Then the
    loss reads the logits ``z`` kept here and computes log-softmax directly (never
    ``log(0)``), its gradient is already dL/dz = (p - y) / N, and this backward
    passes it through unchanged.
    """

    equation = "p = exp(z - max z) / sum(exp(z - max z))"

    fused_with_loss = False

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if axis != -1:
            raise ValueError(f"Softmax supports only axis=-1 (the last axis). Received: axis={axis!r}")
        self.axis = axis

    def forward(self, x, training=False):
        self.p = softmax(x)
        if self.fused_with_loss:
            self.logits = x
        return self.p

    def backward(self, dout):
        if self.fused_with_loss:
            return dout
        return self.p * (dout - (dout * self.p).sum(axis=-1, keepdims=True))

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
