"""The core layers: Dense, Activation, Dropout, Flatten, Reshape, InputLayer, Lambda.

Each class reads maths first (``forward``, ``backward``), then Keras's lifecycle (``__init__`` checks and
stores the settings, ``build`` makes the weights); the settings' checks shared with other layers are at the end.
"""
import numpy as np

from .. import constraints, initializers, regularizers
from ..checks import check_bool, check_float, check_int, check_shape, invalid, short_repr
from ..ops import check_impl
from ..utils import rng
from . import activations
from .base import Layer


class Dense(Layer):
    """Fully connected layer: ``z = x @ w + b``, then ``y = act(z)``.

    Shapes: ``x: (N, D)``, kernel ``w: (D, units)``, bias ``b: (units,)``, ``z, y: (N, units)``
    (inputs with more axes are applied to the last one, as in Keras). Cache: (x,).

    Backward, given ``dz = dL/dz``:
        dw = x.T @ dz        db = sum_n dz        dx = dz @ w.T

    ``activation='relu'`` runs after ``forward`` as a layer of its own (``self.activation``, its
    own step on the tape): ``forward`` is z, ``backward`` receives dz from the activation's backward.
    """

    equation = "y = act(x @ w + b)"

    def forward(self, x, training=False):
        if np.shape(x)[-1:] != self.kernel.shape[:1]:
            raise self.incompatible(x)
        self.cache = (x,)
        z = x @ self.kernel.data                               # z = x @ w + b
        if self.use_bias:
            z += self.bias.data
        return z

    def backward(self, dz):
        (x,) = self.cache
        # Inputs with more axes, (N, T, D): every position is one more row. (dw is written
        # straight into the gradient's array: no temporary the size of the kernel.)
        x2, dz2 = x.reshape(-1, x.shape[-1]), dz.reshape(-1, self.units)
        np.matmul(x2.T, dz2, out=self.kernel.grad)             # dw = x.T @ dz
        if self.use_bias:
            self.bias.grad[...] = self.ops.sum_rows(dz2)        # db = sum_n dz
        if not self.needs_input_gradient:
            return None  # the first layer of a model: nobody uses dx
        return dz @ self.kernel.data.T                         # dx = dz @ w.T

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", input_shape=None, input_dim=None, impl="fast", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        if input_dim is not None:  # Keras 2 spelling: Dense(64, input_dim=784)
            input_shape = (check_positive_int(input_dim, "input_dim"),)
        super().__init__(input_shape=input_shape, **kwargs)
        self.impl = check_impl(impl, self.name)
        self.units = check_positive_int(units, "units")
        self.activation = activations.get(activation, owner=self.name)
        self.use_bias = check_bool(use_bias, "use_bias")
        self.kernel_initializer = check_initializer(kernel_initializer, "kernel_initializer")
        self.bias_initializer = check_initializer(bias_initializer, "bias_initializer")
        (self.kernel_regularizer, self.bias_regularizer, self.activity_regularizer, self.kernel_constraint,
         self.bias_constraint) = check_weight_settings(kernel_regularizer, bias_regularizer, activity_regularizer,
                                                       kernel_constraint, bias_constraint)

    def build(self, input_shape):
        input_shape = check_shape(input_shape, "input_shape", owner=self.name)
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = self.add_weight("bias", (self.units,), self.bias_initializer, regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def incompatible(self, x):
        """Keras's error for an input whose last axis is not the one the kernel was built for."""
        return ValueError(f"Input 0 of layer '{self.name}' (Dense) is incompatible with the layer: expected axis -1 "
                          f"of input shape to have value {self.kernel.shape[0]}, but received input with shape "
                          f"{short_repr(np.shape(x))}")


class Activation(Layer):
    """Applies an activation function by name: ``Activation('relu')``; its layer keeps the cache.

    Called in a model, it is that activation layer's step (``self.activation``): the wrapper adds none.
    """

    equation = "y = act(x)"

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation, owner=self.name)

    def forward(self, x, training=False):
        return self.activation.forward(x, training)

    def backward(self, dout):
        return self.activation.backward(dout)

    def call_forward(self, inputs, training):
        if not self.built:
            self.build(tuple(np.shape(inputs))[1:])
        return self.activation(inputs, training=training)


class Dropout(Layer):
    """Inverted dropout: in training ``y = x * m / (1 - rate)``, ``m ~ Bernoulli(1 - rate)``.

    Dividing by the keep probability at training time keeps E[y] = x, so at test
    time the layer is the identity. Backward: ``dx = dout * m / (1 - rate)``.
    Cache: (m / (1 - rate),), or (None,) when the layer was the identity.

    ``seed``: the masks come from a generator of their own, seeded once, so a run draws
    the same masks whatever else draws random numbers (Keras's ``Dropout(0.5, seed=42)``).
    Without it they come from tinynet's generator (``tinynet.set_random_seed``).
    """

    equation = "y = x * m / (1 - rate), m ~ Bernoulli(1 - rate) (training); y = x (inference)"

    def forward(self, x, training=False):
        if not training or self.rate == 0:
            self.cache = (None,)
            return x
        keep = 1.0 - self.rate
        generator = self._generator if self._generator is not None else rng()
        scaled_mask = (generator.random(x.shape, dtype=np.float32) < keep).astype(x.dtype) / x.dtype.type(keep)
        self.cache = (scaled_mask,)
        return x * scaled_mask

    def backward(self, dout):
        (scaled_mask,) = self.cache
        return dout if scaled_mask is None else dout * scaled_mask

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_float(rate, "rate", 0, 1, max_open=True, expected="a float in [0, 1)")
        if noise_shape is not None:
            raise ValueError(f"Layer '{self.name}': `noise_shape` (masks shared along some axes) is not implemented "
                             f"in tinynet. Received: noise_shape={noise_shape!r}")
        self.seed = None if seed is None else check_int(seed, "seed", 0, owner=self.name)
        self._generator = None if seed is None else np.random.default_rng(self.seed)


