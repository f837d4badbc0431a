"""Numerical gradient checking: compare backprop's gradients with centred differences.

For a scalar function f of an array x, each partial derivative is estimated as

    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

whose error is O(eps^2). Everything runs in float64: in float32 the rounding
error of f (~1e-7 relative) divided by 2 eps would swamp the estimate, so
``numerical_gradient`` refuses float32 arrays and ``check_layer`` / ``check_model``
work on a float64 copy.

The agreement of one array is the relative error ``||a - n|| / (||a|| + ||n||)``
(a: backprop, n: centred differences); correct backprop gives about 1e-10 here,
a wrong one something near 1. A row passes below ``tolerance`` (1e-6).

What a check cannot see, it says, and never counts as a pass:

- Rounding noise. f itself is only known to about ``|f| * machine eps``, so each
  difference carries noise of about ``|f| * machine eps / eps`` (``noise_floor``).
  An entry whose two gradients are both below it was not compared with anything
  but noise. A row whose compared entries are all such entries is *not informative*:
  the loss is saturated (confident, correct predictions give dL/dz ~ 1e-20), or
  the gradient is exactly zero (a bias right before BatchNormalization).
- Kinks. ReLU at 0 and ties in max-pooling are points where f is not
  differentiable: the slopes on the two sides differ, and a centred difference that
  straddles such a point measures their average, not what backprop returns. While
  computing each difference the checker records which side of every kink the network
  is on -- for each ReLU which units are positive, for each max-pooling window which
  input is its (first) maximum -- at ``x + eps`` and at ``x - eps``. If the two records
  differ, the step crossed a kink and that entry is skipped (and counted in the table).
  A row whose entries were all skipped is not informative either.
- Randomness. f is evaluated twice at the same point first; if the two values differ
  the model is random (Dropout) and the check stops with a message: pass ``seed=``.

``result.passed`` is True only if no row failed and at least one row was informative.

    from tinynet import gradcheck
    result = gradcheck.check_model(model, x, y)      # prints a table, returns a dict
    result['input'], result['dense/kernel']          # relative errors (nan: not informative)
    result.rows, result.passed                       # one GradCheckRow per array checked
    gradcheck.check_model(big_model, x, y, max_entries=50)   # a random sample of each array
"""
import copy
from dataclasses import dataclass

import numpy as np

from ..core import validation
from ..core.checks import check_float, check_int
from ..core.layers.activations import ReLU
from ..core.layers.normalization import BatchNormalization
from ..core.layers.pooling import MaxPooling2D
from ..core.utils import set_random_seed

TOLERANCE = 1e-6
MACHINE_EPS = np.finfo(np.float64).eps

# NOTE: rounding noise of a computed f is a few machine eps of the largest quantity summed
# into it. That is |f| for most f, but a loss near 0 is still computed from O(1) terms
# (log(1 + tiny) rounds to exactly 0), so the scale is at least 1. The factor covers the
# few roundings per term; the noise of an estimated derivative is this over eps.
NOISE_FACTOR = 10.0


def noise_floor(f_value, eps):
    """Rounding noise of one centred difference of f near ``f_value``: ~ 10 |f| machine-eps / eps."""
    return NOISE_FACTOR * MACHINE_EPS * max(abs(float(f_value)), 1.0) / eps


def numerical_gradient(f, x, eps=1e-6, indices=None):
    """Centred-difference gradient of the scalar ``f()`` with respect to the float64 array ``x``.

    ``x`` is perturbed in place, one entry at a time, and restored; ``f`` must read it.
    ``indices`` (flat positions) limits the estimate to those entries; the others are 0.
    """
    grad, _ = _differences(f, x, eps, indices)
    return grad


def _check_perturbable(x):
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        dtype = getattr(x, "dtype", type(x).__name__)
        raise TypeError(
            f"numerical_gradient needs a float64 array that f reads, perturbed in place. Received an array of "
            f"dtype {dtype}. In float32 a step of eps=1e-6 is lost to rounding (the estimate for the gradient "
            "[2, 4, 6] of sum(x**2) comes out as [1.907, 3.815, 5.722]). Convert first: x = x.astype(np.float64), "
            "and let f read that array.")
    if not x.flags.c_contiguous:
        raise ValueError("numerical_gradient perturbs x in place: pass a C-contiguous array "
                         "(np.ascontiguousarray(x)) that f reads.")


