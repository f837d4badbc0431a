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
from ..checks import check_bool, check_shape, short_repr
from .. import graph
from .. import tape as tape_module
from ..tape import Node
from ..tensor import KerasTensor, Tensor, as_tensor, record

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


def snake_case(class_name):
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

    A parameter is also what Keras calls a variable: ``numpy()``, ``assign(value)``, and usable in
    ops (``x @ self.w + self.b`` in a layer's ``call``), where it is a leaf of the tape whose
    gradient is added to ``grad``.
    """

    __array_priority__ = 100

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

    @property
    def dtype(self):
        return self.data.dtype

    def __repr__(self):
        return f"Parameter(name={self.name!r}, shape={self.shape}, trainable={self.trainable})"

    # ----- as a Keras variable ---------------------------------------------------
    def as_tensor(self):
        """This weight as a leaf of the tape: ops on it send their gradient to ``grad``."""
        return Tensor(self.data, requires_grad=self.trainable, parameter=self)

    value = property(as_tensor)

    def numpy(self):
        return self.data.copy()

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def assign(self, value):
        """Replace the weight's values (same shape; finite real numbers), as ``variable.assign`` does."""
        self.data[...] = checked_weight_value(self, value, "assign")
        return self

    def assign_add(self, value):
        return self.assign(self.data + np.asarray(value))

    def assign_sub(self, value):
        return self.assign(self.data - np.asarray(value))

    __add__ = lambda self, o: self.as_tensor() + o          # noqa: E731
    __radd__ = lambda self, o: o + self.as_tensor()         # noqa: E731
    __sub__ = lambda self, o: self.as_tensor() - o          # noqa: E731
    __rsub__ = lambda self, o: o - self.as_tensor()         # noqa: E731
    __mul__ = lambda self, o: self.as_tensor() * o          # noqa: E731
    __rmul__ = lambda self, o: o * self.as_tensor()         # noqa: E731
    __truediv__ = lambda self, o: self.as_tensor() / o      # noqa: E731
    __rtruediv__ = lambda self, o: o / self.as_tensor()     # noqa: E731
    __matmul__ = lambda self, o: self.as_tensor() @ o       # noqa: E731
    __rmatmul__ = lambda self, o: o @ self.as_tensor()      # noqa: E731
    __neg__ = lambda self: -self.as_tensor()                # noqa: E731
    __pow__ = lambda self, p: self.as_tensor() ** p         # noqa: E731
    __getitem__ = lambda self, i: self.as_tensor()[i]       # noqa: E731


def checked_weight_value(parameter, value, what):
    """``value`` cast to the weight's dtype, once checked: its shape, real and finite."""
    where = f"{what}: weight '{parameter.name}'"
    try:
        value = np.asarray(value.value if isinstance(value, Tensor) else value)
    except Exception as error:  # ragged lists and the like
        raise ValueError(f"{where}: the array given for it could not be read ({error}).") from None
    if value.dtype.kind not in "biuf":
        raise TypeError(f"{where} needs real numbers, but the array given for it has dtype {value.dtype}.")
    if value.shape != parameter.shape:
        raise ValueError(f"{where} has shape {parameter.shape}, but the array given for it has shape {value.shape}.")
    with np.errstate(over="ignore", invalid="ignore"):
        cast = value.astype(parameter.data.dtype)
    bad = ~np.isfinite(cast)
    if bad.any():
        raise ValueError(f"{where}: the array given for it holds {int(bad.sum())} value(s) NaN, infinite or too large "
                         f"for {parameter.data.dtype} (the first: {value[bad].flat[0].item()!r}).")
    return cast


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

    A layer's maths is ``forward(x, training)`` and ``backward(dout)`` (and ``build`` /
    ``compute_output_shape`` when it has weights or changes the shape). ``input_shape``
    (without the batch axis) may be given to the first layer of a model, as in Keras.

    Calling a layer, ``layer(x)``, runs its forward on a batch and, while a tape records
    (``tinynet/core/tape.py``), appends a node, so the model's backward walk will call
    ``backward`` with this call's cache. A layer with ``activation=`` (Dense, Conv2D) computes
    its pre-activation ``z`` in ``forward``; the activation runs after it as a layer of its
    own, its own node. Called on symbolic tensors (``Input(shape=...)``), a layer adds a node
    to a functional graph instead (``tinynet/core/graph.py``).

    A Keras-style layer writes ``call`` instead of ``forward``/``backward``: its ``call`` runs
    layers and ops that record themselves, and backward needs nothing hand-written.

    ``needs_input_gradient``: set by the backward walk to False when no one uses dL/dx (the
    data going into the first layer with weights); ``backward`` may then skip dx and return None.

    ``state_updates``: a training forward that changes non-trainable state (BatchNormalization's
    moving statistics) does not write it; it lists ``(parameter, new_value)`` pairs here, and the
    training step commits them with the weights once the whole step has succeeded.

    ``impl``: 'fast' or 'naive'; ``self.ops`` is the matching set of ops.
    """

    needs_input_gradient = True
    impl = "fast"
    activation = None
    owner = None   # for an activation made by a layer (Dense(..., activation='relu')): that layer
    pairs_with = ()  # the losses that take this layer's input rather than its output (Softmax, Sigmoid)
    # A penalty on the layer's output (Keras's activity_regularizer=): r(y) / N joins the loss.
    activity_regularizer = None

    def __init__(self, name=None, input_shape=None, trainable=True, dtype=None, input_dim=None,
                 batch_input_shape=None, batch_shape=None, batch_size=None, **kwargs):
        self._trainable = True  # first: it marks the layer as initialised (see __setattr__)
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {short_repr(kwargs)}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Received an invalid value for `name`, expected a string. Received: name={short_repr(name)}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        if input_dim is not None:  # Keras 2: Dense(64, input_dim=784)
            input_shape = (input_dim,)
        for full in (batch_input_shape, batch_shape):  # Keras 2 / Keras 3: the shape with its batch axis
            if full is not None:
                input_shape = tuple(full)[1:]
        check_dtype(dtype, self.name)
        # The shape the user declared (kept for get_config); ``input_shape`` is set by build.
        self.declared_input_shape = None if input_shape is None else check_shape(input_shape, "input_shape")
        self.input_shape = self.declared_input_shape
        self._trainable = check_bool(trainable, "trainable")
        self.built = False
        self.output_shape = None
        self._parameters = []
        self._layers = []              # layers assigned to attributes (a Keras-style layer or model)
        self.inbound_nodes = []        # the functional graphs' calls of this layer (tinynet/core/graph.py)
        self.cache = None
        self.state_updates = []

    # ----- the maths: what every layer provides ------------------------------
    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape`` (no batch axis)."""
        self.input_shape = tuple(input_shape) if not _is_shape_list(input_shape) else input_shape
        self.built = True

    def compute_output_shape(self, input_shape):
        """Output shape (no batch axis) for inputs of ``input_shape``; identity by default."""
        return tuple(input_shape)

    def forward(self, x, training=False):
        raise NotImplementedError(f"{type(self).__name__} does not implement forward")

    def backward(self, dout):
        raise NotImplementedError(f"{type(self).__name__} does not implement backward")

    @property
    def ops(self):
        """The ops this layer computes with: ``tinynet.ops.get(self.impl)``."""
        return ops.get(self.impl)

    def commit_state_updates(self):
        """Write the non-trainable values the last training forward computed, then forget them."""
        for parameter, value in self.state_updates:
            parameter.data = np.asarray(value, dtype=parameter.data.dtype)
        self.state_updates = []

    # ----- calling ------------------------------------------------------------
    def __call__(self, *args, training=None, **kwargs):
        """``layer(x)``: the layer's output for a batch (a Tensor), recorded on the tape if one records;
        ``layer(keras_tensor)``: a node of a functional graph. Merge layers take a list: ``Add()([a, b])``."""
        if len(args) == 1 and not kwargs and type(args[0]) in _VALUES and _HAS_FORWARD.get(type(self)):
            # the common case, on every step: one batch into a layer with its own forward / backward
            return self.call_forward(args[0], bool(tape_module.learning_phase()) if training is None else training)
        if kwargs:
            kwargs.pop("mask", None)  # Keras passes masks; tinynet's layers have no masking
        inputs = args[0] if len(args) == 1 else list(args)
        if type(inputs) is not Tensor and _is_symbolic(inputs):
            return graph.call_symbolic(self, inputs, training, kwargs)
        if training is None:
            training = bool(tape_module.learning_phase())
        if not self.has_forward:
            return self.call_composite(inputs, training, kwargs)
        if kwargs:
            raise TypeError(f"Layer '{self.name}' got unexpected arguments: {sorted(kwargs)}")
        return self.call_forward(inputs, training)

    @property
    def has_forward(self):
        """Whether this layer has its own forward / backward (tinynet's layers), rather than a Keras-style
        ``call`` made of other layers and ops."""
        cls = type(self)
        known = _HAS_FORWARD.get(cls)
        if known is None:
            known = _HAS_FORWARD[cls] = cls.forward is not Layer.forward or cls.call is Layer.call
        return known

    def call_forward(self, inputs, training):
        """Run ``forward`` on the inputs' values; while a tape records, add this call's node."""
        listed = isinstance(inputs, (list, tuple))
        tensors = [as_tensor(t) for t in inputs] if listed else [
            inputs if type(inputs) is Tensor else as_tensor(inputs)]
        values = [t.value for t in tensors] if listed else tensors[0].value
        if not self.built:
            build_from_values(self, values)
        y = Tensor(self.forward(values, training=training))
        if self.pairs_with:
            y.logits = (tensors[0], self.pairs_with)
        tape = tape_module.current()
        if tape is not None:
            if tape.record_nodes and _needs_gradient(self, tensors):
                y.requires_grad = True
                node = Node(tensors, (y,), self, self.cache, None, None, "list" if listed else None)
                y.node = node
                tape.nodes.append(node)
            if self.state_updates:
                tape.state_updates.extend(self.state_updates)  # committed with the step (or GradientTape's end)
            if self.activity_regularizer is not None:
                tape.losses.append(penalty(y, self.activity_regularizer, self.name))
        activation = self.activation
        if activation is not None and not isinstance(activation, IDENTITY):
            y = activation(y, training=training)
        return y

    def call(self, inputs, training=None):
        """A Keras-style layer's computation, made of layers and ops (they record themselves)."""
        raise NotImplementedError(f"{type(self).__name__} has neither forward/backward nor call")

    def call_composite(self, inputs, training, kwargs):
        """Run a Keras-style ``call``: build first (``build`` gets the shape WITH the batch axis, as in
        Keras), then the call, with ``training`` passed on if ``call`` takes it. Returns tensors."""
        if not self.built:
            shape = _shapes(inputs)
            self.build_on_first_call(shape)
            self.input_shape = shape
            self.built = True
        if _takes_training(self.call):
            kwargs["training"] = training
        self.__dict__["_call_losses"] = []   # add_loss in this call replaces what the last call added
        with tape_module.training_mode(training):
            out = self.call(inputs, **kwargs)
        return check_call_output(self, out)

    def build_on_first_call(self, input_shape):
        """A Keras-style layer's ``build``, with the shape of its first input (batch axis included)."""
        self.build(input_shape)

    def add_loss(self, loss):
        """Add a loss term computed in ``call`` (a scalar tensor), as Keras's ``add_loss``: the training step
        minimises it with the compiled loss (a VAE's KL divergence)."""
        loss = as_tensor(loss)
        tape = tape_module.current()
        if tape is not None:
            tape.losses.append(loss)
        self.__dict__.setdefault("_call_losses", []).append(loss)  # what ``losses`` shows until the next call

    # ----- weights ---------------------------------------------------------
    def add_weight(self, name=None, shape=None, initializer=None, trainable=True, dtype=np.float32,
                   regularizer=None, constraint=None, **kwargs):
        """Create a ``Parameter`` initialised by ``initializer`` and register it, in order.

        Keras 2's and Keras 3's spellings both work: ``add_weight('kernel', (3, 4), 'zeros')``,
        ``add_weight(shape=(3, 4), initializer='random_normal', trainable=True, name='w')``, a shape given
        as an int; the initializer defaults to 'glorot_uniform' as in Keras. What the initializer returns
        (a user's function may return anything) must be a finite numeric array of exactly ``shape``;
        otherwise a ValueError names the layer and the weight.
        """
        if name is not None and not isinstance(name, str):    # Keras 3's order: add_weight((784, 64), 'zeros')
            name, shape, initializer = None, name, shape if initializer is None else initializer
        kwargs.pop("aggregation", None), kwargs.pop("autocast", None), kwargs.pop("synchronization", None)
        if kwargs:
            raise TypeError(f"Layer '{self.name}': add_weight got unexpected arguments {sorted(kwargs)}")
        name = name or ("variable" if not self._parameters else f"variable_{len(self._parameters)}")
        shape = check_weight_shape(shape, name, self.name)
        dtype = np.dtype(dtype or np.float32)
        initializer = "glorot_uniform" if initializer is None else initializer
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

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Freezing a layer freezes the layers inside it (a Keras-style layer, a model), as in Keras."""
        self._trainable = check_bool(value, "trainable")
        for layer in self._layers:
            layer.trainable = value

    @property
    def weights(self):
        """All parameters, in Keras's order (e.g. kernel then bias), then those of the layers inside."""
        return _unique(list(self._parameters) + [p for layer in self._layers for p in layer.weights])

    @property
    def trainable_weights(self):
        if not self._trainable:
            return []
        own = [p for p in self._parameters if p.trainable]
        return _unique(own + [p for layer in self._layers for p in layer.trainable_weights]) if self._layers else own

    @property
    def non_trainable_weights(self):
        trainable = {id(p) for p in self.trainable_weights}
        return [p for p in self.weights if id(p) not in trainable]

    # Keras's other names for them
    variables = property(lambda self: self.weights)
    trainable_variables = property(lambda self: self.trainable_weights)
    non_trainable_variables = property(lambda self: self.non_trainable_weights)

    @property
    def losses(self):
        """As Keras's: the penalties of the regularized weights (``kernel_regularizer=``), then the terms that the
        last call of this layer and of the layers inside it added with ``add_loss``, as tensors."""
        return self.weight_penalties() + self.added_losses()

    def weight_penalties(self):
        """The penalties of this layer's regularized weights (``kernel_regularizer=``), as tensors."""
        return [penalty(p, p.regularizer, self.name) for p in self.trainable_weights if p.regularizer is not None]

    def added_losses(self):
        """The terms ``add_loss`` was given during the last call of this layer and of the layers inside it."""
        inside = [t for layer in _unique(list(self.__dict__.get("_layers", ())) + list(getattr(self, "layers", ())))
                  if layer is not self for t in layer.added_losses()]
        return list(self.__dict__.get("_call_losses", ())) + inside

    def __setattr__(self, name, value):
        # A layer (or a list of them) given to an attribute is tracked, as Keras does: its weights are this
        # layer's, and freezing this layer freezes it.
        if name in _UNTRACKED and name != "activation":
            object.__setattr__(self, name, value)
            return
        if name == "activation" and isinstance(value, Layer):
            object.__setattr__(value, "owner", self)
        elif name[0] != "_" and name not in _UNTRACKED:
            if "_trainable" not in self.__dict__ and (name != "name" or not isinstance(value, str)):
                raise RuntimeError(
                    f"It looks like you are subclassing `{type(self).__mro__[1].__name__}` and you forgot to call "
                    f"`super().__init__()` in {type(self).__name__}.__init__ before setting `self.{name}`. "
                    "Always start __init__ with that line (Keras asks the same).")
            found = [value] if isinstance(value, Layer) else (
                [v for v in value if isinstance(v, Layer)] if isinstance(value, (list, tuple)) else ())
            for layer in found:
                if layer is not self and all(layer is not known for known in self.__dict__.get("_layers", ())):
                    self.__dict__.setdefault("_layers", []).append(layer)
        object.__setattr__(self, name, value)

    def get_weights(self):
        """Copies of the weight arrays, in Keras's order."""
        return [p.data.copy() for p in self.weights]

    def set_weights(self, weights):
        """Load arrays (e.g. from a Keras layer) into the weights: all of them, or none.

        Every array is checked first (count, shape, finite real numbers once cast to the
        weight's dtype); a ValueError naming the layer and the weight leaves every weight as it was.
        """
        owners = self.weight_owners()
        weights = list(weights)
        if len(weights) != len(owners):
            raise ValueError(
                f"Layer '{self.name}' expects {len(owners)} weight arrays "
                f"({', '.join(p.name for _, p in owners) or 'none'}), but received {len(weights)}.")
        checked = [checked_weight_value(p, value, f"Layer '{layer.name}'") for (layer, p), value in zip(owners, weights)]
        for (_, parameter), value in zip(owners, checked):
            parameter.data[...] = value

    def weight_owners(self):
        """``[(layer, parameter)]`` in the order of ``weights``: which layer holds each weight."""
        pairs, seen = [(self, p) for p in self._parameters], {id(p) for p in self._parameters}
        for layer in self._layers:
            for owner, p in layer.weight_owners():
                if id(p) not in seen:
                    seen.add(id(p))
                    pairs.append((owner, p))
        return pairs

    def count_params(self):
        return int(sum(p.data.size for p in self.weights))

    # ----- the functional graph's view of this layer ----------------------------
    @property
    def input(self):
        """The symbolic tensor(s) this layer was first called on in a functional graph."""
        return graph.node_tensors(self, "input")

    @property
    def output(self):
        """The symbolic tensor(s) this layer's first call in a functional graph produced
        (``Model(model.input, model.get_layer('conv2').output)`` extracts features)."""
        return graph.node_tensors(self, "output")

    # ----- configuration ---------------------------------------------------------
    def get_config(self):
        """The settings that rebuild this layer, ``type(layer)(**layer.get_config())``: its name and each
        argument of its constructor it keeps under the same name, as plain data (``config.py``)."""
        from .config import config_of  # config.py reads layers, which are defined here

        return config_of(self)

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


