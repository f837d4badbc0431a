"""The computational graph of a traced step: operation nodes, and the values and gradients on their edges.

    graph = trace_graph.from_trace(trace)        # Graph: ops, edges, and the model's blocks
    graph.forks()                                # the values used more than once: their gradient is a sum

A node is one operation (``@ w``, ``+ b``, ``relu``, ``mean``, ``x - mean``, ``im2col``,
``softmax + cross-entropy`` ...), with the rule its backward applies written beside it. An
edge is a value flowing from one op into another: its forward value, and the gradient
dL/d(value) *along that edge* -- what this use of the value sends back. A value that feeds
two ops (batch norm's x feeds its mean and x - mean) has two edges, and its gradient is the
sum of theirs: the multivariable chain rule at a fork, drawn as it is. Weights enter their op
as edges from a parameter node.

Batch normalization is drawn with its three paths: x -> mean, x -> x - mean -> var, and
x -> x - mean -> / sqrt(var + eps). The gradients along them are computed here from the
layer's input, its dL/dy and gamma (the trace holds no intermediate of backward), and their
sum is compared with the dx the layer's backward returned: a disagreement is flagged.

``trace_plot.py`` draws the graph; this file only builds it, so a tape of a graph model
(forks between layers) can be drawn by the same code.
"""
from dataclasses import dataclass, field

import numpy as np

from ..core.layers.activations import Linear, ReLU, Sigmoid, Softmax, Tanh
from ..core.layers.conv import Conv2D
from ..core.layers.core import Dense, Dropout, Flatten, Reshape
from ..core.layers.merge import Add
from ..core.layers.normalization import BatchNormalization
from ..core.layers.pooling import AveragePooling2D, MaxPooling2D


@dataclass
class Op:
    """One operation: ``label`` says what it computes, ``backward`` the local rule its backward applies."""

    key: str
    label: str
    layer: str = ""
    backward: str = ""
    kind: str = "op"          # 'op', 'source' (the input, labels) or 'param' (a weight)


@dataclass
class Edge:
    """A value going from op ``src`` into op ``dst``: its forward ``value`` and the gradient along this edge."""

    src: str
    dst: str
    name: str
    value: np.ndarray
    grad: np.ndarray = None


@dataclass
class Graph:
    ops: list = field(default_factory=list)
    edges: list = field(default_factory=list)
    blocks: list = field(default_factory=list)      # [[layer name, ...], ...]: one row of the picture each
    flags: list = field(default_factory=list)       # (op key, message): a sum that disagrees with the layer

    def op(self, key):
        return next(op for op in self.ops if op.key == key)

    def into(self, key):
        return [edge for edge in self.edges if edge.dst == key]

    def out_of(self, key):
        return [edge for edge in self.edges if edge.src == key]

    def forks(self):
        """``{op key: [edges]}`` for every value that feeds more than one op (its gradient is their sum)."""
        found = {}
        for op in self.ops:
            edges = [edge for edge in self.out_of(op.key) if self.op(edge.dst).kind == "op"]
            if len(edges) > 1 and op.kind != "param":
                found[op.key] = edges
        return found


class _Builder:
    def __init__(self, trace):
        self.trace = trace
        self.graph = Graph()
        self.last = None          # the op whose output feeds the layer being drawn
        self.out = "x"            # and the name of that output
        self.outputs = {}         # record index -> (the op that made its output, the output's name)

    def op(self, key, label, layer="", backward="", kind="op"):
        self.graph.ops.append(Op(key, label, layer, backward, kind))
        return key

    def edge(self, src, dst, name, value, grad=None):
        self.graph.edges.append(Edge(src, dst, name, np.asarray(value), None if grad is None else np.asarray(grad)))

    def param(self, record, parameter, dst):
        short = parameter.name.split("/")[-1]
        key = self.op(f"{record.label}/{short}", {"kernel": "w", "bias": "b"}.get(short, short), record.label,
                      kind="param")
        self.edge(key, dst, {"kernel": "w", "bias": "b"}.get(short, short), parameter.data,
                  record.grads.get(parameter.name))