def _differences(f, x, eps, indices=None, kink_state=None):
    """Centred differences of ``f()`` w.r.t. ``x`` at ``indices``, and which of them crossed a kink.

    ``kink_state()`` returns a list of arrays describing which side of each kink the last
    ``f()`` was on; an entry whose states at ``x + eps`` and ``x - eps`` differ is marked in
    ``skipped`` (its estimate is still returned). Returns ``(grad, skipped)`` of x's shape.
    """
    _check_perturbable(x)
    grad = np.zeros_like(x)
    skipped = np.zeros(x.shape, dtype=bool)
    flat_x, flat_grad, flat_skipped = x.reshape(-1), grad.reshape(-1), skipped.reshape(-1)
    for i in range(flat_x.size) if indices is None else indices:
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


def relative_error(analytic, numeric, floor=0.0):
    """``||a - n|| / (||a|| + ||n||)``; 0 when both are zero (or below ``floor`` per entry)."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    norm_floor = floor * np.sqrt(max(a.size, 1))
    if np.linalg.norm(a) <= norm_floor and np.linalg.norm(n) <= norm_floor:
        return 0.0
    return float(np.linalg.norm(a - n) / (np.linalg.norm(a) + np.linalg.norm(n)))


def max_entry_error(analytic, numeric, floor=0.0):
    """The worst single entry: ``max_i |a_i - n_i| / (|a_i| + |n_i|)``.

    NOTE: entries tiny next to the rest of the gradient would make this ratio pure
    rounding noise (1e-11 vs 2e-11 is a 33% "error"), so the denominator is at least
    1e-6 times the largest |a_i| + |n_i|, and at least ``floor`` (the noise of one difference).
    """
    a = np.asarray(analytic, dtype=np.float64).ravel()
    n = np.asarray(numeric, dtype=np.float64).ravel()
    if a.size == 0:
        return 0.0
    scale = np.abs(a) + np.abs(n)
    least = max(1e-6 * scale.max(), floor)
    if least == 0:
        return 0.0
    return float((np.abs(a - n) / np.maximum(scale, least)).max())


@dataclass
class GradCheckRow:
    """One checked array: ``name`` is ``'input'`` or a parameter's ``'<layer>/<weight>'``.

    ``status`` is ``'pass'``, ``'FAIL'`` or ``'not informative'`` (then ``reason`` says why,
    ``error`` is nan and the row is not a pass).
    """

    name: str
    layer: str
    parameter: str
    shape: tuple
    error: float          # relative_error over the entries compared (nan when not informative)
    max_error: float      # max_entry_error over the entries compared
    checked: int          # entries compared
    skipped: int          # entries left out because their step crossed a kink
    status: str
    reason: str = ""
    size: int = 0         # entries in the array (checked + skipped < size when sampled)

    @property
    def passed(self):
        return self.status == "pass"


class GradCheckResult(dict):
    """``{name: relative error}`` (nan for a row that is not informative), ``rows`` and ``table()``."""

    def __init__(self, rows, tolerance):
        super().__init__((row.name, row.error) for row in rows)
        self.rows = rows
        self.tolerance = tolerance

    @property
    def passed(self):
        """No row failed, and at least one row compared something informative."""
        return (not any(row.status == "FAIL" for row in self.rows)
                and any(row.status == "pass" for row in self.rows))

    def table(self):
        """The per-array table as one string: layer, parameter, shape, errors, entries checked, result."""
        header = ("layer", "parameter", "shape", "rel. error", "max entry err.", "checked", "result")
        lines = [header]
        for row in self.rows:
            result = row.status + (f": {row.reason}" if row.reason else "")
            if row.skipped and row.checked:
                result += f" ({row.skipped} skipped at a kink)"
            counted = f"{row.checked}/{row.checked + row.skipped}"
            if row.size > row.checked + row.skipped:
                counted += f" (sample of {row.size})"
            lines.append((row.layer, row.parameter, str(row.shape), f"{row.error:.2e}", f"{row.max_error:.2e}",
                          counted, result))
        widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
        text = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)) + "  " + line[-1] for line in lines]
        text.insert(1, "-" * len(text[0]))
        skipped = sum(row.skipped for row in self.rows)
        vacuous = sum(row.status == "not informative" for row in self.rows)
        if any(row.status == "FAIL" for row in self.rows):
            verdict = "SOME GRADIENTS DISAGREE"
        elif not self.passed:
            verdict = "NOTHING INFORMATIVE WAS COMPARED: this is not a pass (see each row's reason)"
        elif vacuous:
            verdict = f"all informative gradients agree ({vacuous} not informative: see each row's reason)"
        else:
            verdict = "all gradients agree"
        notes = [f"tolerance {self.tolerance:g} on the relative error"]
        if skipped:
            notes.append(f"{skipped} entries within eps of a ReLU or max-pool kink were skipped")
        text.append(f"{verdict} ({'; '.join(notes)})")
        return "\n".join(text)


def _row(name, layer, parameter, analytic, numeric, skipped, sampled, tolerance, floor, zero_reason):
    """Compare one array on the ``sampled`` entries (boolean mask) not ``skipped``."""
    keep = sampled & ~skipped
    a, n = analytic[keep], numeric[keep]
    checked, n_skipped = int(keep.sum()), int((sampled & skipped).sum())
    common = dict(name=name, layer=layer, parameter=parameter, shape=tuple(analytic.shape), checked=checked,
                  skipped=n_skipped, size=int(analytic.size))
    if checked == 0:
        return GradCheckRow(error=float("nan"), max_error=float("nan"), status="not informative",
                            reason=f"all {n_skipped} entries at a kink", **common)
    if np.abs(a).max() <= floor and np.abs(n).max() <= floor:
        if n_skipped:
            zero_reason = (f"the {checked} entries compared are all (near) zero and the other {n_skipped} were "
                           "skipped at a kink: nothing that carries gradient was compared")
        return GradCheckRow(error=float("nan"), max_error=float("nan"), status="not informative",
                            reason=zero_reason, **common)
    error, max_error = relative_error(a, n), max_entry_error(a, n, floor)
    # A difference no bigger than the rounding noise cannot be resolved further: that is agreement.
    within_noise = np.linalg.norm(a - n) <= floor * np.sqrt(checked)
    return GradCheckRow(error=error, max_error=max_error, status="pass" if error < tolerance or within_noise
                        else "FAIL", **common)


def as_float64(layers):
    for layer in layers:
        for parameter in layer.weights:
            parameter.data = np.ascontiguousarray(parameter.data, dtype=np.float64)
            parameter.grad = np.zeros_like(parameter.data)


def _has_relu(layer):
    return isinstance(layer, ReLU) or isinstance(getattr(layer, "activation", None), ReLU)


def max_pool_first_winner(x, y, pool_size, strides, padding):
    """For each max-pooling window, the offset ``di * pw + dj`` of its first maximum (y's shape).

    ``x: (N, H, W, C)`` the layer's input, ``y: (N, out_h, out_w, C)`` its output.
    Backward routes each window's gradient to this input.
    """
    (ph, pw), (sh, sw) = pool_size, strides
    out_h, out_w = y.shape[1:3]
    if padding == "same":   # Keras pads the bottom / right first; padded cells never win
        pad_h = max((out_h - 1) * sh + ph - x.shape[1], 0)
        pad_w = max((out_w - 1) * sw + pw - x.shape[2], 0)
        x = np.pad(x, ((0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)),
                   constant_values=-np.inf)
    choice = np.full(y.shape, -1)
    for di in range(ph):
        for dj in range(pw):
            window_cell = x[:, di:di + sh * (out_h - 1) + 1:sh, dj:dj + sw * (out_w - 1) + 1:sw, :]
            choice[(choice < 0) & (window_cell == y)] = di * pw + dj
    return choice


def _kink_record(layer, x_in, y_out):
    """Which side of its kinks ``layer`` was on: ReLU units positive, max-pool winners; else None."""
    if isinstance(layer, ReLU):
        return x_in > 0
    if _has_relu(layer):
        return y_out > 0
    if isinstance(layer, MaxPooling2D):
        return max_pool_first_winner(x_in, y_out, layer.pool_size, layer.strides, layer.padding)
    return None


def _sample(size, max_entries, rng):
    """A boolean mask over ``size`` entries: all of them, or ``max_entries`` drawn at random."""
    mask = np.zeros(size, dtype=bool)
    if max_entries is None or max_entries >= size:
        mask[:] = True
    else:
        mask[rng.choice(size, max_entries, replace=False)] = True
    return mask


def _check_settings(eps, tolerance, max_entries):
    check_float(eps, "eps", minimum=0, maximum=1, min_open=True, max_open=True)
    check_float(tolerance, "tolerance", minimum=0, min_open=True)
    if max_entries is not None:
        check_int(max_entries, "max_entries", minimum=1)


def _check_deterministic(f, who, random_layers):
    first, second = f(), f()
    if first != second and not (np.isnan(first) and np.isnan(second)):
        names = ", ".join(f"'{layer.name}' ({type(layer).__name__})" for layer in random_layers) or "a layer"
        raise ValueError(
            f"{who}: the model is random: {names} draws new random numbers at every forward pass "
            f"(f gave {first!r}, then {second!r} at the same point, so no difference quotient means anything). "
            f"Pass seed= (e.g. {who}(..., seed=0)) to re-seed before each pass, or remove Dropout.")
    return first


def _random_layers(layers):
    return [layer for layer in layers if "Dropout" in type(layer).__name__ or "Noise" in type(layer).__name__]


def _report(result, verbose, print_fn):
    if verbose:
        print_fn(result.table())
    return result


def check_layer(layer, x, training=True, seed=None, eps=1e-6, verbose=True, print_fn=print,
                tolerance=TOLERANCE, max_entries=None, sample_seed=0):
    """Check a layer's ``backward`` against centred differences, in training mode by default.

    ``training=True`` checks the backward the docs derive: BatchNormalization with the
    batch's statistics, Dropout with its mask (pass ``seed=``, which re-seeds before every
    forward pass). ``f(x, weights) = sum(forward(x) * dout)`` with a fixed random ``dout``,
    so backward(dout) must return df/dx and put df/dW in each ``Parameter.grad``.
    Works on a float64 copy; the layer itself is not changed. Entries whose difference
    step crosses a ReLU or max-pool kink are skipped; ``max_entries`` checks a random
    sample (drawn with ``sample_seed``) of that many entries of each array. With
    ``verbose`` the table goes to ``print_fn``.

    Returns a ``GradCheckResult``: ``{'input': error, '<weight name>': error, ...}``
    with ``.rows``, ``.passed`` and ``.table()``.
    """
    _check_settings(eps, tolerance, max_entries)
    layer = copy.deepcopy(layer)
    layer.needs_input_gradient = True  # a model may have switched dx off for its first layer
    x = validation.as_float_array(x, "x", dtype=np.float64).copy()
    if not layer.built:
        layer.build(tuple(x.shape[1:]))
    as_float64([layer])
    kinks = []

    def forward():
        if seed is not None:
            set_random_seed(seed)
        y = layer.forward(x, training=training)
        state = _kink_record(layer, x, y)
        kinks[:] = [] if state is None else [state]
        return y

    dout = np.random.default_rng(1234).standard_normal(forward().shape)

    def f():
        return float((forward() * dout).sum())

    f0 = _check_deterministic(f, "check_layer", _random_layers([layer]))
    floor = noise_floor(f0, eps)
    forward()
    dx = layer.backward(dout)
    rng = np.random.default_rng(sample_seed)
    zero = "every compared entry is below the rounding noise of f"

    def compare(name, parameter_name, analytic, array):
        sampled = _sample(array.size, max_entries, rng)
        numeric, skipped = _differences(f, array, eps, np.flatnonzero(sampled), lambda: list(kinks))
        return _row(name, layer.name, parameter_name, analytic, numeric, skipped, sampled.reshape(array.shape),
                    tolerance, floor, zero)

    rows = [compare("input", "input", dx, x)]
    for parameter in layer.weights:
        if parameter.trainable:
            rows.append(compare(parameter.name, parameter.name.split("/")[-1], parameter.grad.copy(),
                                parameter.data))
    return _report(GradCheckResult(rows, tolerance), verbose, print_fn)


def prepare_data(model, x, y, caller):
    """``(x float64, y)`` checked as ``fit`` checks them, for a compiled ``model``; builds the model."""
    if getattr(model, "loss", None) is None:
        raise RuntimeError(
            f"You must compile model '{model.name}' before calling {caller}: "
            "model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy']).")
    x = validation.as_float_array(x, "x", dtype=np.float64).copy()
    validation.check_values(x, "x", warn_unscaled=False)
    if not model.built:
        model.build((None,) + tuple(x.shape[1:]))
    validation.check_input_shape(model, x)
    y = validation.as_targets(y, model.loss, model.output_shape[1:], "y", output_layer=model.layers[-1])
    validation.check_same_length(x, y)
    if y.dtype.kind == "f":
        y = y.astype(np.float64)
    return x, y


def loss_gradient(model):
    """dL/d(what the last forward returned): the loss object's backward after ``compute_loss``."""
    return model.loss.backward()


