"""``tinynet.trace(model, x, y)``: one forward and one backward pass, printed stage by stage, as the code ran it.

    trace = tinynet.trace(model, x[:2], y[:2])
    trace.flags                      # the stages whose value disagrees with their equation
    trace.plot("trace.png")          # the computational graph of this batch, and one unit's circuit

Every value printed is what the layer's own forward and backward produced in this step
(``trace_walk.py`` reads them off the tape: each call's input, output and cache, the ops it called,
the gradient that reached it and what its backward returned). Each stage with an equation is
checked against it, computed from the other recorded values, and a disagreement is flagged
with ``!!`` (``trace_stages.py``):

    Dense          x -> z = x @ w + b -> act'(z) (ReLU: the mask from its cache) -> y
                   dy -> dz = dy * act'(z) -> dw = x^T @ dz, db = sum_n dz -> dx = dz @ w^T
    Conv2D         x -> cols (the layer's cache) -> z = cols @ w_col + b -> y
                   dy -> dz -> dw_col = cols^T @ dz, db -> dcols = dz @ w_col^T -> dx = col2im(dcols)
    BatchNorm      mean, var (returned by its op) -> xhat -> y;  dgamma, dbeta, dxhat, dvar, dmean -> dx
    the loss       softmax + cross-entropy: p, y and dL/dz = (p - y) / N

Values the code keeps nowhere (dcols, dxhat, dvar, dmean, xhat) are marked as equations and
checked through the dx they lead to. On a graph (a functional or subclassed model) a value used
twice -- a residual connection, a shared layer -- receives the SUM of what its uses send back:
the trace prints the parts and the sum. When a fast twin of an op ran (``tinynet/fast``, chosen by
the op registry), one note says which; the values shown are still what ran.

It runs on a float64 copy of the model, in training mode by default (Dropout drops, batch norm
uses the batch's statistics), with the library's random state restored afterwards: the model's
weights, moving statistics, optimizer and random state are left exactly as they were.
"""
import copy
from dataclasses import dataclass, field

import numpy as np

from .gradcheck import as_float64, loss_gradient, prepare_data
from .trace_stages import Stage, recorded, stages
from .trace_walk import Walk
from ..core.layers.activations import ReLU
from ..core.layers.normalization import BatchNormalization
from ..core.utils import rng


class UnknownLayerError(KeyError, ValueError):
    """``trace.layer(name)`` for a name the trace does not know: a KeyError (a lookup) and a ValueError (a bad
    argument), as either expectation of a Keras-like API holds."""

    def __str__(self):                 # KeyError would print the message quoted
        return str(self.args[0]) if self.args else ""


@dataclass
class LayerTrace:
    """What one layer did in the traced step. Arrays are float64, batch axis first."""

    name: str
    kind: str                       # the class name: 'Dense', 'ReLU', ... ('op' for an op on tensors)
    equation: str
    x: object                       # the layer's input (a list of arrays for a merge layer)
    y: np.ndarray                   # its output (the logits z, for an output layer paired with the loss)
    after_relu: bool = False        # its output went through a ReLU
    dout: np.ndarray = None         # dL/d(output) arriving in backward: the sum over its uses
    dx: object = None               # dL/d(input) its backward returned (a list for a merge layer)
    grads: dict = field(default_factory=dict)   # '<layer>/<weight>' -> dL/dw, this call's own
    forward_stages: list = field(default_factory=list)
    backward_stages: list = field(default_factory=list)
    notes: list = field(default_factory=list)   # known zeros, explained; fast twins that ran
    layer: object = field(default=None, repr=False)
    call: int = 0                   # which call of a shared layer
    sources: list = field(default_factory=list)     # per input: the index of the record that made it, or None
    dout_parts: list = field(default_factory=list)  # [(the use's label, the gradient it sent back)] at a fork
    fast_ops: list = field(default_factory=list)    # (op name, file) of the fast twins that ran

    @property
    def label(self):
        return self.name if not self.call else f"{self.name} (call {self.call + 1})"

    @property
    def flags(self):
        return [stage for stage in self.forward_stages + self.backward_stages if stage.flag]

    def stage(self, key):
        """The stage called ``key`` ('z', 'dz', 'cols', 'xhat', ...), forward or backward."""
        for stage in self.forward_stages + self.backward_stages:
            if stage.key == key:
                return stage
        raise KeyError(f"Layer '{self.name}' has no stage {key!r}. It has: "
                       f"{[s.key for s in self.forward_stages + self.backward_stages]}")

    @property
    def mean(self):
        return float(self.y.mean())

    @property
    def std(self):
        return float(self.y.std())

    @property
    def zero_fraction(self):
        """Fraction of exact zeros in the output of a ReLU (or a layer with activation='relu'), else None."""
        return float((self.y == 0).mean()) if self.after_relu else None

    @property
    def dx_norm(self):
        return float(np.linalg.norm(self.dx))

    @property
    def grad_norms(self):
        return {name: float(np.linalg.norm(g)) for name, g in self.grads.items()}


