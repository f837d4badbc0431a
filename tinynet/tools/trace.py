"""``tinynet.trace(model, x, y)``: one forward and one backward pass, printed stage by stage.

    trace = tinynet.trace(model, x[:2], y[:2])
    trace.plot("trace.png")          # the computational graph of this batch, and one unit's circuit

Every layer is shown as the stages its docstring's equations name, forward and backward,
each with its shape (N samples first), its norm, and its values when it is small:

    Dense          x -> z = x @ w + b -> act'(z) (ReLU: the mask [z > 0]) -> y
                   dy -> dz = dy * act'(z) -> dw = x^T @ dz, db = sum_n dz -> dx = dz @ w^T
    Conv2D         x -> cols = im2col(x): (N*out_h*out_w, kh*kw*C) -> z = cols @ w_col + b -> y
                   dy -> dz -> dw_col = cols^T @ dz, db -> dcols = dz @ w_col^T -> dx = col2im(dcols)
    MaxPooling2D   the winners (the input each window routes its gradient to)
    BatchNorm      mean, var, xhat -> y;  dgamma, dbeta, dxhat, dvar, dmean -> dx
    the loss       softmax + cross-entropy: p, y and dL/dz = (p - y) / N
                   sigmoid + binary cross-entropy: dL/dz = (p - y) / (N*K)

Zeros that are known to be zeros are explained in one line (a bias right before batch
norm, dead ReLU units, the max-pool losers).

The pass runs through the model's public step only: ``model.forward(..., on_layer=)``,
``model.compute_loss``, ``model.backward(..., on_layer=)``; the stages in between are
recomputed here from each layer's input, output and weights, as the equations say. It runs
on a float64 copy of the model, in training mode by default (the backward the docs derive:
Dropout drops, BatchNormalization uses the batch's statistics), with the library's random
state restored afterwards: the model's weights, moving statistics, optimizer and the
random state are left exactly as they were.
"""
import copy
from dataclasses import dataclass, field

import numpy as np

from .gradcheck import as_float64, loss_gradient, max_pool_first_winner, prepare_data
from ..core.layers.activations import Linear, ReLU, Sigmoid, Softmax, Tanh
from ..core.layers.conv import Conv2D
from ..core.layers.core import Dense, Dropout
from ..core.layers.normalization import BatchNormalization
from ..core.layers.pooling import MaxPooling2D
from ..core.utils import rng


@dataclass
class Stage:
    """One value in the traced step: ``kind`` is 'forward', 'local' (a local derivative) or 'backward'."""

    key: str            # short name: 'x', 'z', 'mask', 'y', 'dy', 'dz', 'dw', 'dx', ...
    label: str          # the equation that made it
    value: np.ndarray
    kind: str

    @property
    def shape(self):
        return tuple(np.shape(self.value))

    @property
    def norm(self):
        return float(np.linalg.norm(self.value))


@dataclass
class LayerTrace:
    """What one layer did in the traced step. Arrays are float64, batch axis first."""

    name: str
    kind: str                       # the class name: 'Dense', 'ReLU', ...
    equation: str
    x: np.ndarray                   # the layer's input
    y: np.ndarray                   # its output (the logits z, for an output layer paired with the loss)
    after_relu: bool = False        # its output went through a ReLU
    dout: np.ndarray = None         # dL/d(output) arriving in backward
    dx: np.ndarray = None           # dL/d(input) it passed back
    grads: dict = field(default_factory=dict)   # '<layer>/<weight>' -> dL/dw
    forward_stages: list = field(default_factory=list)
    backward_stages: list = field(default_factory=list)
    notes: list = field(default_factory=list)   # known zeros, explained
    layer: object = field(default=None, repr=False)

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
    lines: list = field(default_factory=list, repr=False)

    @property
    def fused(self):
        return self.takes_logits

    def __str__(self):
        return "\n".join(self.lines)

    def layer(self, name):
        return next(record for record in self.layers if record.name == name)

    def plot(self, path=None, **kwargs):
        """Draw the computational graph of this batch (see ``tinynet.tools.trace_plot.plot_trace``)."""
        from .trace_plot import plot_trace
        return plot_trace(self, path, **kwargs)


# ----- the stages of each kind of layer ----------------------------------------------------------
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