_HAS_FORWARD = {}  # layer class -> has_forward, asked on every call
_VALUES = (Tensor, np.ndarray)


def _needs_gradient(layer, tensors):
    """Whether a gradient will flow back through this call: it has trainable weights, or an input needs one."""
    for t in tensors:
        if t.requires_grad:
            return True
    if layer._trainable:
        for p in layer._parameters:
            if p.trainable:
                return True
    return False

# Attributes set on every call: never layers, so never looked at by the tracking in __setattr__.
_UNTRACKED = frozenset({"cache", "state_updates", "needs_input_gradient", "built", "input_shape", "output_shape",
                        "activation", "name", "inbound_nodes"})


class IDENTITY:
    """Marker base of the linear activation: a layer whose activation is one skips that step."""


def check_dtype(dtype, owner):
    """Layers compute in float32 (Keras's default); ``dtype='float32'`` or a float32 policy is accepted."""
    name = getattr(dtype, "name", dtype)
    if isinstance(name, dict):  # Keras 3 writes a DTypePolicy config
        name = name.get("config", {}).get("name")
    if dtype is not None and str(np.dtype(name) if name not in ("mixed_float16", "mixed_bfloat16") else name) != "float32":
        raise ValueError(f"Layer '{owner}': tinynet's layers compute in float32. Received: dtype={dtype!r}")