@dataclass
class Trace:
    """The whole traced step: ``layers`` in forward order, the loss and the gradient that starts backprop.

    ``logits`` is what the model's forward returned (the logits z when the model pairs its
    output activation with the loss, ``takes_logits``); ``y_pred`` the prediction (p).
    ``dloss`` is what the loss handed to the last layer's backward: dL/dz = ``p_minus_y``
    divided by N (softmax + cross-entropy) or by N*K (sigmoid + binary cross-entropy), or
    dL/dy_pred for other losses.
    """

    layers: list
    loss: float
    loss_name: str
    y_true: np.ndarray              # the targets, one-hot if they were integer labels
    y_pred: np.ndarray
    logits: np.ndarray
    dloss: np.ndarray
    takes_logits: bool
    dloss_equation: str
    x: np.ndarray = None
    p_minus_y: np.ndarray = None
    training: bool = True
    loss_flag: str = None
    lines: list = field(default_factory=list, repr=False)

    @property
    def fused(self):
        return self.takes_logits

    def __str__(self):
        return "\n".join(self.lines)

    def layer(self, name, call=0):
        """The record of layer ``name`` (its ``call``-th call, for a shared layer)."""
        for record in self.layers:
            if record.name == name and record.call == call:
                return record
        known = list(dict.fromkeys(record.name for record in self.layers))
        if any(record.name == name for record in self.layers):
            calls = 1 + max(r.call for r in self.layers if r.name == name)
            raise UnknownLayerError(f"Layer '{name}' was called {calls} time(s) in the traced step; there is no "
                                    f"call={call}.")
        raise UnknownLayerError(f"No layer named {name!r} in the traced step. Known layers: {known}")

    @property
    def flags(self):
        """``[(layer label, stage key, message)]`` of every stage whose value disagrees with its equation."""
        found = [(record.label, stage.key, stage.flag) for record in self.layers for stage in record.flags]
        return found + ([("loss", "dloss", self.loss_flag)] if self.loss_flag else [])

    def plot(self, path=None, **kwargs):
        """Draw the computational graph of this batch (see ``tinynet.tools.trace_plot.plot_trace``)."""
        from .trace_plot import plot_trace
        return plot_trace(self, path, **kwargs)


def _equation(layer):
    """The layer class's ``equation``, else the first line of its docstring."""
    equation = getattr(type(layer), "equation", None)
    if equation is None:
        equation = (type(layer).__doc__ or type(layer).__name__).strip().splitlines()[0]
    activation = getattr(layer, "activation", None)
    if activation is not None and "act(" in equation:
        equation += f",  act: {_equation(activation)}"
    return equation


def _has_relu(layer):
    return isinstance(layer, ReLU) or isinstance(getattr(layer, "activation", None), ReLU)


# ----- printing ----------------------------------------------------------------------------------
def _values(array, max_values):
    array = np.asarray(array)
    if array.size > max_values:
        return []
    text = np.array2string(array, precision=4, suppress_small=True, max_line_width=100)
    return ["          " + line for line in text.splitlines()]


def _describe(array):
    return f"{str(np.shape(array)):<16} norm {np.linalg.norm(array):.4g}"


def _stage_lines(stage, max_values):
    lines = [f"      {stage.key:<8} {_describe(stage.value)}   {stage.label}"] + _values(stage.value, max_values)
    if stage.flag:
        lines.append(f"      !! {stage.key} {stage.flag}")
        lines += _values(stage.expected, max_values)
    return lines


def _loss_stage(model, walk, y_true):
    """``(p, p_minus_y, equation, expected dL/d(output))`` of the gradient the loss starts backprop with;
    p is what the model's own output activation computed (its node on the tape)."""
    out, takes_logits, name = walk.out, bool(model.loss_takes_logits), model.loss.name
    n = out.shape[0]
    p = next((node.outputs[0].value for node in walk.nodes
              if node.layer is not None and node.layer.pairs_with and node.inputs[0].value is out), None)
    if takes_logits and name in ("categorical_crossentropy", "sparse_categorical_crossentropy") and p is not None:
        return p, p - y_true, f"dL/dz = (p - y) / N = (p - y) / {n}", (p - y_true) / n
    if takes_logits and name == "binary_crossentropy" and p is not None:
        p_minus_y = p - y_true.reshape(p.shape)
        return p, p_minus_y, f"dL/dz = (p - y) / (N*K) = (p - y) / {p.size}", p_minus_y / p.size
    if name in ("mean_squared_error", "mse"):
        return out, None, f"dL/dy_pred = 2 (y_pred - y) / (N*K) = 2 (y_pred - y) / {out.size}", \
            2 * (out - y_true.reshape(out.shape)) / out.size
    return out if p is None else p, None, "dL/dy_pred" if not takes_logits else "dL/dz", None