def _zero_reason(model, layer_index, parameter, dloss, floor):
    """Why an array's gradient can be exactly (or within noise) zero."""
    if np.abs(dloss).max() <= floor:
        return (f"the loss is saturated (every dL/d(output) <= {np.abs(dloss).max():.1e}, below rounding noise): "
                "confident, correct predictions; check on samples the model gets wrong, or an untrained model")
    nxt = model.layers[layer_index + 1] if layer_index is not None and layer_index + 1 < len(model.layers) else None
    if parameter is not None and parameter.name.endswith("bias") and isinstance(nxt, BatchNormalization):
        return (f"zero, as it must be: the bias sits right before '{nxt.name}' (BatchNormalization), "
                "which subtracts the batch mean and with it any constant shift")
    return f"every compared entry is below the loss's rounding noise ({floor:.1e})"


def check_model(model, x, y, seed=None, eps=1e-6, verbose=True, print_fn=print, tolerance=TOLERANCE,
                max_entries=None, sample_seed=0, training=True):
    """Check every trainable weight's and the input's gradient of a compiled model's loss.

    Runs on a float64 copy of the model, in training mode by default (the backward the
    docs derive: BatchNormalization uses the batch's statistics, Dropout its mask), through
    the model's public step: ``forward(x, training, logits=True)``, ``compute_loss``,
    ``backward`` -- the same loss (on the logits where the output activation is paired with
    it) that ``fit`` uses. ``x`` and ``y`` are checked as ``fit`` checks them. A random
    model (Dropout) needs ``seed=``. Entries whose difference step crosses a ReLU or
    max-pool kink are skipped and counted; ``max_entries`` checks a random sample of that
    many entries of each array (any model in seconds). With ``verbose`` the per-layer
    table goes to ``print_fn``.

    Returns a ``GradCheckResult``: ``{'input': error, '<layer>/<weight>': error, ...}``
    with ``.rows``, ``.passed`` and ``.table()``.
    """
    _check_settings(eps, tolerance, max_entries)
    x, y = prepare_data(model, x, y, "check_model")
    model = copy.deepcopy(model)
    as_float64(model.layers)
    kinks = []

    def record(layer, x_in, y_out):
        state = _kink_record(layer, x_in, y_out)
        if state is not None:
            kinks.append(state)

    def f():
        if seed is not None:
            set_random_seed(seed)
        kinks.clear()
        return model.compute_loss(y, model.forward(x, training=training, logits=True, on_layer=record))

    f0 = _check_deterministic(f, "check_model", _random_layers(model.layers))
    floor = noise_floor(f0, eps)
    f()
    dloss = loss_gradient(model)
    dx = model.backward(dloss, input_gradient=True)
    rng = np.random.default_rng(sample_seed)

    def compare(name, layer_index, parameter, analytic, array):
        sampled = _sample(array.size, max_entries, rng)
        numeric, skipped = _differences(f, array, eps, np.flatnonzero(sampled), lambda: list(kinks))
        layer_name = model.layers[layer_index].name if layer_index is not None else f"(input of {model.layers[0].name})"
        parameter_name = parameter.name.split("/")[-1] if parameter is not None else "input"
        return _row(name, layer_name, parameter_name, analytic, numeric, skipped, sampled.reshape(array.shape),
                    tolerance, floor, _zero_reason(model, layer_index, parameter, dloss, floor))

    rows = [compare("input", None, None, dx, x)]
    for index, layer in enumerate(model.layers):
        for parameter in layer.trainable_weights:
            rows.append(compare(parameter.name, index, parameter, parameter.grad.copy(), parameter.data))
    return _report(GradCheckResult(rows, tolerance), verbose, print_fn)
