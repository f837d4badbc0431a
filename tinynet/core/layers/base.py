"""The ``Parameter`` (a weight and its gradient) and the ``Layer`` every layer extends.

A layer's life, as in Keras:

    __init__(settings)     check and store the settings; no weights yet
    build(input_shape)     make the weights, now that the input size is known
    forward(x, training)   compute the output; store what backward will need in ONE
                           attribute, ``self.cache`` (a tuple or NamedTuple), overwritten
                           by every forward
    backward(dout)         given dL/d(output), store dL/d(weights) in each
                           ``Parameter.grad`` and return dL/d(input)

The arithmetic of the layers with speed tricks lives in ``tinynet.ops``: a layer calls
``self.ops.<op>``, the fast ops for ``impl='fast'`` (the default) or their textbook
references for ``impl='naive'`` (see ``tinynet/core/ops/__init__.py``).

Shapes passed to ``build`` and ``compute_output_shape`` leave out the batch
axis: a Dense layer on MNIST sees ``input_shape=(784,)``.
"""
import contextvars
import re

import numpy as np

from .. import constraints, initializers, ops, regularizers
from ..checks import check_bool, check_shape

_name_counts = {}

# Set by tinynet.io.loading while it builds a model described by a file: called with each
# weight's name and shape before the weight is allocated, so a file cannot make building
# allocate weights it does not hold.
before_add_weight = contextvars.ContextVar("before_add_weight", default=None)