def check_weight_shape(shape, name, owner):
    if shape is None:
        raise ValueError(f"Layer '{owner}': add_weight needs a `shape` for weight '{name}'.")
    shape = (shape,) if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool) else shape
    try:
        shape = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(f"Layer '{owner}': the shape of weight '{name}' must be a tuple of non-negative "
                         f"integers. Received: shape={shape!r}") from None
    if any(d < 0 for d in shape):
        raise ValueError(f"Layer '{owner}': the shape of weight '{name}' has a negative size: {shape}")
    return shape


def _unique(parameters):
    seen, out = set(), []
    for p in parameters:
        if id(p) not in seen:
            seen.add(id(p))
            out.append(p)
    return out


def _is_shape_list(shape):
    return isinstance(shape, list) and shape and isinstance(shape[0], (tuple, list))


def _is_symbolic(inputs):
    if isinstance(inputs, (list, tuple, dict)):
        items = inputs.values() if isinstance(inputs, dict) else inputs
        return any(isinstance(t, KerasTensor) for t in items)
    return isinstance(inputs, KerasTensor)


def _shapes(inputs):
    """The shapes WITH the batch axis of what a Keras-style call receives (a shape, or a list of them)."""
    if isinstance(inputs, (list, tuple)):
        return [tuple(np.shape(t)) for t in inputs]
    if isinstance(inputs, dict):
        return {k: tuple(np.shape(t)) for k, t in inputs.items()}
    return tuple(np.shape(inputs))


