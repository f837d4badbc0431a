"""Numerical gradient checking: compare backprop's gradients with centred differences.

For a scalar function f of an array x, each partial derivative is estimated as

    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

whose error is O(eps^2). Everything runs in float64: in float32 the rounding
error of f (~1e-7 relative) divided by 2 eps would swamp the estimate.

The agreement is measured as the relative error of the whole gradient,
``||a - n|| / (||a|| + ||n||)``; correct backprop gives about 1e-10 here,
a wrong one gives something near 1. Tests require < 1e-6.

Kinks. ReLU at 0 and ties in max-pooling are points where f is not
differentiable: the slopes on the two sides differ, and a centred difference
that straddles such a point measures their average, not what backprop returns.
``check_layer`` and ``check_model`` find these entries and leave them out:
while computing each difference they record which side of every kink the
network is on -- for each ReLU which units are positive, for each max-pooling
window which input is its (first) maximum -- at ``x + eps`` and at ``x - eps``.
If the two records differ, the step crossed a kink, and that entry is skipped
(and counted in the table). Away from kinks the records agree and the entry is
checked as usual.

    from tinynet import gradcheck
    errors = gradcheck.check_model(model, x, y)     # prints a table, returns a dict
    errors['input'], errors['dense/kernel']         # relative errors
    errors.rows                                     # one GradCheckRow per array checked
"""
import copy
from dataclasses import dataclass

import numpy as np

from .layers.activations import ReLU
from .layers.pooling import MaxPooling2D
from .utils import set_random_seed

TOLERANCE = 1e-6


def numerical_gradient(f, x, eps=1e-6):
    """Centred-difference gradient of the scalar ``f()`` with respect to array ``x``.

    ``x`` is perturbed in place, one entry at a time, and restored; ``f`` must read it.
    """
    grad, _ = numerical_gradient_skipping_kinks(f, x, eps)
    return grad


def numerical_gradient_skipping_kinks(f, x, eps=1e-6, kink_state=None):
    """Centred differences of ``f()`` w.r.t. ``x``, and a mask of the entries whose step crossed a kink.

    ``kink_state()`` returns a list of arrays describing which side of each kink the last
    ``f()`` was on; an entry whose state at ``x + eps`` and ``x - eps`` differ is marked in
    ``skipped`` (its estimate is still returned). Without ``kink_state`` nothing is skipped.
    Returns ``(grad, skipped)``, both of ``x``'s shape.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    skipped = np.zeros(x.shape, dtype=bool)
    flat_x, flat_grad, flat_skipped = x.reshape(-1), grad.reshape(-1), skipped.reshape(-1)
    assert np.shares_memory(flat_x, x), "x must be contiguous so it can be perturbed in place"
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + eps
        f_plus = f()
        state_plus = kink_state() if kink_state else None
        flat_x[i] = original - eps
        f_minus = f()
        state_minus = kink_state() if kink_state else None
        flat_x[i] = original
        flat_grad[i] = (f_plus - f_minus) / (2 * eps)
        if kink_state:
            flat_skipped[i] = not all(np.array_equal(a, b) for a, b in zip(state_plus, state_minus))
    return grad, skipped


# NOTE: a gradient that is truly 0 (the bias of a layer followed by BatchNormalization,
# which subtracts any constant shift) is estimated by centred differences as rounding
# noise, ~1e-16 |f| / eps ~ 1e-10 per entry. Noise against noise would read as a 100 %
# "error", so two gradients both below this floor (per sqrt(entry)) count as agreeing.
ZERO_GRADIENT_FLOOR = 1e-8


def relative_error(analytic, numeric):
    """``||a - n|| / (||a|| + ||n||)``; 0 when both are zero within rounding noise."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    floor = ZERO_GRADIENT_FLOOR * np.sqrt(max(a.size, 1))
    if np.linalg.norm(a) <= floor and np.linalg.norm(n) <= floor:
        return 0.0
    return float(np.linalg.norm(a - n) / (np.linalg.norm(a) + np.linalg.norm(n)))


