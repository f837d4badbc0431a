"""A scalar autograd engine: the chain rule on single numbers, before any matrix.

Each ``Value`` holds a number ``data``, its gradient ``grad`` (dL/d this value, filled
by ``backward``), and how it was made: its ``parents`` and, for each parent, the
local derivative d(this)/d(parent). Every operation writes its derivative right
beside its forward computation:

    c = a * b        dc/da = b,  dc/db = a
    c = a.tanh()     dc/da = 1 - c^2

``L.backward()`` visits the graph from ``L`` back to the inputs, each node after
every node that uses it (reverse topological order), and adds

    parent.grad += local_derivative * node.grad        (the chain rule)

A value used twice (``a * a``, a weight shared by two samples) collects one term
per use: that sum is why matrix layers write ``dw = x^T @ dz``, a sum over the batch.

    from tinynet.scalar import Value
    x, w = Value(2.0), Value(-0.5)
    L = (x * w).tanh()
    L.backward()
    w.grad          # dL/dw = (1 - tanh(-1)^2) * 2
"""
import math


class Value:
    """One number in a computation, with ``grad = dL/d(value)`` after ``L.backward()``."""

    def __init__(self, data, parents=(), local_grads=(), op="", label=""):
        self.data = float(data)
        self.grad = 0.0
        self.parents = tuple(parents)
        self.local_grads = tuple(local_grads)   # d(self)/d(parent), one per parent
        self.op = op
        self.label = label

    def __repr__(self):
        return f"Value({self.data:.6g}, grad={self.grad:.6g}{', ' + self.label if self.label else ''})"

    # ----- operations: forward value and local derivatives side by side ----------------
    def __add__(self, other):
        other = as_value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other):
        other = as_value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __pow__(self, exponent):
        if not isinstance(exponent, (int, float)):
            raise TypeError(f"Value ** accepts a plain int or float exponent. Received: {exponent!r}")
        return Value(self.data ** exponent, (self,), (exponent * self.data ** (exponent - 1),), f"**{exponent}")

    def exp(self):
        y = math.exp(self.data)
        return Value(y, (self,), (y,), "exp")

    def log(self):
        return Value(math.log(self.data), (self,), (1.0 / self.data,), "log")

    def tanh(self):
        y = math.tanh(self.data)
        return Value(y, (self,), (1.0 - y * y,), "tanh")

    def relu(self):
        # NOTE: at exactly 0 the derivative is taken as 0, like the ReLU layer.
        return Value(max(self.data, 0.0), (self,), (float(self.data > 0),), "relu")

    # The rest are built from the operations above, so they need no derivative of their own.
    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-as_value(other))

    def __truediv__(self, other):
        return self * as_value(other) ** -1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return as_value(other) - self

    def __rtruediv__(self, other):
        return as_value(other) / self

    # ----- backpropagation ---------------------------------------------------------------
    def backward(self):
        """Fill ``grad`` of every value this one depends on with d(self)/d(that value)."""
        order, seen = [], set()
        stack = [(self, False)]
        while stack:                          # depth first, iteratively: a node after all its parents
            node, parents_done = stack.pop()
            if parents_done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((parent, False) for parent in node.parents)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0                       # dL/dL
        for node in reversed(order):          # every user of a node is done before the node
            for parent, local in zip(node.parents, node.local_grads):
                parent.grad += local * node.grad


def as_value(x):
    """``x`` itself if it is a Value, else a constant Value."""
    return x if isinstance(x, Value) else Value(x)