def _activation_op(activation):
    """(label, backward rule) of an elementwise activation, or None for the identity."""
    if activation is None or isinstance(activation, Linear):
        return None
    if isinstance(activation, ReLU):
        return "relu", "x [z > 0]"
    if isinstance(activation, Sigmoid):
        return "sigmoid", "x y (1 - y)"
    if isinstance(activation, Tanh):
        return "tanh", "x (1 - y^2)"
    if isinstance(activation, Softmax):
        return "softmax", "p (dp - sum dp p)"
    return type(activation).__name__.lower(), "x act'(z)"


def _stage(record, key):
    return next((s.value for s in record.forward_stages + record.backward_stages if s.key == key), None)


def _dense_or_conv(b, record, paired):
    layer, name = record.layer, record.label
    dz = _stage(record, "dz")
    if isinstance(layer, Conv2D):
        kh, kw = layer.kernel_size
        cols = b.op(f"{record.label}/im2col", f"im2col {kh}x{kw}", name, "col2im: add back")
        b.edge(b.last, cols, b.out, record.x, record.dx)
        matmul = b.op(f"{record.label}/matmul", "@ w + b", name, "dw = cols^T dz")
        b.edge(cols, matmul, "cols", _stage(record, "cols"), _stage(record, "dcols"))
    else:
        matmul = b.op(f"{record.label}/matmul", "@ w + b", name, "dw = x^T dz")
        b.edge(b.last, matmul, b.out, record.x, record.dx)
    b.param(record, layer.kernel, matmul)
    if layer.bias is not None:
        b.param(record, layer.bias, matmul)
    act = None if paired else _activation_op(getattr(layer, "activation", None))
    if act is None:
        b.last, b.out = matmul, "z"
        return
    op = b.op(f"{record.label}/act", act[0], name, act[1])
    b.edge(matmul, op, "z", _stage(record, "z"), dz)
    b.last, b.out = op, "y"


def _batch_norm(b, record):
    layer, name, x, dy = record.layer, record.label, record.x, record.dout
    axes = tuple(range(x.ndim - 1))
    m = x.size // x.shape[-1]
    gamma = layer.gamma.data if layer.gamma is not None else np.ones(x.shape[-1])
    eps = layer.epsilon
    mean_stage = _stage(record, "mean")
    if mean_stage is None:                      # inference: the moving statistics are constants
        op = b.op(f"{name}/normalize", "(x - moving mean) / sqrt(moving var + eps)", name, "x gamma / s")
        b.edge(b.last, op, b.out, x, record.dx)
        affine = b.op(f"{name}/affine", "gamma * xhat + beta", name, "dgamma = sum dy xhat")
        b.edge(op, affine, "xhat", _stage(record, "xhat"), dy * gamma)
    else:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        d, s = x - mean, np.sqrt(var + eps)
        dxhat = dy * gamma
        dd_direct = dxhat / s
        dvar = (dxhat * d * -0.5 * s ** -3).sum(axis=axes)
        dd_var = dvar * 2 * d / m
        dd = dd_direct + dd_var                  # d feeds two ops: its gradient is the sum
        dmean = -dd.sum(axis=axes)
        source = b.last
        mean_op = b.op(f"{name}/mean", "mean", name, "spread / M")
        sub = b.op(f"{name}/sub", "x - mean", name, "dmean = -sum dd")
        var_op = b.op(f"{name}/var", "var = mean(d^2)", name, "2 d / M")
        div = b.op(f"{name}/div", "/ sqrt(var + eps)", name, "dd = dxhat / s; dvar")
        affine = b.op(f"{name}/affine", "gamma * xhat + beta", name, "dgamma = sum dy xhat")
        b.edge(source, mean_op, b.out, x, np.broadcast_to(dmean / m, x.shape))
        b.edge(source, sub, b.out, x, dd)
        b.edge(mean_op, sub, "mean", mean, dmean)
        b.edge(sub, var_op, "d", d, dd_var)
        b.edge(sub, div, "d", d, dd_direct)
        b.edge(var_op, div, "var", var, dvar)
        b.edge(div, affine, "xhat", d / s, dxhat)
        if record.dx is not None:
            total = dd + dmean / m
            scale = np.linalg.norm(total) + np.linalg.norm(record.dx)
            if scale and np.linalg.norm(total - record.dx) > 1e-6 * scale:
                b.graph.flags.append((source, f"the three paths sum to |{np.linalg.norm(total):.3g}|, but "
                                             f"'{name}' returned a dx of |{np.linalg.norm(record.dx):.3g}|"))
    for parameter in (layer.gamma, layer.beta):
        if parameter is not None:
            b.param(record, parameter, affine)
    b.last, b.out = affine, "y"