def max_entry_error(analytic, numeric):
    """The worst single entry: ``max_i |a_i - n_i| / (|a_i| + |n_i|)``.

    NOTE: entries tiny next to the rest of the gradient would make this ratio pure
    rounding noise (1e-11 vs 2e-11 is a 33% "error"), so the denominator is at least
    1e-6 times the largest |a_i| + |n_i|.
    """
    a = np.asarray(analytic, dtype=np.float64).ravel()
    n = np.asarray(numeric, dtype=np.float64).ravel()
    if a.size == 0:
        return 0.0
    scale = np.abs(a) + np.abs(n)
    floor = 1e-6 * scale.max()
    if floor == 0:
        return 0.0
    return float((np.abs(a - n) / np.maximum(scale, floor)).max())


@dataclass
class GradCheckRow:
    """One checked array: ``name`` is ``'input'`` or a parameter's ``'<layer>/<weight>'``."""

    name: str
    layer: str
    parameter: str
    shape: tuple
    error: float          # relative_error over the entries checked
    max_error: float      # max_entry_error over the entries checked
    checked: int          # entries compared
    skipped: int          # entries left out because their step crossed a kink
    passed: bool


class GradCheckResult(dict):
    """``{name: relative error}`` as before, plus ``rows`` (GradCheckRow) and ``table()``."""

    def __init__(self, rows, tolerance):
        super().__init__((row.name, row.error) for row in rows)
        self.rows = rows
        self.tolerance = tolerance

    @property
    def passed(self):
        return all(row.passed for row in self.rows)

    def table(self):
        """The per-array table as one string: layer, parameter, shape, errors, pass/fail."""
        header = ("layer", "parameter", "shape", "rel. error", "max entry err.", "checked", "result")
        lines = [header]
        for row in self.rows:
            result = "pass" if row.passed else "FAIL"
            if row.checked == 0:
                result = f"not checked (all {row.skipped} entries at a kink)"
            elif row.skipped:
                result += f" ({row.skipped} skipped at a kink)"
            lines.append((row.layer, row.parameter, str(row.shape), f"{row.error:.2e}", f"{row.max_error:.2e}",
                          f"{row.checked}/{row.checked + row.skipped}", result))
        widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
        text = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)) + "  " + line[-1] for line in lines]
        text.insert(1, "-" * len(text[0]))
        skipped = sum(row.skipped for row in self.rows)
        verdict = "all gradients agree" if self.passed else "SOME GRADIENTS DISAGREE"
        text.append(f"{verdict} (tolerance {self.tolerance:g} on the relative error"
                    + (f"; {skipped} entries within eps of a ReLU or max-pool kink were skipped)" if skipped
                       else ")"))
        return "\n".join(text)


def _row(name, layer, parameter, analytic, numeric, skipped, tolerance):
    keep = ~skipped
    error = relative_error(analytic[keep], numeric[keep])
    return GradCheckRow(name=name, layer=layer, parameter=parameter, shape=tuple(analytic.shape), error=error,
                        max_error=max_entry_error(analytic[keep], numeric[keep]), checked=int(keep.sum()),
                        skipped=int(skipped.sum()), passed=bool(error < tolerance))


def _as_float64(layers):
    for layer in layers:
        for parameter in layer.weights:
            parameter.data = parameter.data.astype(np.float64)
            parameter.grad = np.zeros_like(parameter.data)


def _kinks(layers):
    """The ReLUs and max-poolings among ``layers`` (an activation inside a layer included)."""
    found = []
    for layer in layers:
        for part in (layer, getattr(layer, "activation", None)):
            if isinstance(part, (ReLU, MaxPooling2D)):
                found.append(part)
    return found


def _kink_state(kinks):
    """Which side of every kink the last forward pass was on, as a list of arrays.

    ReLU: which units are positive. Max-pooling: for every window, the offset of its
    first maximum (the one backward routes the gradient to).
    """
    state = []
    for kink in kinks:
        state.append(kink.mask() if isinstance(kink, ReLU) else kink.argmax())
    return state


def _report(result, verbose, print_fn):
    if verbose:
        print_fn(result.table())
    return result