def _activation_stages(activation, z, y, dy, skipped, zname="z"):
    """Forward 'local' stage and backward dz stage of an activation between z and y."""
    if skipped:
        return [], [Stage("dz", "dz = dy (the loss took the logits: its gradient is already dL/dz)", dy,
                          "backward")]
    if activation is None or isinstance(activation, Linear):
        return [], []
    if isinstance(activation, ReLU):
        mask = (z > 0).astype(np.float64)
        return ([Stage("mask", f"relu'({zname}) = [{zname} > 0]", mask, "local")],
                [Stage("dz", f"d{zname} = dy * [{zname} > 0]", dy * mask, "backward")])
    if isinstance(activation, Tanh):
        local = 1 - y * y
        return ([Stage("local", f"tanh'({zname}) = 1 - y^2", local, "local")],
                [Stage("dz", f"d{zname} = dy * (1 - y^2)", dy * local, "backward")])
    if isinstance(activation, Sigmoid):
        local = y * (1 - y)
        return ([Stage("local", f"sigmoid'({zname}) = y (1 - y)", local, "local")],
                [Stage("dz", f"d{zname} = dy * y (1 - y)", dy * local, "backward")])
    if isinstance(activation, Softmax):
        dz = y * (dy - (dy * y).sum(axis=-1, keepdims=True))
        return [], [Stage("dz", f"d{zname} = p * (dp - sum(dp * p))  (vector-Jacobian product)", dz, "backward")]
    return [], []


def _pad_same(x, out_h, out_w, kh, kw, sh, sw, value=0.0):
    """x padded as TensorFlow pads for padding='same' (the odd row / column at the bottom / right)."""
    pad_h = max((out_h - 1) * sh + kh - x.shape[1], 0)
    pad_w = max((out_w - 1) * sw + kw - x.shape[2], 0)
    return np.pad(x, ((0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)),
                  constant_values=value)


def im2col(x, kernel_size, strides, padding, out_h, out_w):
    """Each output pixel's receptive field as one row: ``(N*out_h*out_w, kh*kw*C)``, columns ordered (di, dj, c).

    So ``im2col(x) @ w.reshape(kh*kw*C, F)`` is the convolution (w: (kh, kw, C, F)).
    """
    (kh, kw), (sh, sw) = kernel_size, strides
    if padding == "same":
        x = _pad_same(x, out_h, out_w, kh, kw, sh, sw)
    n, channels = x.shape[0], x.shape[-1]
    cols = np.empty((n, out_h, out_w, kh, kw, channels))
    for di in range(kh):
        for dj in range(kw):
            cols[:, :, :, di, dj, :] = x[:, di:di + sh * (out_h - 1) + 1:sh, dj:dj + sw * (out_w - 1) + 1:sw, :]
    return cols.reshape(n * out_h * out_w, kh * kw * channels)


def _dense_or_conv(record, layer, skipped):
    x, y, dy = record.x, record.y, record.dout
    w = layer.kernel.data
    b = layer.bias.data if layer.bias is not None else 0.0
    forward, backward = [], []
    if isinstance(layer, Dense):
        z = x @ w + b
        forward.append(Stage("z", "z = x @ w + b", z, "forward"))
    else:
        n, out_h, out_w, filters = y.shape
        cols = im2col(x, layer.kernel_size, layer.strides, layer.padding, out_h, out_w)
        w_col = w.reshape(-1, filters)
        z = (cols @ w_col + b).reshape(y.shape)
        forward.append(Stage("cols", "cols = im2col(x): one row per output pixel (n, i, j)", cols, "forward"))
        forward.append(Stage("z", "z = cols @ w_col + b,  w_col = w.reshape(kh*kw*C, F)", z, "forward"))
    if skipped:
        forward[-1].label += "  (the logits: the model stops here, the loss applies the output activation)"
    local, dz_stage = _activation_stages(getattr(layer, "activation", None), z, y, dy, skipped)
    forward += local
    if local or not skipped and not isinstance(getattr(layer, "activation", None), (Linear, type(None))):
        forward.append(Stage("y", "y = act(z)", y, "forward"))
    backward.append(Stage("dy", "dy = dL/dy (from the next layer)", dy, "backward"))
    if not dz_stage:
        dz_stage = [Stage("dz", "dz = dy (no activation)", dy, "backward")]
    dz = dz_stage[0].value
    backward += dz_stage
    grads = record.grads
    if isinstance(layer, Dense):
        backward.append(Stage("dw", "dw = x^T @ dz", grads[layer.kernel.name], "backward"))
        if layer.bias is not None:
            backward.append(Stage("db", "db = sum over samples of dz", grads[layer.bias.name], "backward"))
    else:
        backward.append(Stage("dw", "dw_col = cols^T @ dz, reshaped to (kh, kw, C, F)",
                              grads[layer.kernel.name], "backward"))
        if layer.bias is not None:
            backward.append(Stage("db", "db = sum over n, i, j of dz", grads[layer.bias.name], "backward"))
        dcols = dz.reshape(-1, w.shape[-1]) @ w.reshape(-1, w.shape[-1]).T
        backward.append(Stage("dcols", "dcols = dz @ w_col^T (one row per output pixel)", dcols, "backward"))
    if record.dx is not None:
        label = "dx = dz @ w^T" if isinstance(layer, Dense) else "dx = col2im(dcols): each pixel sums its patches' rows"
        backward.append(Stage("dx", label, record.dx, "backward"))
    if _has_relu(layer):
        dead = int((~(z > 0)).all(axis=tuple(range(z.ndim - 1))).sum())
        if dead:
            record.notes.append(f"{dead} of {z.shape[-1]} units are 0 for every sample here (z <= 0): their "
                                "column of dz, dw and db is 0.")
    return forward, backward