def build_from_values(layer, values):
    """Build a layer with forward/backward for these input values (shapes without the batch axis)."""
    if isinstance(values, (list, tuple)):
        layer.build([tuple(np.shape(v))[1:] for v in values])
    else:
        layer.build(tuple(np.shape(values))[1:])


_TAKES_TRAINING = {}


def _takes_training(call):
    """Whether a ``call`` accepts ``training=`` (asked once per class: it is on every step's path)."""
    key = getattr(call, "__func__", call)
    if key not in _TAKES_TRAINING:
        _TAKES_TRAINING[key] = _signature_takes_training(call)
    return _TAKES_TRAINING[key]


def _signature_takes_training(call):
    import inspect
    try:
        parameters = inspect.signature(call).parameters
    except (TypeError, ValueError):
        return False
    return "training" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def check_call_output(layer, value):
    """What a Keras-style ``call`` returned: tensors (or nested lists / dicts of them), never something else."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(check_call_output(layer, v) for v in value)
    if isinstance(value, dict):
        return {k: check_call_output(layer, v) for k, v in value.items()}
    if isinstance(value, (np.ndarray, np.generic, float, int)) and not isinstance(value, bool):
        raise TypeError(
            f"Layer '{layer.name}': call() returned a NumPy value ({type(value).__name__}), not a tensor, so no "
            "gradient can flow back through it. A NumPy function that tinynet cannot differentiate was probably "
            "applied on the way: use tinynet.ops (ops.exp, ops.concatenate, ...) or the tensors' operators.")
    raise TypeError(f"Layer '{layer.name}': call() must return a tensor (or a list / dict of tensors). "
                    f"Received: {type(value).__name__}")


def penalty(x, regularizer, owner):
    """A regularizer's penalty on a tensor or weight, as a recorded op: value ``r(x)`` (divided by the batch
    size for a layer's output, as Keras does), gradient ``r.gradient(x)`` (the same scale)."""
    t = as_tensor(x)
    value = np.asarray(t.value)
    # a user's regularizer may return anything: checked, naming it and whose penalty it is
    name = t.parameter.name if t.parameter is not None else f"{owner}/activity"
    scale = 1.0 if t.parameter is not None else 1.0 / max(len(value), 1)
    result = regularizers.penalty(regularizer, value, name) * scale
    gradient = regularizers.penalty_gradient(regularizer, value, name) * scale if t.requires_grad else None
    return record("regularization", [t], np.asarray(result, dtype=np.float64), lambda g: [g * gradient])
