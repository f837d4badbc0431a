"""Tensors: the values a forward pass computes, each knowing the node that computed it.

``Tensor`` wraps a NumPy array (``value``). It is what ``model(x)``, ``layer(x)`` and the ops in
``tinynet.ops`` return, and it behaves as the array it holds wherever NumPy or matplotlib take
one (``np.argmax(t)``, ``plt.imshow(t)``, ``t[0]``, ``t.numpy()``). Arithmetic on tensors
(``h + self.d2(h)``, ``x * 0.5``, ``x @ w``) is itself an op: while a tape records, each one
appends a node with its vector-Jacobian product, so backward runs through user code too.

    requires_grad   whether any gradient will be asked of this value: true for what a trainable
                    weight or a watched input (``GradientTape.watch``) flows into, false for data
    parameter       for a weight used in an op, the ``Parameter`` its gradient is added to

The ops of the operators live here, each forward beside its VJP; the other ops
(reductions, exp, concatenate, softmax ...) in ``tinynet/core/ops/math.py``.

``KerasTensor`` is the symbolic kind: no value, a shape with ``None`` for the batch, made by
``Input(shape=...)`` and by calling layers on it (the functional API, ``tinynet/core/models/functional.py``).
"""
import weakref

import numpy as np

from . import tape as tape_module
from .tape import Node


class Tensor:
    """A value computed by the forward pass: ``value`` (a NumPy array) and the ``node`` that computed it."""

    __slots__ = ("value", "_node", "requires_grad", "parameter", "logits", "__weakref__")
    __array_priority__ = 100  # array <op> tensor calls the tensor's reflected operator
    # NumPy functions and ufuncs with a differentiable twin, filled by tinynet/core/ops/math.py:
    # np.exp(t) on a tensor is then the op exp(t), recorded like any other.
    numpy_twins = {}
    methods = {}

    def __init__(self, value, node=None, requires_grad=False, parameter=None):
        self.value = value
        self._node = None if node is None else weakref.ref(node)
        self.requires_grad = requires_grad
        self.parameter = parameter
        # For the output of a softmax or sigmoid: (its input, the losses that pair with it), as Keras keeps
        # ``_keras_logits``. A cross-entropy given this tensor takes the logits instead (``logits_for``).
        self.logits = None

    @property
    def node(self):
        """The node of the tape that computed this tensor (None for data and constants). NOTE: held weakly: the
        tape holds its nodes, a node its outputs; a tensor holding its node back would make every step a
        reference cycle, freed only by the garbage collector, its activations held until then."""
        return None if self._node is None else self._node()

    @node.setter
    def node(self, node):
        self._node = None if node is None else weakref.ref(node)

    # ----- as a NumPy array ---------------------------------------------------
    def numpy(self):
        """The value as a NumPy array (TensorFlow's ``tensor.numpy()``)."""
        return self.value

    def __array__(self, dtype=None, copy=None):
        value = np.asarray(self.value)
        return value if dtype is None else value.astype(dtype, copy=False)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        twin = Tensor.numpy_twins.get(ufunc) if method == "__call__" and not kwargs else None
        if twin is not None:
            return twin(*inputs)
        # Not differentiable in tinynet: computed on the values, an array, no gradient (as TensorFlow does).
        inputs = [np.asarray(a) if isinstance(a, Tensor) else a for a in inputs]
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        twin = Tensor.numpy_twins.get(func)
        if twin is not None:
            return twin(*args, **kwargs)
        return func(*_values(args), **_values(kwargs))

    shape = property(lambda self: np.shape(self.value))
    dtype = property(lambda self: np.asarray(self.value).dtype)
    ndim = property(lambda self: np.ndim(self.value))
    size = property(lambda self: np.size(self.value))

    def __len__(self):
        return len(self.value)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __float__(self):
        return float(self.value)

    def __int__(self):
        return int(self.value)

    def __index__(self):
        return int(self.value)

    def __bool__(self):
        return bool(self.value)

    def __format__(self, spec):
        return format(self.value.item() if np.ndim(self.value) == 0 else self.value, spec)

    def __repr__(self):
        return f"<tinynet.Tensor shape={self.shape} dtype={self.dtype}: {np.array2string(np.asarray(self.value), threshold=8)}>"

    # comparisons give plain boolean arrays: nothing to differentiate
    __eq__ = lambda self, other: np.asarray(self.value) == _value(other)   # noqa: E731
    __ne__ = lambda self, other: np.asarray(self.value) != _value(other)   # noqa: E731
    __lt__ = lambda self, other: np.asarray(self.value) < _value(other)    # noqa: E731
    __le__ = lambda self, other: np.asarray(self.value) <= _value(other)   # noqa: E731
    __gt__ = lambda self, other: np.asarray(self.value) > _value(other)    # noqa: E731
    __ge__ = lambda self, other: np.asarray(self.value) >= _value(other)   # noqa: E731
    __hash__ = object.__hash__

    # ----- the operators are ops -----------------------------------------------
    def __add__(self, other):
        return add(self, other)

    def __radd__(self, other):
        return add(other, self)

    def __sub__(self, other):
        return subtract(self, other)

    def __rsub__(self, other):
        return subtract(other, self)

    def __mul__(self, other):
        return multiply(self, other)

    def __rmul__(self, other):
        return multiply(other, self)

    def __truediv__(self, other):
        return divide(self, other)

    def __rtruediv__(self, other):
        return divide(other, self)

    def __neg__(self):
        return negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return Tensor.methods["abs"](self)

    def __pow__(self, exponent):
        return power(self, exponent)

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)

    def __getitem__(self, index):
        return getitem(self, index)

    @property
    def T(self):
        return transpose(self)

    def reshape(self, *shape):
        return reshape(self, shape[0] if len(shape) == 1 else shape)

    def astype(self, dtype):
        return cast(self, dtype)

    def __getattr__(self, name):
        # NumPy's array methods: t.sum(), t.mean(axis=0) ... are ops where tinynet can differentiate them
        # (``Tensor.methods``, filled by tinynet/core/ops/math.py), the value's own methods otherwise.
        if name in Tensor.methods:
            return lambda *args, **kwargs: Tensor.methods[name](self, *args, **kwargs)
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(np.asarray(self.value), name)