def _batch_norm(record, layer, training):
    x, dy = record.x, record.dout
    axes = tuple(range(x.ndim - 1))
    m = int(np.prod([x.shape[a] for a in axes]))
    gamma = layer.gamma.data if layer.gamma is not None else np.ones(x.shape[-1])
    eps = layer.epsilon
    forward, backward = [], []
    dxhat = dy * gamma
    if training and layer.trainable:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        xhat = (x - mean) / np.sqrt(var + eps)
        dvar = (dxhat * (x - mean)).sum(axis=axes) * -0.5 * (var + eps) ** -1.5
        dmean = -dxhat.sum(axis=axes) / np.sqrt(var + eps)      # + dvar * mean(-2 (x - mean)) = 0
        forward += [Stage("mean", f"mean over the {m} values of each channel", mean, "forward"),
                    Stage("var", "var = mean((x - mean)^2) (biased)", var, "forward"),
                    Stage("xhat", "xhat = (x - mean) / sqrt(var + eps)", xhat, "forward")]
        middle = [Stage("dxhat", "dxhat = dy * gamma", dxhat, "backward"),
                  Stage("dvar", "dvar = sum(dxhat * (x - mean)) * -1/2 (var + eps)^-3/2", dvar, "backward"),
                  Stage("dmean", "dmean = -sum(dxhat) / sqrt(var + eps)", dmean, "backward")]
        dx_label = "dx = dxhat / sqrt(var + eps) + dvar * 2 (x - mean) / M + dmean / M"
    else:
        mean, var = layer.moving_mean.data, layer.moving_variance.data
        xhat = (x - mean) / np.sqrt(var + eps)
        forward += [Stage("xhat", "xhat = (x - moving_mean) / sqrt(moving_variance + eps)", xhat, "forward")]
        middle = [Stage("dxhat", "dxhat = dy * gamma", dxhat, "backward")]
        dx_label = "dx = dxhat / sqrt(moving_variance + eps)  (inference: a fixed affine map)"
    forward.append(Stage("y", "y = gamma * xhat + beta", record.y, "forward"))
    backward.append(Stage("dy", "dy = dL/dy (from the next layer)", dy, "backward"))
    if layer.gamma is not None:
        backward.append(Stage("dgamma", "dgamma = sum(dy * xhat)", record.grads[layer.gamma.name], "backward"))
    if layer.beta is not None:
        backward.append(Stage("dbeta", "dbeta = sum(dy)", record.grads[layer.beta.name], "backward"))
    backward += middle
    if record.dx is not None:
        backward.append(Stage("dx", dx_label, record.dx, "backward"))
    return forward, backward