def _records(walk, model):
    """One ``LayerTrace`` per step of the walk, in forward order, with its stages and checks."""
    records, index_of = [], {}
    for step in walk.steps:
        first = step.first
        listed = first.structure == "list" or (step.layer is None and len(first.inputs) > 1)
        xs = [t.value for t in first.inputs]
        layer = step.layer
        record = LayerTrace(step.name, type(layer).__name__ if layer is not None else "op",
                            _equation(layer) if layer is not None else f"y = {step.name}(x)",
                            xs if listed else xs[0], step.output.value, _has_relu(layer), layer=layer,
                            call=step.call)
        last = step.nodes[-1] if not step.paired else first
        record.dout = step.douts.get(id(last), step.douts.get(id(first)))
        dxs = step.dxs.get(id(first))
        record.dx = None if dxs is None else (list(dxs) if listed else dxs[0])
        record.grads = dict(step.grads)
        record.sources = [index_of.get(id(t)) for t in first.inputs]
        uses = walk.consumers.get(id(step.output), [])
        if len(uses) > 1:
            record.dout_parts = [((use.name if not use.call else f"{use.name} (call {use.call + 1})")
                                  + (f" input {i + 1}" if len(use.first.inputs) > 1 else ""), dx)
                                 for use, i, dx in uses if dx is not None]
        record.fast_ops = list(dict.fromkeys((c.name, c.where) for c in step.forward_ops + step.backward_ops
                                             if c.fast))
        index_of[id(step.output)] = len(records)
        records.append(record)
        record.forward_stages, record.backward_stages = stages(record, step, walk) if layer is not None else (
            [Stage("y", record.equation, record.y, "forward")], _op_backward(record))
    _bias_before_batch_norm_notes(records)
    for record in records:
        calls = [r for r in records if r.layer is not None and r.layer is record.layer]
        if len(calls) > 1 and record.call == 0 and record.layer.trainable_weights:
            total = {name: sum(r.grads[name] for r in calls) for name in record.grads}
            record.notes.append(f"'{record.name}' ran {len(calls)} times (shared weights): each call's dw above is "
                                "its own; the weights' gradient, what the optimizer uses, is their sum: "
                                + ", ".join(f"{name} |{np.linalg.norm(g):.4g}|" for name, g in total.items()))
    return records


def _op_backward(record):
    """An op on tensors (``h * 0.5`` in a ``call``): what reached it and what its vector-Jacobian product returned."""
    if record.dout is None:
        return []
    dxs = record.dx if isinstance(record.dx, list) else [record.dx]
    return [Stage("dy", "dy = dL/dy", record.dout, "backward")] + [
        Stage(f"dx{i + 1}", f"dx{i + 1} = the op's vector-Jacobian product", dx, "backward")
        for i, dx in enumerate(dxs) if dx is not None]


def _bias_before_batch_norm_notes(records):
    for record in records:
        bias = getattr(record.layer, "bias", None)
        users = [r for r in records if r.sources and r.sources[0] is not None and records[r.sources[0]] is record]
        for nxt in users:
            if isinstance(nxt.layer, BatchNormalization) and bias is not None and bias.trainable:
                record.notes.append(f"db is 0 (up to rounding): the bias sits right before '{nxt.name}', whose "
                                    "batch mean subtracts any constant shift; use_bias=False would drop it.")


def _fork_lines(record, records):
    """The gradient of a value used several times: the parts its uses sent back, and their sum."""
    if not record.dout_parts:
        return []
    lines = [f"      dy is the sum over the {len(record.dout_parts)} uses of this output (the fork rule):"]
    for label, part in record.dout_parts:
        lines.append(f"        from {label:<24} {_describe(part)}")
    total = sum(part for _, part in record.dout_parts)
    lines.append(f"        {'sum':<29} {_describe(total)}")
    if record.dout is not None and not np.allclose(total, record.dout, rtol=1e-9, atol=1e-12):
        lines.append(f"      !! the parts do not add up to the dy that reached '{record.label}'")
    return lines