# ----- making tensors and recording ops -----------------------------------------------
def as_tensor(x):
    """``x`` as a Tensor: a tensor itself; a weight (``Parameter``) as a leaf whose gradient goes to it;
    anything else (arrays, lists, numbers) as a constant."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor(x)
    if hasattr(x, "as_tensor"):  # a Parameter
        return x.as_tensor()
    return Tensor(np.asarray(x))


def _value(x):
    return x.value if isinstance(x, Tensor) else (x.data if hasattr(x, "as_tensor") else x)


def _values(args):
    if isinstance(args, dict):
        return {k: _values(v) for k, v in args.items()}
    if isinstance(args, (list, tuple)):
        return type(args)(_values(a) for a in args)
    return _value(args)


def record(op, inputs, value, vjp):
    """The output tensor of op ``op`` on ``inputs`` (tensors); while a tape records and a gradient may be
    needed, a node with ``vjp(dout) -> one gradient per input`` is appended to it."""
    needs = any(t.requires_grad for t in inputs)
    out = Tensor(value, requires_grad=needs)
    tape = tape_module.current()
    if needs and tape is not None and tape.record_nodes:
        node = Node(inputs, (out,), vjp=vjp, op=op)
        out.node = node
        tape.record(node)
    return out


def unbroadcast(g, shape):
    """``g`` summed down to ``shape``: the VJP of broadcasting (a value broadcast to many places gets the
    sum of their gradients, the fork rule again)."""
    g = np.asarray(g)
    if g.shape == tuple(shape):
        return g
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


def _binary(a, b):
    """Two operands: tensors as tensors, Python numbers kept as numbers (they keep float32 float32)."""
    a = a if isinstance(a, (int, float)) and not isinstance(a, bool) else as_tensor(a)
    b = b if isinstance(b, (int, float)) and not isinstance(b, bool) else as_tensor(b)
    ta = [a] if isinstance(a, Tensor) else []
    tb = [b] if isinstance(b, Tensor) else []
    return a, b, ta + tb, _value(a), _value(b)


def _per_input(a, b, da, db):
    """The VJP's gradients, for the operands that are tensors."""
    return [g for operand, g in ((a, da), (b, db)) if isinstance(operand, Tensor)]


def add(a, b):
    """a + b;  da = dout, db = dout (summed over broadcast axes)."""
    a, b, inputs, av, bv = _binary(a, b)
    return record("add", inputs, av + bv, lambda g: _per_input(
        a, b, unbroadcast(g, np.shape(av)), unbroadcast(g, np.shape(bv))))


def subtract(a, b):
    """a - b;  da = dout, db = -dout."""
    a, b, inputs, av, bv = _binary(a, b)
    return record("subtract", inputs, av - bv, lambda g: _per_input(
        a, b, unbroadcast(g, np.shape(av)), unbroadcast(-g, np.shape(bv))))


def multiply(a, b):
    """a * b;  da = dout * b, db = dout * a."""
    a, b, inputs, av, bv = _binary(a, b)
    return record("multiply", inputs, av * bv, lambda g: _per_input(
        a, b, unbroadcast(g * bv, np.shape(av)), unbroadcast(g * av, np.shape(bv))))


def divide(a, b):
    """a / b;  da = dout / b, db = -dout * a / b^2."""
    a, b, inputs, av, bv = _binary(a, b)
    return record("divide", inputs, av / bv, lambda g: _per_input(
        a, b, unbroadcast(g / bv, np.shape(av)), unbroadcast(-g * av / (bv * bv), np.shape(bv))))


def negative(a):
    """-a;  da = -dout."""
    a = as_tensor(a)
    return record("negative", [a], -a.value, lambda g: [-g])


def power(a, exponent):
    """a ** p for a constant p;  da = dout * p * a^(p - 1)."""
    a = as_tensor(a)
    p = _value(exponent)
    return record("power", [a], a.value ** p, lambda g: [g * p * a.value ** (p - 1)])


