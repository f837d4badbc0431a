"""The stages of each kind of layer: what its own forward and backward produced, each checked against its equation.

A *recorded* stage is a value the layer's code produced in the traced step (a node's input or
output, its cache, what an op returned, what its backward returned or wrote into a gradient).
Where the docstring gives an equation for it, the equation is computed here from the other
recorded values and compared: a stage that disagrees is *flagged*. So a backward that forgets the
ReLU mask is flagged at its dz, one whose dw is not x^T @ dz at its dw.

An *equation* stage is a value the code keeps nowhere (batch norm's dxhat, dvar and dmean live
inside one op; the fast conv twin never builds dcols): it is computed here from recorded values,
said so in its label, and checked through the recorded value it leads to (dx).
"""
from dataclasses import dataclass

import numpy as np

from ..core.layers.activations import ReLU, Sigmoid, Softmax, Tanh
from ..core.layers.conv import Conv2D
from ..core.layers.core import Dense, Dropout
from ..core.layers.merge import Add
from ..core.layers.normalization import BatchNormalization
from ..core.layers.pooling import MaxPooling2D
from ..core.ops.conv import col2im, crop2d, im2col, pad_widths_2d, window_slice
from ..core.ops.softmax import softmax
from .gradcheck_points import max_pool_first_winner

TOLERANCE = 1e-6        # relative disagreement that flags a stage (the trace runs in float64)


@dataclass
class Stage:
    """One value in the traced step: ``kind`` is 'forward', 'local' (a local derivative) or 'backward';
    ``source`` 'recorded' (the code produced it) or 'equation' (computed here); ``flag`` says how a recorded
    value disagrees with its equation (None: it agrees, or it has none)."""

    key: str
    label: str
    value: np.ndarray
    kind: str
    source: str = "recorded"
    expected: np.ndarray = None
    flag: str = None

    @property
    def shape(self):
        return tuple(np.shape(self.value))

    @property
    def norm(self):
        return float(np.linalg.norm(self.value))


def recorded(key, label, value, kind, expected=None, equation=None, floor=0.0):
    """A stage the code produced; with ``expected``, flagged when they disagree by more than TOLERANCE relative
    and more than ``floor`` (the rounding noise of a sum that cancels: a bias's gradient before batch norm)."""
    stage = Stage(key, label, np.asarray(value), kind, "recorded")
    if expected is not None:
        stage.expected = np.asarray(expected, dtype=np.float64)
        value, expected = np.asarray(value, dtype=np.float64), stage.expected
        if value.shape != expected.shape and value.size == expected.size:
            expected = expected.reshape(value.shape)
        difference = np.linalg.norm(value - expected) if value.shape == expected.shape else np.inf
        scale = np.linalg.norm(value) + np.linalg.norm(expected)
        if difference > max(TOLERANCE * scale, floor) or not np.isfinite(difference):
            stage.flag = (f"disagrees with its equation {equation or label}: the code's {key} has norm "
                          f"{np.linalg.norm(value):.4g}, the equation gives {np.linalg.norm(expected):.4g} "
                          f"(relative difference {difference / scale if scale else np.inf:.2g})")
    return stage


def equation(key, label, value, kind):
    return Stage(key, label + "   [equation: the code keeps no such value]", np.asarray(value), kind, "equation")


# ----- activations: their forward and local derivative ------------------------------------------
def activation_rules(activation, z):
    """``(y = act(z), act'(z) or None, label of act', forward label)`` for the activations with an equation
    here; None for the others (shown, not checked). Softmax's derivative is a Jacobian: None."""
    if isinstance(activation, ReLU):
        return np.maximum(z, 0), (z > 0).astype(np.float64), "[z > 0]", "max(z, 0)"
    if isinstance(activation, Tanh):
        y = np.tanh(z)
        return y, 1 - y * y, "(1 - y^2)", "tanh(z)"
    if isinstance(activation, Sigmoid):
        y = np.exp(-np.logaddexp(0, -z))           # 1 / (1 + e^-z) without overflow
        return y, y * (1 - y), "y (1 - y)", "sigmoid(z)"
    if isinstance(activation, Softmax):
        return softmax(z), None, None, "softmax(z)"
    return None