def _simple(b, record):
    layer, name = record.layer, record.label
    if isinstance(layer, MaxPooling2D):
        label, rule = f"max {layer.pool_size[0]}x{layer.pool_size[1]}", "to each window's winner"
    elif isinstance(layer, AveragePooling2D):
        label, rule = f"mean {layer.pool_size[0]}x{layer.pool_size[1]}", "/ window size"
    elif isinstance(layer, (Flatten, Reshape)):
        label, rule = "reshape", "reshape back"
    elif isinstance(layer, Dropout):
        label, rule = f"x mask / {1 - layer.rate:.2g}", "x the same mask"
    elif isinstance(layer, Add):
        label, rule = "+", "dy to each input"
    elif not isinstance(layer, (ReLU, Sigmoid, Tanh, Softmax)):
        label, rule = type(layer).__name__.lower() if layer is not None else name, "its backward"
    elif layer is None:
        label, rule = name, "its VJP"
    else:
        label, rule = _activation_op(layer) or (type(layer).__name__.lower(), "its backward")
    op = b.op(f"{record.label}/op", label, name, rule)
    if isinstance(record.x, list):                 # a merge: one edge per input, from where it was made
        dxs = record.dx if isinstance(record.dx, list) else [None] * len(record.x)
        for source, x, dx in zip(record.sources, record.x, dxs):
            src, out = b.outputs.get(source, ("input", "x"))
            b.edge(src, op, out, x, dx)
    else:
        b.edge(b.last, op, b.out, record.x, record.dx)
    b.last, b.out = op, "y"


def _blocks(records):
    """The layers cut into rows: a new block starts at each layer with a kernel (Dense, Conv2D)."""
    blocks = [[]]
    for record in records:
        if hasattr(record.layer, "kernel") and any(hasattr(r.layer, "kernel") for r in _names(blocks[-1], records)):
            blocks.append([])
        blocks[-1].append(record.label)
    return [block for block in blocks if block]


def _names(names, records):
    return [record for record in records if record.label in names]


def from_trace(trace):
    """The ``Graph`` of a ``tinynet.trace``: its layers' operations, then the loss."""
    b = _Builder(trace)
    b.last = b.op("input", "x (input)", trace.layers[0].name if trace.layers else "", kind="source")
    last_index = len(trace.layers) - 1
    for index, record in enumerate(trace.layers):
        layer = record.layer
        if record.sources:                        # on a graph the input may come from any earlier layer
            b.last, b.out = b.outputs.get(record.sources[0], ("input", "x"))
        if isinstance(layer, (Dense, Conv2D)):
            _dense_or_conv(b, record, paired=trace.takes_logits and index == last_index)
        elif isinstance(layer, BatchNormalization):
            _batch_norm(b, record)
        else:
            _simple(b, record)
        b.outputs[index] = (b.last, b.out)
        said = any(f"'{record.label}' returned" in message for _, message in b.graph.flags)   # batch norm's paths
        for stage in [] if said else record.flags:   # a value the layer's code produced against its equation
            b.graph.flags.append((b.last, f"'{record.label}': its {stage.key} |{stage.norm:.3g}| disagrees with "
                                          f"{stage.label.split('  (')[0]}, |{np.linalg.norm(stage.expected):.3g}|"))
    b.last, b.out = b.outputs.get(len(trace.layers) - 1, (b.last, b.out))
    loss_label = "softmax + cross-entropy" if trace.takes_logits and trace.loss_name != "binary_crossentropy" \
        else ("sigmoid + cross-entropy" if trace.takes_logits else trace.loss_name.replace("_", " "))
    rule = trace.dloss_equation.split(" = ")[1] if " = " in trace.dloss_equation else "dL/dy_pred"
    loss = b.op("loss", f"{loss_label}\nL = {trace.loss:.4g}", trace.layers[-1].name if trace.layers else "", rule)
    b.edge(b.last, loss, "z" if trace.takes_logits else "y_pred", trace.logits, trace.dloss)
    labels = b.op("labels", "y (labels)", trace.layers[-1].name if trace.layers else "", kind="source")
    b.edge(labels, loss, "y", trace.y_true)
    b.graph.blocks = _blocks(trace.layers)
    return b.graph