def check_layer(layer, x, training=False, seed=None, eps=1e-6, verbose=True, print_fn=print,
                tolerance=TOLERANCE):
    """Check a layer's ``backward`` against centred differences.

    ``f(x, weights) = sum(forward(x) * dout)`` with a fixed random ``dout``, so
    backward(dout) must return df/dx and put df/dW in each ``Parameter.grad``.
    ``seed`` re-seeds before every forward pass, which fixes random layers (a
    Dropout mask). Works on a float64 copy; the layer itself is not changed.
    Entries whose difference step crosses a ReLU or max-pool kink are skipped
    (see the module docstring). With ``verbose`` the table goes to ``print_fn``.

    Returns a ``GradCheckResult``: ``{'input': error, '<weight name>': error, ...}``
    with ``.rows`` and ``.table()``.
    """
    layer = copy.deepcopy(layer)
    layer.needs_input_gradient = True  # a model may have switched dx off for its first layer
    x = np.array(x, dtype=np.float64)
    if not layer.built:
        layer.build(tuple(x.shape[1:]))
    _as_float64([layer])
    kinks = _kinks([layer])

    def forward():
        if seed is not None:
            set_random_seed(seed)
        return layer.forward(x, training=training)

    dout = np.random.default_rng(1234).standard_normal(forward().shape)

    def f():
        return float((forward() * dout).sum())

    def state():
        return _kink_state(kinks)

    forward()
    dx = layer.backward(dout)
    numeric, skipped = numerical_gradient_skipping_kinks(f, x, eps, state)
    rows = [_row("input", layer.name, "input", dx, numeric, skipped, tolerance)]
    for parameter in layer.weights:
        if parameter.trainable:
            analytic = parameter.grad.copy()
            numeric, skipped = numerical_gradient_skipping_kinks(f, parameter.data, eps, state)
            rows.append(_row(parameter.name, layer.name, parameter.name.split("/")[-1], analytic, numeric,
                             skipped, tolerance))
    return _report(GradCheckResult(rows, tolerance), verbose, print_fn)


def check_model(model, x, y, seed=None, eps=1e-6, verbose=True, print_fn=print, tolerance=TOLERANCE):
    """Check every trainable weight's and the input's gradient of a compiled model's loss.

    Runs on a float64 copy of the model in training mode, through the model's public
    step (``forward`` to the logits where the loss takes them, ``compute_loss``,
    ``compute_gradients``): the same loss ``fit`` uses. Entries whose
    difference step crosses a ReLU or max-pool kink are skipped and counted.
    With ``verbose`` the per-layer table goes to ``print_fn``.

    Returns a ``GradCheckResult``: ``{'input': error, '<layer>/<weight>': error, ...}``
    with ``.rows`` and ``.table()``.
    """
    model = copy.deepcopy(model)
    x = np.array(x, dtype=np.float64)
    if not model.built:
        model.build((None,) + x.shape[1:])
    _as_float64(model.layers)
    y = np.asarray(y)
    if model.loss.name != "sparse_categorical_crossentropy":
        y = y.astype(np.float64)
    kinks = _kinks(model.layers)

    def f():
        if seed is not None:
            set_random_seed(seed)
        return model.compute_loss(y, model.forward(x, training=True, logits=True))

    def state():
        return _kink_state(kinks)

    if seed is not None:
        set_random_seed(seed)
    _, dx = model.compute_gradients(x, y, training=True, input_gradient=True)
    numeric, skipped = numerical_gradient_skipping_kinks(f, x, eps, state)
    first = model.layers[0].name
    rows = [_row("input", f"(input of {first})", "input", dx, numeric, skipped, tolerance)]
    for layer in model.layers:
        for parameter in layer.trainable_weights:
            analytic = parameter.grad.copy()
            numeric, skipped = numerical_gradient_skipping_kinks(f, parameter.data, eps, state)
            rows.append(_row(parameter.name, layer.name, parameter.name.split("/")[-1], analytic, numeric,
                             skipped, tolerance))
    return _report(GradCheckResult(rows, tolerance), verbose, print_fn)