def activation_stages(activation, node_cache, z, y, dy, dz, zname="z"):
    """Forward: the mask / local derivative and y; backward: dz = dy * act'(z), checked."""
    forward, backward = [], []
    rules = activation_rules(activation, z)
    if isinstance(activation, ReLU) and hasattr(activation, "mask"):
        activation.cache = node_cache              # the layer's own mask, from this call's cache
        forward.append(recorded("mask", f"relu'({zname}) = [{zname} > 0], from the ReLU's cache",
                                activation.mask().astype(np.float64), "local",
                                expected=None if rules is None else rules[1]))
    elif rules is not None and rules[1] is not None:
        forward.append(equation("local", f"act'({zname}) = {rules[2]}", rules[1], "local"))
    forward.append(recorded("y", f"y = act({zname})" + (f" = {rules[3]}" if rules else ""), y, "forward",
                            expected=None if rules is None else rules[0]))
    backward.append(recorded("dy", "dy = dL/dy (from the next layer)", dy, "backward"))
    if dz is None:
        return forward, backward
    d = f"d{zname}" if zname != "z" else "dz"
    if rules is not None and rules[1] is not None:
        backward.append(recorded(d, f"{d} = dy * {rules[2].replace('z', zname)}", dz, "backward",
                                 expected=dy * rules[1]))
    elif rules is not None:                        # softmax: the vector-Jacobian product
        p = rules[0]
        backward.append(recorded(d, f"{d} = p * (dy - sum(dy * p))", dz, "backward",
                                 expected=p * (dy - (dy * p).sum(axis=-1, keepdims=True))))
    else:
        backward.append(recorded(d, f"{d} = the activation's backward (no equation here to check it)", dz,
                                 "backward"))
    return forward, backward


# ----- the layers -------------------------------------------------------------------------------
def dense_or_conv(record, step, walk):
    layer, node = record.layer, step.first
    x, z = record.x, node.outputs[0].value
    w = layer.kernel.data
    b = layer.bias.data if layer.bias is not None else 0.0
    forward, backward, grads = [], [], record.grads
    if isinstance(layer, Dense):
        forward.append(recorded("z", "z = x @ w + b", z, "forward", expected=x @ w + b))
        cols = w_col = None
    else:
        kh, kw, channels, filters = w.shape
        w_col = w.reshape(-1, filters)
        cache_cols = getattr(node.cache, "cols", None)
        reference = im2col(x, kh, kw, layer.strides, layer.padding)
        if cache_cols is not None:
            cols = np.asarray(cache_cols)[:, :kh * kw * channels]     # the fast twin's ones column dropped
            forward.append(recorded("cols", "cols = im2col(x), from the layer's cache: one row per output pixel",
                                    cols, "forward", expected=reference))
        else:
            cols = reference
            forward.append(equation("cols", "cols = im2col(x)", cols, "forward"))
        forward.append(recorded("z", "z = cols @ w_col + b,  w_col = w.reshape(kh*kw*C, F)", z, "forward",
                                expected=(cols @ w_col + b).reshape(z.shape)))
    if step.paired:
        forward[-1].label += "  (the logits: the loss applies the output activation)"
    dz = step.douts.get(id(node))
    if len(step.nodes) > 1 and not step.paired:
        act = step.nodes[1]
        act_forward, act_backward = activation_stages(act.layer, act.cache, z, act.outputs[0].value,
                                                      step.douts.get(id(act)), dz)
        forward += act_forward
        backward += act_backward
    else:
        backward.append(recorded("dy", "dy = dL/dy (from the next layer)" if not step.paired else
                                 "dy = dL/dz, from the loss", dz, "backward"))
        backward.append(recorded("dz", "dz = dy" + (" (the loss took the logits)" if step.paired else
                                                     " (no activation)"), dz, "backward"))
    if dz is None:
        return forward, backward
    dz2 = dz.reshape(-1, w.shape[-1])
    noise = 1e-9 * np.linalg.norm(dz)                  # the rounding of sums that cancel, per unit of their terms
    if isinstance(layer, Dense):
        x2 = x.reshape(-1, x.shape[-1])
        backward.append(recorded("dw", "dw = x^T @ dz", grads[layer.kernel.name], "backward", expected=x2.T @ dz2,
                                 floor=noise * np.linalg.norm(x)))
    else:
        backward.append(recorded("dw", "dw_col = cols^T @ dz, reshaped to (kh, kw, C, F)", grads[layer.kernel.name],
                                 "backward", expected=(cols.T @ dz2).reshape(w.shape),
                                 floor=noise * np.linalg.norm(cols)))
    if layer.bias is not None:
        backward.append(recorded("db", "db = sum over samples (and pixels) of dz", grads[layer.bias.name],
                                 "backward", expected=dz2.sum(axis=0), floor=noise))
    if isinstance(layer, Conv2D):
        dcols = dz2 @ w_col.T
        backward.append(equation("dcols", "dcols = dz @ w_col^T (one row per output pixel)", dcols, "backward"))
        kh, kw = layer.kernel_size
        expected_dx = col2im(dcols, x.shape, kh, kw, layer.strides, layer.padding)
        label = "dx = col2im(dcols): each pixel sums its patches' rows"
    else:
        expected_dx, label = dz @ w.T, "dx = dz @ w^T"
    if record.dx is not None:
        backward.append(recorded("dx", label, record.dx, "backward", expected=expected_dx,
                                 floor=noise * np.linalg.norm(w)))
    if isinstance(getattr(layer, "activation", None), ReLU) and not step.paired:
        dead = int((~(z > 0)).all(axis=tuple(range(z.ndim - 1))).sum())
        if dead:
            record.notes.append(f"{dead} of {z.shape[-1]} units are 0 for every sample here (z <= 0): their "
                                "column of dz, dw and db is 0.")
    return forward, backward