def _max_pool(record, layer):
    x, y = record.x, record.y
    (ph, pw), (sh, sw) = layer.pool_size, layer.strides
    out_h, out_w = y.shape[1:3]
    choice = max_pool_first_winner(x, y, layer.pool_size, layer.strides, layer.padding)
    xp = _pad_same(x, out_h, out_w, ph, pw, sh, sw) if layer.padding == "same" else x
    winners = np.zeros(xp.shape)
    for di in range(ph):
        for dj in range(pw):
            cell = winners[:, di:di + sh * (out_h - 1) + 1:sh, dj:dj + sw * (out_w - 1) + 1:sw, :]
            cell += choice == di * pw + dj
    if layer.padding == "same":
        top, left = (xp.shape[1] - x.shape[1]) // 2, (xp.shape[2] - x.shape[2]) // 2
        winners = winners[:, top:top + x.shape[1], left:left + x.shape[2], :]
    record.notes.append(f"{int((winners == 0).sum())} of {winners.size} inputs win no window: their dx is 0.")
    forward = [Stage("winners", "winners: 1 where a window's (first) maximum sits", winners, "local"),
               Stage("y", "y = max over each window", y, "forward")]
    backward = [Stage("dy", "dy = dL/dy (from the next layer)", record.dout, "backward")]
    if record.dx is not None:
        backward.append(Stage("dx", "dx = each window's dy routed to its winner", record.dx, "backward"))
    return forward, backward


def _generic(record, layer, skipped):
    forward, backward = [], [Stage("dy", "dy = dL/dy (from the next layer)", record.dout, "backward")]
    if isinstance(layer, (ReLU, Tanh, Sigmoid, Softmax)):
        local, dz = _activation_stages(layer, record.x, record.y, record.dout, skipped, zname="x")
        forward += local
        if dz:
            backward.append(Stage("dx", dz[0].label.replace("dz = dy (", "dx = dy ("), dz[0].value, "backward"))
            record.dx = dz[0].value if record.dx is None else record.dx
            return forward + [Stage("y", _equation(layer), record.y, "forward")], backward
    elif isinstance(layer, Dropout) and record.y is not record.x and np.any(record.y != record.x):
        kept = (record.y != 0) | (record.x == 0)
        forward.append(Stage("mask", f"m / (1 - rate): kept units scaled by {1 / (1 - layer.rate):.3g}",
                             np.where(kept, 1 / (1 - layer.rate), 0.0), "local"))
    forward.append(Stage("y", _equation(layer), record.y, "forward"))
    if record.dx is not None:
        backward.append(Stage("dx", "dx = dL/dx", record.dx, "backward"))
    return forward, backward


def _stages(record, layer, training, skipped):
    if isinstance(layer, (Dense, Conv2D)):
        return _dense_or_conv(record, layer, skipped)
    if isinstance(layer, BatchNormalization):
        return _batch_norm(record, layer, training)
    if isinstance(layer, MaxPooling2D):
        return _max_pool(record, layer)
    return _generic(record, layer, skipped)


def _bias_before_batch_norm_notes(records, layers):
    for index, (record, layer) in enumerate(zip(records, layers)):
        nxt = layers[index + 1] if index + 1 < len(layers) else None
        bias = getattr(layer, "bias", None)
        if isinstance(nxt, BatchNormalization) and bias is not None and bias.trainable:
            record.notes.append(f"db is 0 (up to rounding): the bias sits right before '{nxt.name}', whose "
                                "batch mean subtracts any constant shift; use_bias=False would drop it.")




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
    return [f"      {stage.key:<8} {_describe(stage.value)}   {stage.label}"] + _values(stage.value, max_values)


def _loss_stage(model, y_true, out, dloss, takes_logits):
    """``(p, p_minus_y, equation)`` of the gradient the loss starts backprop with."""
    n = out.shape[0]
    name = model.loss.name
    if takes_logits and name in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        p = np.exp(out - out.max(axis=-1, keepdims=True))
        p /= p.sum(axis=-1, keepdims=True)
        return p, p - y_true, f"dL/dz = (p - y) / N = (p - y) / {n}"
    if takes_logits and name == "binary_crossentropy":
        p = 1 / (1 + np.exp(-out))
        return p, p - y_true.reshape(p.shape), f"dL/dz = (p - y) / (N*K) = (p - y) / {p.size}"
    if name in ("mean_squared_error", "mse"):
        return out, None, f"dL/dy_pred = 2 (y_pred - y) / (N*K) = 2 (y_pred - y) / {out.size}"
    return out, None, "dL/dy_pred"