def trace(model, x, y, training=True, verbose=True, print_fn=print, max_values=24):
    """Run one forward and backward pass of a compiled ``model`` on ``(x, y)`` and print every stage.

    In training mode by default (``training=True``: the backward the docs derive, as
    ``gradcheck`` checks it). x, y: a small batch, e.g. 2 samples; arrays with at most
    ``max_values`` entries are printed in full. x and y are checked as ``fit`` checks them.
    Works on Sequential, functional and subclassed models. No weight, moving statistic,
    optimizer state or random state of the model is changed. Returns a ``Trace``:
    ``trace.flags`` lists the stages that disagree with their equations; ``trace.plot()`` draws it.
    """
    x, y = prepare_data(model, x, y, "trace")
    model = copy.deepcopy(model)                # our own copy: the learner's model stays untouched
    as_float64(model.layers)
    random_state = rng().bit_generator.state    # Dropout draws from it; put it back afterwards
    try:
        walk = Walk(model, x, y, training, loss_gradient)
    finally:
        rng().bit_generator.state = random_state
    out, loss, dloss = walk.out, walk.loss, walk.dloss
    takes_logits = bool(model.loss_takes_logits)
    y_true = np.asarray(y, dtype=np.float64)
    if model.loss.name == "sparse_categorical_crossentropy":
        y_true = np.eye(out.shape[-1])[np.asarray(y).reshape(-1).astype(int)]
    y_pred, p_minus_y, dloss_equation, expected_dloss = _loss_stage(model, walk, y_true)
    loss_flag = None
    if expected_dloss is not None:
        loss_flag = recorded("dloss", dloss_equation, dloss, "backward", expected=expected_dloss).flag
    records = _records(walk, model)
    fast = list(dict.fromkeys(op for record in records for op in record.fast_ops))

    lines = [f"forward  (x: {x.shape}, training={training})"]
    for index, record in enumerate(records, 1):
        shapes = [np.shape(v) for v in record.x] if isinstance(record.x, list) else np.shape(record.x)
        came = [("x" if s is None else records[s].label) for s in record.sources]
        lines.append(f"  [{index}] {record.label} ({record.kind})   {shapes} -> {np.shape(record.y)}" +
                     (f"   from {', '.join(came)}" if came and came != ["x"] and (len(came) > 1 or
                      record.sources[0] != index - 2) else ""))
        lines.append(f"      {record.equation}")
        stats = f"      output: mean {record.mean:.4g}, std {record.std:.4g}"
        if record.after_relu:
            stats += f", zeros after ReLU {100 * record.zero_fraction:.1f}%"
        lines.append(stats)
        for stage in record.forward_stages:
            lines += _stage_lines(stage, max_values)
    lines.append("loss")
    if takes_logits and p_minus_y is not None:
        activation = "softmax" if model.loss.name != "binary_crossentropy" else "sigmoid"
        lines.append(f"  {model.loss.name} on the logits z (paired with the final {activation}) = {loss:.6g}")
        lines.append(f"  p = {activation}(z), from the model's {activation} node: {_describe(y_pred)}")
        lines += _values(y_pred, max_values)
        lines.append(f"  y: {_describe(y_true)}")
        lines += _values(y_true, max_values)
        lines.append(f"  p - y: {_describe(p_minus_y)}")
        lines += _values(p_minus_y, max_values)
    else:
        lines.append(f"  {model.loss.name} = {loss:.6g}")
    lines.append(f"  {dloss_equation}: {_describe(dloss)}   (the loss's backward)")
    lines += _values(dloss, max_values)
    if loss_flag:
        lines.append(f"  !! dloss {loss_flag}")
    lines.append("backward")
    for index in range(len(records), 0, -1):
        record = records[index - 1]
        lines.append(f"  [{index}] {record.label} ({record.kind})")
        lines += _fork_lines(record, records)
        for stage in record.backward_stages:
            lines += _stage_lines(stage, max_values)
        for note in record.notes:
            lines.append(f"      note: {note}")
    if fast:
        lines.append("note: fast twins ran in place of the textbook ops (chosen by the op registry, impl='fast'): "
                     + ", ".join(f"{name} ({where})" for name, where in fast)
                     + "; the values above are what they returned, checked against the same equations.")
    result = Trace(layers=records, loss=loss, loss_name=model.loss.name, y_true=y_true, y_pred=y_pred,
                   logits=out, dloss=dloss, takes_logits=takes_logits, dloss_equation=dloss_equation, x=x,
                   p_minus_y=p_minus_y, training=training, loss_flag=loss_flag, lines=lines)
    flags = result.flags
    if flags:
        lines.append(f"!! {len(flags)} stage(s) disagree with their equations: "
                     + ", ".join(f"{label} {key}" for label, key, _ in flags)
                     + ". The first in backward order is where the layer's own code goes wrong.")
    else:
        lines.append("every recorded stage agrees with its equation")
    lines.append(f"loss {loss:.6g} ; backprop started from {dloss_equation}")
    if verbose:
        for line in lines:
            print_fn(line)
    return result