def matmul(a, b):
    """a @ b, a: (..., n, k), b: (k, m);  da = dout @ b.T, db = a.T @ dout (over every leading axis)."""
    a, b = as_tensor(a), as_tensor(b)
    av, bv = a.value, b.value

    def vjp(g):
        if bv.ndim == 1:
            return [np.multiply.outer(g, bv), np.tensordot(g, av, axes=(range(g.ndim), range(g.ndim)))]
        da = g @ np.swapaxes(bv, -1, -2)
        db = np.swapaxes(av, -1, -2) @ g
        return [unbroadcast(da, av.shape), unbroadcast(db, bv.shape)]
    return record("matmul", [a, b], av @ bv, vjp)


def getitem(a, index):
    """a[index];  da = zeros with dout added at the indexed places (``np.add.at``: repeated indices add)."""
    a = as_tensor(a)
    index = _value(index) if isinstance(index, Tensor) else index

    def vjp(g):
        da = np.zeros_like(a.value)
        np.add.at(da, index, g)
        return [da]
    return record("getitem", [a], a.value[index], vjp)


def transpose(a, axes=None):
    """a with its axes permuted;  da = dout with the inverse permutation."""
    a = as_tensor(a)
    inverse = None if axes is None else np.argsort(axes)
    return record("transpose", [a], np.transpose(a.value, axes), lambda g: [np.transpose(g, inverse)])


def reshape(a, shape):
    """a in another shape;  da = dout in a's shape."""
    a = as_tensor(a)
    return record("reshape", [a], np.reshape(a.value, shape), lambda g: [np.reshape(g, np.shape(a.value))])


def cast(a, dtype):
    """a in another dtype;  da = dout in a's dtype (0 for integer inputs, which have no gradient)."""
    a = as_tensor(a)
    dtype = np.dtype(getattr(dtype, "as_numpy_dtype", dtype))
    return record("cast", [a], np.asarray(a.value).astype(dtype), lambda g: [np.asarray(g).astype(a.dtype)])


def logits_for(y_pred, loss_name):
    """The logits behind a prediction tensor that came out of the softmax or sigmoid which the loss named
    ``loss_name`` pairs with (the activation's input); None otherwise."""
    info = getattr(y_pred, "logits", None)
    return info[0] if info is not None and loss_name in info[1] else None


def logits_of(y_pred):
    """The logits behind ``y_pred`` when the forward computed it with a softmax or sigmoid (its input);
    ``y_pred`` itself otherwise."""
    info = getattr(y_pred, "logits", None)
    return info[0] if info is not None else y_pred


# The losses that take the input of each activation instead of its output.
PAIRS = {"softmax": ("categorical_crossentropy", "sparse_categorical_crossentropy"),
         "sigmoid": ("binary_crossentropy",)}


class KerasTensor:
    """A symbolic tensor of the functional API: a shape (batch axis ``None``), a dtype, a name, and the
    layer call that produces it (``history``: the node of the graph and which of its outputs)."""

    def __init__(self, shape, dtype="float32", name=None, history=None):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.name = name
        self.history = history

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __array__(self, *args, **kwargs):
        raise TypeError(
            f"{self!r} is a symbolic tensor of the functional API: it has no value. It describes what flows "
            "between layers when the model runs; call the model on data (model.predict(x), model(x)) to get values. "
            "To apply a function to it inside a graph, wrap it in a layer: layers.Lambda(lambda t: ...)(tensor).")

    # Arithmetic in a functional graph (``h + Dense(8)(h)``, ``x * 0.5``) adds a node whose layer runs the op.
    def _op(self, name, function, *operands):
        from .graph import operation  # the graph module makes nodes of symbolic tensors
        return operation(name, function, [self, *operands])

    __add__ = lambda self, o: self._op("add", add, o)                          # noqa: E731
    __radd__ = lambda self, o: self._op("add", lambda a, b: add(b, a), o)       # noqa: E731
    __sub__ = lambda self, o: self._op("subtract", subtract, o)                # noqa: E731
    __rsub__ = lambda self, o: self._op("subtract", lambda a, b: subtract(b, a), o)  # noqa: E731
    __mul__ = lambda self, o: self._op("multiply", multiply, o)                # noqa: E731
    __rmul__ = lambda self, o: self._op("multiply", lambda a, b: multiply(b, a), o)  # noqa: E731
    __truediv__ = lambda self, o: self._op("divide", divide, o)                # noqa: E731
    __rtruediv__ = lambda self, o: self._op("divide", lambda a, b: divide(b, a), o)  # noqa: E731
    __matmul__ = lambda self, o: self._op("matmul", matmul, o)                 # noqa: E731
    __neg__ = lambda self: self._op("negative", negative)                      # noqa: E731
    __pow__ = lambda self, p: self._op("power", power, p)                      # noqa: E731
    __getitem__ = lambda self, i: self._op("getitem", lambda a: getitem(a, i))  # noqa: E731