def trace(model, x, y, training=True, verbose=True, print_fn=print, max_values=24):
    """Run one forward and backward pass of a compiled ``model`` on ``(x, y)`` and print every stage.

    In training mode by default (``training=True``: the backward the docs derive, as
    ``gradcheck`` checks it). x, y: a small batch, e.g. 2 samples; arrays with at most
    ``max_values`` entries are printed in full. x and y are checked as ``fit`` checks them.
    No weight, moving statistic, optimizer state or random state of the model is changed.
    Returns a ``Trace``; ``trace(...).plot()`` draws it.
    """
    x, y = prepare_data(model, x, y, "trace")
    model = copy.deepcopy(model)                # our own copy: the learner's model stays untouched
    as_float64(model.layers)
    random_state = rng().bit_generator.state    # Dropout draws from it; put it back afterwards
    forward_records, backward_records = [], []
    try:
        out = model.forward(x, training=training, logits=True,
                            on_layer=lambda layer, x_in, y_out: forward_records.append((layer, x_in, y_out)))
        loss = model.compute_loss(y, out)
        dloss = loss_gradient(model)
        model.backward(dloss, input_gradient=True,
                       on_layer=lambda layer, dout, dx: backward_records.append((layer, dout, dx)))
    finally:
        rng().bit_generator.state = random_state
    takes_logits = bool(model.loss_takes_logits)
    y_true = y
    if model.loss.name == "sparse_categorical_crossentropy":
        y_true = np.eye(out.shape[-1])[np.asarray(y).reshape(-1).astype(int)]
    y_pred, p_minus_y, dloss_equation = _loss_stage(model, y_true, out, dloss, takes_logits)

    backward_by_layer = {id(layer): (dout, dx) for layer, dout, dx in backward_records}
    records, layers = [], []
    last = len(forward_records) - 1
    for index, (layer, x_in, y_out) in enumerate(forward_records):
        record = LayerTrace(layer.name, type(layer).__name__, _equation(layer), x_in, y_out, _has_relu(layer),
                            layer=layer)
        record.dout, record.dx = backward_by_layer.get(id(layer), (None, None))
        record.grads = {p.name: p.grad.copy() for p in layer.trainable_weights}
        records.append(record)
        layers.append(layer)
    _bias_before_batch_norm_notes(records, layers)
    for index, (record, layer) in enumerate(zip(records, layers)):
        paired = takes_logits and index == last
        record.forward_stages, record.backward_stages = _stages(record, layer, training, paired)

    lines = [f"forward  (x: {x.shape}, training={training})"]
    for index, record in enumerate(records, 1):
        lines.append(f"  [{index}] {record.name} ({record.kind})   {record.x.shape} -> {record.y.shape}")
        lines.append(f"      {record.equation}")
        stats = f"      output: mean {record.mean:.4g}, std {record.std:.4g}"
        if record.after_relu:
            stats += f", zeros after ReLU {100 * record.zero_fraction:.1f}%"
        lines.append(stats)
        for stage in record.forward_stages:
            lines += _stage_lines(stage, max_values)
    lines.append("loss")
    if takes_logits:
        activation = "softmax" if model.loss.name != "binary_crossentropy" else "sigmoid"
        lines.append(f"  {model.loss.name} on the logits z (paired with the final {activation}) = {loss:.6g}")
        lines.append(f"  p = {activation}(z): {_describe(y_pred)}")
        lines += _values(y_pred, max_values)
        lines.append(f"  y: {_describe(y_true)}")
        lines += _values(y_true, max_values)
        lines.append(f"  p - y: {_describe(p_minus_y)}")
        lines += _values(p_minus_y, max_values)
    else:
        lines.append(f"  {model.loss.name} = {loss:.6g}")
    lines.append(f"  {dloss_equation}: {_describe(dloss)}")
    lines += _values(dloss, max_values)
    lines.append("backward")
    for index in range(len(records), 0, -1):
        record = records[index - 1]
        lines.append(f"  [{index}] {record.name} ({record.kind})")
        for stage in record.backward_stages:
            lines += _stage_lines(stage, max_values)
        for note in record.notes:
            lines.append(f"      note: {note}")
    lines.append(f"loss {loss:.6g} ; backprop started from {dloss_equation}")
    result = Trace(layers=records, loss=loss, loss_name=model.loss.name, y_true=y_true, y_pred=y_pred,
                   logits=out, dloss=dloss, takes_logits=takes_logits, dloss_equation=dloss_equation, x=x,
                   p_minus_y=p_minus_y, training=training, lines=lines)
    if verbose:
        for line in lines:
            print_fn(line)
    return result