def unique_name(base):
    """Keras's automatic names: ``dense``, ``dense_1``, ``dense_2``, ..."""
    count = _name_counts.get(base, 0)
    _name_counts[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


def clear_names():
    """Forget the automatic names given so far: the next Dense layer is ``dense`` again (``K.clear_session()``)."""
    _name_counts.clear()


def _snake_case(class_name):
    # Same rule as Keras, so names match its summaries: Dense -> dense, ReLU -> re_lu.
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


class Parameter:
    """A weight array ``data`` and ``grad``, the gradient of the loss with respect to it.

    Layers write ``grad`` in ``backward``; optimizers read it and give ``data``
    its new value (a new array at each step: ``Optimizer.apply`` writes the new
    weights beside the old ones and swaps, which makes the step all or nothing).
    Non-trainable parameters (BatchNormalization's moving statistics) are weights
    the optimizer never touches.

    ``regularizer`` (``kernel_regularizer=`` of a layer) adds ``regularizer(data)`` to the
    model's loss and ``regularizer.gradient(data)`` to ``grad``; ``constraint``
    (``kernel_constraint=``) is applied to the new weights after each optimizer step.
    """

    def __init__(self, data, name, trainable=True, regularizer=None, constraint=None):
        self.data = data
        self.grad = np.zeros_like(data)
        self.name = name
        self.trainable = trainable
        self.regularizer = regularizer
        self.constraint = constraint

    @property
    def shape(self):
        return self.data.shape

    def __repr__(self):
        return f"Parameter(name={self.name!r}, shape={self.shape}, trainable={self.trainable})"


def as_shape(value, argument):
    """A shape given as an int or a non-empty sequence of positive ints -> tuple of ints."""
    return check_shape(value, argument)


def _describe(value):
    if isinstance(value, np.ndarray):
        text = f"an array of dtype {value.dtype}: {np.array2string(value.ravel()[:4], threshold=4)}"
        return text + (" ..." if value.size > 4 else "")
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class LayerType(type):
    """The class of every layer class. Its one job is a seam for the Keras ring: before a layer's
    ``__init__`` runs, ``LayerType.rename_arguments(cls, kwargs)``, when set, may rename keyword
    arguments (``tinynet/keras/legacy.py`` accepts Keras 1's ``Dense(output_dim=64)``). The core
    renames nothing."""

    rename_arguments = None

    def __call__(cls, *args, **kwargs):
        if LayerType.rename_arguments is not None:
            kwargs = LayerType.rename_arguments(cls, kwargs)
        return super().__call__(*args, **kwargs)


class Layer(metaclass=LayerType):
    """Base class of all layers.

    Subclasses implement ``forward`` and ``backward``, and ``build`` /
    ``compute_output_shape`` when they have weights or change the shape.
    ``input_shape`` (without the batch axis) may be given to the first layer of
    a model, as in Keras.

    ``needs_input_gradient``: when the model knows nobody will use dL/dx (the
    first layer with weights), it sets this to False and ``backward`` may skip
    computing dx and return None.

    ``state_updates``: a training forward that changes non-trainable state
    (BatchNormalization's moving statistics) does not write it; it lists
    ``(parameter, new_value)`` pairs here, and the model commits them with
    ``commit_state_updates`` once the whole step has succeeded.

    ``impl``: 'fast' or 'naive'; ``self.ops`` is the matching set of ops.
    """

    needs_input_gradient = True
    impl = "fast"
    # A penalty on the layer's output (Keras's activity_regularizer=), added by the model: r(y) / N.
    activity_regularizer = None

    def __init__(self, name=None, input_shape=None, trainable=True):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Received an invalid value for `name`, expected a string. Received: name={name!r}")
        self.name = name or unique_name(_snake_case(type(self).__name__))
        # The shape the user declared (kept for get_config); ``input_shape`` is set by build.
        self.declared_input_shape = None if input_shape is None else check_shape(input_shape, "input_shape")
        self.input_shape = self.declared_input_shape
        self.trainable = check_bool(trainable, "trainable")
        self.built = False
        self.output_shape = None
        self._parameters = []
        self.cache = None
        self.state_updates = []

    @property
    def ops(self):
        """The ops this layer computes with: ``tinynet.ops.get(self.impl)``."""
        return ops.get(self.impl)

    def commit_state_updates(self):
        """Write the non-trainable values the last training forward computed, then forget them."""
        for parameter, value in self.state_updates:
            parameter.data[...] = value
        self.state_updates = []

    # ----- lifecycle -------------------------------------------------------
    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape`` (no batch axis)."""
        self.input_shape = tuple(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        """Output shape (no batch axis) for inputs of ``input_shape``; identity by default."""
        return tuple(input_shape)

    def forward(self, x, training=False):
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, dout):
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    def __call__(self, x, training=False):
        """Run ``forward`` on a batch, building the layer first if needed."""
        if isinstance(x, Layer):
            raise TypeError(
                f"Layer '{self.name}' was called on the layer '{x.name}': that is Keras's functional API "
                "(x = Dense(64)(inputs)), which tinynet does not have. Stack the layers in a Sequential instead: "
                "Sequential([Input(shape=...), Dense(64), ...]).")
        if not self.built:
            self.build(tuple(x.shape[1:]))
        return self.forward(x, training=training)

    def add_regularization_gradients(self):
        """Add d(penalty)/dw to the ``grad`` of each regularized trainable weight (``kernel_regularizer=``);
        the model calls it right after this layer's ``backward``."""
        if not self.trainable:
            return
        for parameter in self._parameters:
            if parameter.trainable and parameter.regularizer is not None:
                parameter.grad = parameter.grad + parameter.regularizer.gradient(parameter.data)

    def add_weight(self, name=None, shape=None, initializer=None, trainable=True, dtype=np.float32, regularizer=None,
                   constraint=None):
        """Create a ``Parameter`` initialised by ``initializer`` and register it, in order.

        Keras's spellings work: ``add_weight(shape=(784, 64), initializer='random_normal')`` (Keras 3:
        keyword arguments, no name needed), ``add_weight(name='kernel', shape=64, ...)`` (an int is a 1-D
        shape); without ``initializer``, 'glorot_uniform' as in Keras 3. What the initializer returns (a
        user's function may return anything) must be a finite numeric array of exactly ``shape``; otherwise
        a ValueError names the layer and the weight.
        """
        if name is not None and not isinstance(name, str):    # Keras 3's order: add_weight((784, 64), 'zeros')
            name, shape, initializer = None, name, shape if initializer is None else initializer
        if shape is None:
            raise ValueError(f"Layer '{self.name}': add_weight needs a `shape`, e.g. add_weight(shape=(784, 64)).")
        name = name if name is not None else ("variable" if not self._parameters else
                                              f"variable_{len(self._parameters)}")
        initializer = "glorot_uniform" if initializer is None else initializer
        dtype = np.dtype(dtype)
        shape = (int(shape),) if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool) else tuple(shape)
        if (check := before_add_weight.get()) is not None:
            check(f"{self.name}/{name}", shape)  # a model file being loaded bounds what we allocate
        data = initializers.get(initializer)(shape, dtype)
        where = f"Layer '{self.name}': the initializer of weight '{name}' (shape {shape})"
        if not isinstance(data, (np.ndarray, np.generic, int, float, list, tuple)) or isinstance(data, bool):
            raise ValueError(f"{where} must return an array of shape {shape}. Received: {_describe(data)}")
        data = np.asarray(data)
        if data.shape != shape:
            raise ValueError(f"{where} returned an array of shape {data.shape}, expected {shape}.")
        with np.errstate(over="ignore"):
            finite = data.dtype.kind in "iuf" and np.isfinite(data.astype(dtype)).all()   # 1e300 is inf in float32
        if not finite:
            raise ValueError(f"{where} must return finite real numbers. Received: {_describe(data)}")
        parameter = Parameter(np.ascontiguousarray(data, dtype=dtype), f"{self.name}/{name}", trainable,
                              regularizers.get(regularizer), constraints.get(constraint))
        self._parameters.append(parameter)
        return parameter

    # ----- weights ---------------------------------------------------------
    @property
    def weights(self):
        """All parameters, in Keras's order (e.g. kernel then bias)."""
        return list(self._parameters)

    @property
    def trainable_weights(self):
        return [p for p in self._parameters if p.trainable] if self.trainable else []

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return list(self._parameters)
        return [p for p in self._parameters if not p.trainable]

    @property
    def variables(self):
        """Keras's name for ``weights``: every parameter, trainable or not."""
        return self.weights

    @property
    def trainable_variables(self):
        return self.trainable_weights

    @property
    def non_trainable_variables(self):
        return self.non_trainable_weights

    def get_weights(self):
        """Copies of the weight arrays, in Keras's order."""
        return [p.data.copy() for p in self._parameters]

    def set_weights(self, weights):
        """Load arrays (e.g. from a Keras layer) into the weights: all of them, or none.

        Every array is checked first (count, shape, finite real numbers once cast to the
        weight's dtype); a ValueError naming the layer and the weight leaves every weight as it was.
        """
        weights = list(weights)
        if len(weights) != len(self._parameters):
            raise ValueError(
                f"Layer '{self.name}' expects {len(self._parameters)} weight arrays "
                f"({', '.join(p.name for p in self._parameters) or 'none'}), but received {len(weights)}.")
        checked = []
        for parameter, value in zip(self._parameters, weights):
            value = np.asarray(value)
            if value.shape != parameter.shape:
                raise ValueError(
                    f"Layer '{self.name}': weight '{parameter.name}' has shape {parameter.shape}, "
                    f"but the array given for it has shape {value.shape}.")
            with np.errstate(over="ignore"):
                cast = value.astype(parameter.data.dtype) if value.dtype.kind in "biuf" else None
            if cast is None or not np.isfinite(cast).all():
                raise ValueError(f"Layer '{self.name}': weight '{parameter.name}' must be finite real numbers "
                                 f"(in {parameter.data.dtype}). Received: {_describe(value)}")
            checked.append(cast)
        for parameter, value in zip(self._parameters, checked):
            parameter.data[...] = value

    def count_params(self):
        return int(sum(p.data.size for p in self._parameters))

    def get_config(self):
        """The settings that rebuild this layer: ``type(layer)(**layer.get_config())``."""
        config = {"name": self.name, "trainable": self.trainable}
        if self.declared_input_shape is not None:
            config["input_shape"] = self.declared_input_shape
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"