class Flatten(Layer):
    """``(N, d1, d2, ...) -> (N, d1 * d2 * ...)``; backward reshapes back. Cache: (x.shape,)."""

    equation = "y = x.reshape(N, -1)"

    def compute_output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)

    def forward(self, x, training=False):
        self.cache = (x.shape,)
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        (x_shape,) = self.cache
        return dout.reshape(x_shape)


class Reshape(Layer):
    """``(N, *input_shape) -> (N, *target_shape)``; one entry of target_shape may be -1. Cache: (x.shape,)."""

    equation = "y = x.reshape(N, *target_shape)"

    def forward(self, x, training=False):
        self.cache = (x.shape,)
        return x.reshape((x.shape[0],) + self.compute_output_shape(x.shape[1:]))

    def backward(self, dout):
        (x_shape,) = self.cache
        return dout.reshape(x_shape)

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        shape = (target_shape,) if isinstance(target_shape, (int, np.integer)) else target_shape
        try:
            shape = tuple(shape)
        except TypeError:
            shape = None
        if not shape or sum(d == -1 for d in shape) > 1 or not all(
                isinstance(d, (int, np.integer)) and not isinstance(d, bool) and (d > 0 or d == -1) for d in shape):
            raise invalid("target_shape", "a tuple of positive integers with at most one -1", target_shape)
        self.target_shape = tuple(int(d) for d in shape)

    def compute_output_shape(self, input_shape):
        size = int(np.prod(input_shape))
        known = int(np.prod([d for d in self.target_shape if d != -1]))
        if -1 in self.target_shape:
            if size % known:
                raise ValueError(
                    f"Layer '{self.name}' cannot reshape inputs of shape {tuple(input_shape)} "
                    f"({size} values) to {self.target_shape}.")
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if size != known:
            raise ValueError(
                f"Layer '{self.name}' cannot reshape inputs of shape {tuple(input_shape)} ({size} values) "
                f"to {self.target_shape} ({known} values).")
        return self.target_shape


class InputLayer(Layer):
    """Declares the model's input shape (no batch axis); passes data through."""

    equation = "y = x"

    def forward(self, x, training=False):
        return x

    def backward(self, dout):
        return dout

    def __init__(self, input_shape=None, shape=None, batch_input_shape=None, batch_shape=None, batch_size=None,
                 sparse=None, ragged=None, **kwargs):
        shape = input_shape if input_shape is not None else shape
        for full in (batch_input_shape, batch_shape):  # Keras 2 / Keras 3 configs give the batch axis too
            if full is not None:
                shape = tuple(full)[1:]
        if sparse or ragged:
            raise ValueError("InputLayer: tinynet has no sparse or ragged tensors.")
        if shape is None:
            raise ValueError("InputLayer needs `input_shape`, e.g. InputLayer(input_shape=(784,)).")
        super().__init__(input_shape=check_shape(shape, "input_shape"), **kwargs)

    @property
    def batch_shape(self):
        """The input shape with its batch axis, as Keras 3 names it: ``(None, 28, 28, 1)``."""
        return (None, *self.declared_input_shape)


class Lambda(Layer):
    """A function of tensors as a layer: ``Lambda(lambda x: x / 255.0)``, ``Lambda(lambda t: t[0] - t[1])``.

    Its ``call`` is the function; the ops it uses (``tinynet.ops``, the tensors' operators, NumPy functions
    tinynet can differentiate) record themselves, so no backward is written. ``arguments`` are passed to the
    function as keywords. A model with a Lambda layer cannot be written to a file with its architecture
    (Python code is never read from files); save its weights instead.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise invalid("function", "a function of tensors", function, self.name)
        self.function = function
        self.arguments = dict(arguments or {})
        self.declared_output_shape = output_shape

    def call(self, inputs, training=None):
        return self.function(inputs, **self.arguments)

    def get_config(self):
        raise NotImplementedError(
            f"Layer '{self.name}' (Lambda) holds Python code, which tinynet never writes to (or runs from) a file. "
            "Save the weights (model.save_weights) and rebuild the model in code.")


def check_positive_int(value, argument):
    return check_int(value, argument, minimum=1)


def check_initializer(value, argument):
    """Refuse an unknown initializer name now, in ``__init__``, rather than at build time."""
    initializers.get(value, f"initializer for `{argument}`")
    return value


def check_weight_settings(kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
                          bias_constraint):
    """The regularizers and constraints of a layer's kernel, bias and output, from Keras's arguments (names,
    objects or config dicts): ``(kernel_regularizer, bias_regularizer, activity_regularizer,
    kernel_constraint, bias_constraint)``."""
    return (regularizers.get(kernel_regularizer), regularizers.get(bias_regularizer),
            regularizers.get(activity_regularizer), constraints.get(kernel_constraint),
            constraints.get(bias_constraint))


def check_data_format(data_format, owner):
    """Accept Keras's ``data_format='channels_last'`` (and None, its default); refuse channels-first clearly."""
    if data_format not in (None, "channels_last"):
        raise ValueError(
            f"Layer '{owner}': received data_format={short_repr(data_format)}, but tinynet's layers work on channels-last "
            "images only, (N, H, W, C) as Keras's default. Move the channel axis last (np.moveaxis(x, 1, -1)) "
            "and use data_format='channels_last'.")