def batch_norm(record, step, walk):
    layer, node, x, dy = record.layer, step.first, record.x, record.dout
    axes = tuple(range(x.ndim - 1))
    m = x.size // x.shape[-1]
    gamma = layer.gamma.data if layer.gamma is not None else np.ones(x.shape[-1])
    beta = layer.beta.data if layer.beta is not None else 0.0
    eps = layer.epsilon
    training, cache = node.cache
    forward, backward = [], []
    if training:
        returned = next((c.result for c in step.forward_ops if c.name == "batch_norm_forward"), None)
        mean, var = (returned[1], returned[2]) if returned is not None else (
            getattr(cache, "mean", None), getattr(cache, "var", None))
        where = "returned by the op batch_norm_forward"
        if mean is None:                                  # not seen: shown from the equations
            mean, var = x.mean(axis=axes), x.var(axis=axes)
            forward += [equation("mean", "mean over the M values of each channel", mean, "forward"),
                        equation("var", "var = mean((x - mean)^2) (biased)", var, "forward")]
        else:
            forward += [recorded("mean", f"mean over the {m} values of each channel, {where}", mean, "forward",
                                 expected=x.mean(axis=axes)),
                        recorded("var", f"var = mean((x - mean)^2) (biased), {where}", var, "forward",
                                 expected=x.var(axis=axes))]
        label = "xhat = (x - mean) / sqrt(var + eps)"
    else:
        mean, var = cache.mean, cache.var
        label = "xhat = (x - moving_mean) / sqrt(moving_variance + eps)"
    s = np.sqrt(var + eps)
    xhat = (x - mean) / s
    forward.append(equation("xhat", label + ", from the recorded statistics", xhat, "forward"))
    forward.append(recorded("y", "y = gamma * xhat + beta", record.y, "forward", expected=gamma * xhat + beta))
    backward.append(recorded("dy", "dy = dL/dy (from the next layer)", dy, "backward"))
    if dy is None:
        return forward, backward
    if layer.gamma is not None:
        backward.append(recorded("dgamma", "dgamma = sum(dy * xhat)", record.grads[layer.gamma.name], "backward",
                                 expected=(dy * xhat).sum(axis=axes)))
    if layer.beta is not None:
        backward.append(recorded("dbeta", "dbeta = sum(dy)", record.grads[layer.beta.name], "backward",
                                 expected=dy.sum(axis=axes)))
    dxhat = dy * gamma
    noise = 1e-9 * np.linalg.norm(dxhat) / s.min()
    backward.append(equation("dxhat", "dxhat = dy * gamma", dxhat, "backward"))
    if training:
        d = x - mean
        dvar = (dxhat * d).sum(axis=axes) * -0.5 * s ** -3
        dmean = -(dxhat / s).sum(axis=axes) + dvar * (-2 * d).sum(axis=axes) / m
        backward += [equation("dvar", "dvar = sum(dxhat * (x - mean)) * -1/2 (var + eps)^-3/2", dvar, "backward"),
                     equation("dmean", "dmean = -sum(dxhat) / sqrt(var + eps) + dvar * sum(-2 (x - mean)) / M",
                              dmean, "backward")]
        expected, label = dxhat / s + dvar * 2 * d / m + dmean / m, \
            "dx = dxhat / sqrt(var + eps) + dvar * 2 (x - mean) / M + dmean / M"
    else:
        expected, label = dxhat / s, "dx = dxhat / sqrt(moving_variance + eps)  (inference: a fixed affine map)"
    if record.dx is not None:
        backward.append(recorded("dx", label, record.dx, "backward", expected=expected, floor=noise))
    return forward, backward


