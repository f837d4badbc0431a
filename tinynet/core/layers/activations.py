"""Activation functions as layers: each reads as its equation and its derivative.

The essential ones are here (Linear, ReLU, Sigmoid, Tanh, Softmax), then the one table of names
(``ACTIVATIONS``, ``get``); the others Keras has (ELU, SELU, Swish, GELU, LeakyReLU, PReLU, Softplus,
Softsign, HardSigmoid, Exponential) are in ``activations_more.py``, written the same way.

They are used on their own (``ReLU()``, ``Softmax()``), through ``Activation('relu')``,
or inside Dense / Conv2D via ``activation='relu'``. Each instance keeps its own
``cache`` (the output y, which every derivative here is written in), so every layer
gets a fresh instance from ``get``.
"""
import numpy as np

from ..checks import invalid, is_int, short_repr
from ..ops import softmax
from ..tensor import PAIRS, Tensor
from .activations_more import ELU, GELU, SELU, Exponential, HardSigmoid, LeakyReLU, Softplus, Softsign, Swish
from .base import IDENTITY, Layer


class Linear(Layer, IDENTITY):
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
    pairs_with = PAIRS["sigmoid"]   # a cross-entropy given its output takes its input, the logits

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
    pairs_with = PAIRS["softmax"]   # a cross-entropy given its output takes its input, the logits z

    def forward(self, x, training=False):
        p = softmax(x)
        self.cache = (p,)
        return p

    def backward(self, dout):
        (p,) = self.cache
        return p * (dout - (dout * p).sum(axis=-1, keepdims=True))

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not is_int(axis) or axis != -1:
            raise invalid("axis", "-1 (Softmax supports only the last axis)", axis)
        self.axis = axis


ACTIVATIONS = {"linear": Linear, "relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "softmax": Softmax,
               "elu": ELU, "selu": SELU, "swish": Swish, "silu": Swish, "gelu": GELU, "softplus": Softplus,
               "softsign": Softsign, "hard_sigmoid": HardSigmoid, "exponential": Exponential}


class _LeakyReLUFunction(LeakyReLU):
    """``activation='leaky_relu'``: Keras's function, whose default slope is 0.2 (the layer's is 0.3)."""

    def __init__(self, negative_slope=0.2, **kwargs):
        super().__init__(negative_slope=negative_slope, **kwargs)


ACTIVATIONS["leaky_relu"] = _LeakyReLUFunction


def as_function(name):
    """The activation ``name`` as a function, ``relu(x)``: what ``keras.activations.relu`` and ``tf.nn.relu``
    are. It returns a Tensor computed by the layer (recorded on the tape, so a ``GradientTape`` differentiates
    through it with the layer's backward); given as a layer's ``activation=``, it means that layer."""
    layer_class = ACTIVATIONS[name]

    def activation(x, **settings):
        # Called as a layer, not through its forward alone: given a tensor computed inside a GradientTape the
        # call is a node of the tape (its backward the layer's), and the result is a Tensor (``.numpy()``).
        if not isinstance(x, Tensor):
            x = np.asarray(x)
            x = x if x.dtype.kind == "f" else x.astype(np.float32)
        return layer_class(name=f"{name}_function", **settings)(x)
    activation.__name__ = activation.__qualname__ = name
    activation.__doc__ = (f"The {name} activation of an array, ``{layer_class.equation}`` (the forward of "
                          f"``tinynet.layers.{layer_class.__name__}``); ``activation={name}`` in a layer means "
                          f"``activation='{name}'``.")
    return activation


# One function per name (the same object under every alias): ``keras.activations.relu``, ``tf.nn.relu``.
FUNCTIONS = {name: as_function(name) for name in ACTIVATIONS}
FUNCTIONS["silu"] = FUNCTIONS["swish"]
_NAMES_OF_FUNCTIONS = {function: name for name, function in reversed(list(FUNCTIONS.items()))}


def get(identifier, owner="layer"):
    """A fresh activation layer from a Keras name (``'relu'``), an activation function (``tf.nn.relu``,
    ``keras.activations.relu``), an activation layer class, or ``None`` (linear)."""
    if identifier is None:
        return Linear(name=f"{owner}_linear")
    if isinstance(identifier, str) and identifier.lower() in ACTIVATIONS:
        return ACTIVATIONS[identifier.lower()](name=f"{owner}_{identifier.lower()}")
    if callable(identifier) and not isinstance(identifier, type) and identifier in _NAMES_OF_FUNCTIONS:
        name = _NAMES_OF_FUNCTIONS[identifier]
        return ACTIVATIONS[name](name=f"{owner}_{name}")
    if isinstance(identifier, type) and identifier in ACTIVATIONS.values():
        return identifier(name=f"{owner}_{identifier.__name__.lower()}")
    if callable(identifier):
        raise ValueError(
            f"Layer '{owner}': the activation {getattr(identifier, '__name__', identifier)!r} is a Python function "
            "tinynet does not know, and a layer needs its derivative for backward. Give a built-in one by name "
            f"(one of {sorted(ACTIVATIONS)}) or as tf.nn.relu / keras.activations.relu, or wrap your function's "
            "maths in a Layer subclass with forward and backward.")
    raise ValueError(
        f"Unknown activation: {short_repr(identifier)}. Expected one of {sorted(ACTIVATIONS)} or None.")


def name_of(activation):
    """The Keras name of an activation layer (inverse of ``get``)."""
    for name, cls in ACTIVATIONS.items():
        if type(activation) is cls:
            return name
    raise ValueError(f"{activation!r} is not a built-in activation")
