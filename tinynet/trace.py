"""``tinynet.trace(model, x, y)``: one forward and one backward pass, printed layer by layer.

    trace = tinynet.trace(model, x[:2], y[:2])

prints a walk through the network. Forward, for each layer: the shapes in and out,
the equation it computes, and statistics of its output (mean, std, and after a ReLU
the fraction of zeros). Then the loss and the gradient that starts backprop: with a
final softmax fused to cross-entropy that is ``dL/dz = (p - y) / N``. Backward, from
the last layer to the first: the shape and norm of the gradient arriving at each
layer's output, of the one it passes to its input, and of each weight's gradient.

It returns a ``Trace`` holding every array (inputs, outputs, gradients), so a
notebook can plot them. The pass runs on a float64 copy of the layers, in training
mode by default (Dropout drops, BatchNormalization uses the batch's statistics) and
with the library's random state restored afterwards: the model's weights, its
moving statistics, its optimizer and the random state are left exactly as they were.
"""
import copy
from dataclasses import dataclass, field

import numpy as np

from .layers.activations import ReLU, Softmax
from .utils import rng


@dataclass
class LayerTrace:
    """What one layer did in the traced step. Arrays are float64, batch axis first."""

    name: str
    kind: str                       # the class name: 'Dense', 'ReLU', ...
    equation: str
    x: np.ndarray                   # the layer's input
    y: np.ndarray                   # its output
    after_relu: bool = False        # its output went through a ReLU
    dout: np.ndarray = None         # dL/d(output) arriving in backward (dL/dz for a fused output layer)
    dx: np.ndarray = None           # dL/d(input) it passed back
    grads: dict = field(default_factory=dict)   # '<layer>/<weight>' -> dL/dW

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

    ``dloss`` is what the loss handed to the last layer's backward: dL/dy_pred, or dL/dz
    of the logits when the output activation is fused with the loss (then ``p_minus_y``
    is ``p - y`` and ``dloss`` is ``p_minus_y`` divided by N, or by N*K for sigmoid outputs).
    """

    layers: list
    loss: float
    loss_name: str
    y_true: np.ndarray              # the targets, one-hot if they were integer labels
    y_pred: np.ndarray
    dloss: np.ndarray
    fused: bool
    p_minus_y: np.ndarray = None
    lines: list = field(default_factory=list, repr=False)

    def __str__(self):
        return "\n".join(self.lines)


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


def _values(array, max_values):
    if array.size > max_values:
        return []
    text = np.array2string(array, precision=4, suppress_small=True, max_line_width=100)
    return ["      " + line for line in text.splitlines()]


def _describe(array):
    return f"{str(array.shape):<14} norm {np.linalg.norm(array):.4g}"


def trace(model, x, y, training=True, verbose=True, print_fn=print, max_values=24):
    """Run one forward and backward pass of a compiled ``model`` on ``(x, y)`` and print it.

    x, y: a small batch, e.g. 2 samples (the printout is one block per layer). Arrays with
    at most ``max_values`` entries are printed in full. No weight, moving statistic,
    optimizer state or random state of the model is changed. Returns a ``Trace``.
    """
    if model.loss is None:
        raise RuntimeError(f"trace needs a compiled model: call model.compile(optimizer=..., loss=...) first.")
    model = copy.deepcopy(model)                # our own copy: the model stays untouched
    x = np.array(x, dtype=np.float64)
    if not model.built:
        model.build((None,) + x.shape[1:])
    for parameter in model.weights:
        parameter.data = parameter.data.astype(np.float64)
        parameter.grad = np.zeros_like(parameter.data)
    fused = model.output_activation() if model.loss_takes_logits else None
    y = np.asarray(y)
    y = y.reshape(-1).astype(np.int64) if model.loss.name == "sparse_categorical_crossentropy" else y.astype(np.float64)
    random_state = rng().bit_generator.state    # Dropout draws from it; put it back afterwards
    lines = []
    records = []

    def on_forward(layer, x_in, out):
        record = LayerTrace(layer.name, type(layer).__name__, _equation(layer), x_in, out, _has_relu(layer))
        records.append(record)
        lines.append(f"  [{len(records)}] {layer.name} ({record.kind})   {x_in.shape} -> {out.shape}")
        lines.append(f"      {record.equation}")
        stats = f"      output: mean {record.mean:.4g}, std {record.std:.4g}"
        if record.after_relu:
            stats += f", zeros after ReLU {100 * record.zero_fraction:.1f}%"
        lines.append(stats)
        lines.extend(_values(out, max_values))

    def on_backward(layer, dout, dx):
        index = model.layers.index(layer) + 1
        record = records[index - 1]
        record.dout, record.dx = dout, dx
        record.grads = {p.name: p.grad.copy() for p in layer.trainable_weights}
        arriving = "dL/dz (fused)" if fused is not None and index == len(records) else "dL/dy"
        lines.append(f"  [{index}] {layer.name} ({record.kind})")
        lines.append(f"      {arriving:<13} {_describe(record.dout)}")
        for name, grad in record.grads.items():
            lines.append(f"      dL/d{name.split('/')[-1]:<9} {_describe(grad)}")
            lines.extend(_values(grad, max_values))
        lines.append(f"      {'dL/dx':<13} {_describe(record.dx)}")
        lines.extend(_values(record.dx, max_values))

    try:
        lines.append(f"forward  (x: {x.shape}, training={training})")
        z = model.forward(x, training=training, logits=True, on_layer=on_forward)
        out = fused.forward(z) if fused is not None else z
        loss = model.compute_loss(y, z)
        dloss = model.loss.backward()
        y_true = y
        if model.loss.name == "sparse_categorical_crossentropy":
            y_true = np.eye(out.shape[-1])[y]
        lines.append("loss")
        p_minus_y = None
        if fused is not None:
            p_minus_y = out - y_true.reshape(out.shape)
            scale = out.shape[0] if isinstance(fused, Softmax) else out.size
            lines.append(f"  {model.loss.name} on the logits z (fused with the final "
                         f"{type(fused).__name__.lower()}) = {loss:.6g}")
            lines.append(f"  p - y: {_describe(p_minus_y)}")
            lines += _values(p_minus_y, max_values)
            lines.append(f"  dL/dz = (p - y) / {scale}: {_describe(dloss)}")
        else:
            lines.append(f"  {model.loss.name} = {loss:.6g}")
            lines.append(f"  dL/dy_pred: {_describe(dloss)}")
            lines += _values(dloss, max_values)

        lines.append("backward")
        model.backward(dloss, input_gradient=True, on_layer=on_backward)
        lines.append(f"loss {loss:.6g}" + (" ; backprop started from dL/dz = (p - y) / N" if fused is not None
                                           else ""))
    finally:
        rng().bit_generator.state = random_state
    result = Trace(layers=records, loss=loss, loss_name=model.loss.name, y_true=y_true, y_pred=out,
                   dloss=dloss, fused=fused is not None, p_minus_y=p_minus_y, lines=lines)
    if verbose:
        for line in lines:
            print_fn(line)
    return result