def max_pool(record, step, walk):
    layer, x, y, dy = record.layer, record.x, record.y, record.dout
    (ph, pw), strides = layer.pool_size, layer.strides
    out_h, out_w = y.shape[1:3]
    choice = max_pool_first_winner(x, y, layer.pool_size, strides, layer.padding)
    pads = pad_widths_2d(x.shape[1], x.shape[2], ph, pw, strides, layer.padding)
    shape = (x.shape[0], x.shape[1] + sum(pads[0]), x.shape[2] + sum(pads[1]), x.shape[3])
    winners, routed = np.zeros(shape), np.zeros(shape)
    for di in range(ph):
        for dj in range(pw):
            won = choice == di * pw + dj
            winners[window_slice(di, dj, out_h, out_w, strides)] += won
            if dy is not None:
                routed[window_slice(di, dj, out_h, out_w, strides)] += np.where(won, dy, 0.0)
    winners, routed = crop2d(winners, pads), crop2d(routed, pads)
    record.notes.append(f"{int((winners == 0).sum())} of {winners.size} inputs win no window: their dx is 0.")
    forward = [equation("winners", "winners: 1 where a window's (first) maximum sits", winners, "local"),
               recorded("y", "y = max over each window", y, "forward")]
    backward = [recorded("dy", "dy = dL/dy (from the next layer)", dy, "backward")]
    if record.dx is not None and dy is not None:
        backward.append(recorded("dx", "dx = each window's dy routed to its winner", record.dx, "backward",
                                 expected=routed))
    return forward, backward


def other(record, step, walk):
    """Activation layers, Dropout, Add, and the rest (shown, checked where an equation is known)."""
    layer, x, y, dy, node = record.layer, record.x, record.y, record.dout, step.first
    rules = activation_rules(layer, x) if layer is not None and not isinstance(x, list) else None
    if rules is not None:
        forward, backward = activation_stages(layer, node.cache, x, y, dy, record.dx, zname="x")
        return forward, backward
    forward, backward = [], [recorded("dy", "dy = dL/dy (from the next layer)", dy, "backward")]
    if isinstance(layer, Dropout) and node.cache[0] is not None:
        mask = node.cache[0]
        forward.append(recorded("mask", f"m / (1 - rate), from the layer's cache: kept units scaled by "
                                f"{1 / (1 - layer.rate):.3g}", mask, "local"))
        forward.append(recorded("y", "y = x * m / (1 - rate)", y, "forward", expected=x * mask))
        if record.dx is not None and dy is not None:
            backward.append(recorded("dx", "dx = dy * m / (1 - rate)", record.dx, "backward", expected=dy * mask))
        return forward, backward
    if isinstance(layer, Add):
        forward.append(recorded("y", "y = x1 + x2 + ...", y, "forward", expected=sum(x[1:], x[0])))
        for index, dx in enumerate(record.dx or []):
            if dx is not None and dy is not None:
                backward.append(recorded(f"dx{index + 1}", f"dx{index + 1} = dy (an addition passes dy to each "
                                         "input)", dx, "backward", expected=dy))
        return forward, backward
    forward.append(recorded("y", record.equation, y, "forward"))
    dxs = record.dx if isinstance(record.dx, list) else [record.dx]
    for index, dx in enumerate(dxs):
        if dx is not None:
            key = "dx" if len(dxs) == 1 else f"dx{index + 1}"
            backward.append(recorded(key, f"{key} = dL/d(input) (the layer's backward; no equation here)", dx,
                                     "backward"))
    return forward, backward


def stages(record, step, walk):
    layer = record.layer
    if isinstance(layer, (Dense, Conv2D)):
        return dense_or_conv(record, step, walk)
    if isinstance(layer, BatchNormalization):
        return batch_norm(record, step, walk)
    if isinstance(layer, MaxPooling2D):
        return max_pool(record, step, walk)
    return other(record, step, walk)
