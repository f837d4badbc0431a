"""Numerical gradient checking: compare backprop's gradients with centred differences, where bugs hide.

For a scalar function f of an array x, each partial derivative is estimated as

    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

whose error is O(eps^2). Everything runs in float64: in float32 the rounding
error of f (~1e-7 relative) divided by 2 eps would swamp the estimate, so
``numerical_gradient`` refuses float32 arrays and ``check_layer`` / ``check_model``
work on a float64 copy.

The agreement of one array is the relative error ``||a - n|| / (||a|| + ||n||)``
(a: backprop, n: centred differences); correct backprop gives about 1e-10 here,
a wrong one something near 1. A row passes below ``tolerance`` (1e-6).

Where the defaults hide bugs, the check looks twice. A fresh layer has zero biases and
gamma = 1; a learner's batch often has one size and non-negative pixels; and one backward
call on a fresh copy cannot see a gradient added with ``+=`` or a cache left over from an
earlier call. So each array is compared at two *points*:

  your point   your weights and your batch
  perturbed    every weight moved away from its value (biases non-zero, gamma != 1), on
               another batch: a different number of samples, signs mixed

and before each point's measured step, one whole forward and backward pass runs on a
batch of the same shape with other values (the *warm-up*). A backward that adds to
``Parameter.grad`` instead of writing it, or that uses the previous call's cache or dx,
then gives wrong numbers, and the row says which of the two it looks like.

With ``max_entries=``, that many entries of each array are compared one by one, plus two
*directions* that each touch every row and every column of the array (of its matrix
view: all axes but the last are rows, so a Dense kernel is (D, M), a conv kernel
(kh*kw*C, F)), compared as a directional derivative ``(f(x + eps v) - f(x - eps v)) / 2 eps
= grad . v``: a wrong entry anywhere on them changes it.

Layer by layer: when a gradient of the loss disagrees, every layer is also checked
*alone*, on the input and the dL/dy it received in the measured step (and the loss's
dL/dz on its own). The layer whose own backward disagrees with its own forward is the
culprit; a layer whose own rows pass only received a wrong dL/dy from a later layer.

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
- Randomness. f is evaluated twice at the same point first; if the two values differ by
  more than rounding, the model is random (Dropout) and the check stops with a message:
  pass ``seed=``. And before a row is called FAIL its differences are measured again: if
  the two measurements differ, f is *not repeatable* and the row blames no backward.
- What was not looked at (entries outside the sample, the other mode, other points) is
  listed under the table.

``result.passed`` is True only if no row failed and at least one row was informative.
The check leaves tinynet's, NumPy's and Python's random state as it found them.

    from tinynet import gradcheck
    result = gradcheck.check_model(model, x, y)      # prints a table, returns a dict
    result['input'], result['dense/kernel']          # relative errors (nan: not informative)
    result.rows, result.passed, result.culprits      # one GradCheckRow per array checked
    gradcheck.check_model(big_model, x, y, max_entries=50)   # a sample of each array, and 2 directions
"""
import copy
import random
from contextlib import contextmanager

import numpy as np

from ..core import validation
from ..core.checks import check_float, check_int
from ..core.layers.activations import Linear, ReLU
from ..core.layers.normalization import BatchNormalization
from ..core.layers.pooling import MaxPooling2D
from ..core.utils import rng, set_random_seed
from .gradcheck_report import FAIL, PASS, UNSTABLE, VACUOUS, Comparison, GradCheckResult, GradCheckRow, Point, merge

__all__ = ["check_layer", "check_model", "numerical_gradient", "directional_derivative", "relative_error",
           "max_entry_error", "noise_floor", "GradCheckResult", "GradCheckRow", "TOLERANCE"]

TOLERANCE = 1e-6
MACHINE_EPS = np.finfo(np.float64).eps
COVER_DIRECTIONS = 2      # directions through every row and column, per array, when entries are sampled

# NOTE: rounding noise of a computed f is a few machine eps of the largest quantity summed
# into it. That is |f| for most f, but a loss near 0 is still computed from O(1) terms
# (log(1 + tiny) rounds to exactly 0), so the scale is at least 1. The factor covers the
# few roundings per term; the noise of an estimated derivative is this over eps.
NOISE_FACTOR = 10.0


def noise_floor(f_value, eps):
    """Rounding noise of one centred difference of f near ``f_value``: ~ 10 |f| machine-eps / eps."""
    return NOISE_FACTOR * MACHINE_EPS * max(abs(float(f_value)), 1.0) / eps


# ----- centred differences ----------------------------------------------------------------------
def numerical_gradient(f, x, eps=1e-6, indices=None):
    """Centred-difference gradient of the scalar ``f()`` with respect to the float64 array ``x``.

    ``x`` is perturbed in place, one entry at a time, and restored; ``f`` must read it.
    ``indices`` (flat positions) limits the estimate to those entries; the others are 0.
    """
    grad, _ = _differences(f, x, eps, indices)
    return grad


def directional_derivative(f, x, direction, eps=1e-6, kink_state=None):
    """``(f(x + eps v) - f(x - eps v)) / (2 eps)``: the gradient's dot product with the unit vector ``v``.

    Returns ``(estimate, crossed)``; ``crossed`` is True when ``kink_state()`` differed on the two sides.
    """
    _check_perturbable(x)
    original = x.copy()
    x += eps * direction
    f_plus, state_plus = f(), kink_state() if kink_state else None
    x[...] = original - eps * direction
    f_minus, state_minus = f(), kink_state() if kink_state else None
    x[...] = original
    return (f_plus - f_minus) / (2 * eps), bool(kink_state) and _crossed(state_plus, state_minus)


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


def _crossed(state_plus, state_minus):
    return not all(np.array_equal(a, b) for a, b in zip(state_plus, state_minus))


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
            flat_skipped[i] = _crossed(state_plus, state_minus)
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


# ----- where to look: which entries, which directions, which points --------------------------------
class Sample:
    """The entries of one array compared one by one (``mask``), and unit ``directions`` through the rest."""

    def __init__(self, shape, max_entries, draw):
        size = int(np.prod(shape))
        self.mask = np.zeros(shape, dtype=bool)
        self.directions = []
        if max_entries is None or max_entries >= size:
            self.mask[...] = True
            return
        self.mask.reshape(-1)[draw.choice(size, max_entries, replace=False)] = True
        self.directions = [cover_direction(shape, draw) for _ in range(COVER_DIRECTIONS)]


def cover_direction(shape, draw):
    """A unit vector of ``shape`` with a +-1 in every row and every column of its matrix view, others 0.

    The matrix view: rows are all axes but the last, columns the last axis (a conv kernel
    (kh, kw, C, F) is the (kh*kw*C, F) matrix w_col). ``max(rows, columns)`` entries are set,
    on two shuffled index lists, so every row and every column holds at least one.
    """
    columns = shape[-1] if len(shape) else 1
    rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
    n = max(rows, columns)
    v = np.zeros((rows, columns))
    v[draw.permutation(n) % rows, draw.permutation(n) % columns] = draw.choice([-1.0, 1.0], n)
    return (v / np.sqrt(n)).reshape(shape)


def moved(data, draw):
    """``data`` moved away from the defaults, keeping what must stay positive positive.

    Arrays that are all positive (gamma = 1, a moving variance) are scaled by e^(0.5 n),
    n ~ N(0, 1) per entry; the others shifted by 0.5 rms(data) n (by 0.5 n when all zero:
    a fresh bias), so every entry moves and signs mix.
    """
    noise = draw.standard_normal(data.shape)
    if data.size and np.all(data > 0):
        return data * np.exp(0.5 * noise)
    rms = float(np.sqrt(np.mean(np.square(data)))) if data.size else 0.0
    return data + 0.5 * (rms or 1.0) * noise


def other_batch(x, draw, size, y=None):
    """``size`` samples drawn from ``x``'s rows, each entry's sign flipped at random, plus noise of x's scale.

    Returns ``(x_other, y_other)`` with the drawn rows' targets (``y_other`` None without ``y``).
    Non-negative data (pixels) gets negative entries; all-equal data gets different values.
    """
    rows = draw.permutation(len(x)) if size == len(x) else draw.integers(0, len(x), size)
    picked = x[rows]
    scale = float(np.std(x)) or float(np.mean(np.abs(x))) or 1.0
    mixed = picked * draw.choice([-1.0, 1.0], picked.shape) + 0.5 * scale * draw.standard_normal(picked.shape)
    return np.ascontiguousarray(mixed), None if y is None else y[rows]


def other_size(n):
    """The second point's batch size: never the learner's (a backward right only for N = 1 is seen)."""
    return n + 1 if n < 3 else n - 1


def _points(n, perturb):
    first = Point("your point", f"your weights and your batch ({n} samples)")
    if not perturb:
        return [first]
    second = Point("perturbed", f"every weight moved (biases non-zero, gamma != 1), another batch of "
                                f"{other_size(n)} samples with mixed signs")
    return [first, second]


def perturb_weights(layers, draw):
    """Move every weight of ``layers`` (``moved``), in place."""
    for layer in layers:
        for parameter in layer.weights:
            parameter.data[...] = moved(parameter.data, draw)


@contextmanager
def random_state_kept():
    """Restore tinynet's, NumPy's and Python's random state afterwards (``seed=`` re-seeds all three)."""
    states = rng().bit_generator.state, np.random.get_state(), random.getstate()
    try:
        yield
    finally:
        rng().bit_generator.state = states[0]      # the stream is the one the learner had
        np.random.set_state(states[1])
        random.setstate(states[2])


# ----- comparing one array ----------------------------------------------------------------------
def compare(f, array, analytic, where, eps, floor, tolerance, kinks=None, previous=None, point="",
            zero_reason="every compared entry is below the rounding noise of f"):
    """Backprop's ``analytic`` gradient of ``f()`` w.r.t. ``array`` against centred differences.

    ``where`` (a ``Sample``) says which entries and directions; ``previous`` is the gradient
    the warm-up step returned for the same array (to recognise ``+=`` and stale caches).
    A disagreement is measured twice before it is called FAIL. Returns a ``Comparison``.
    """
    indices = np.flatnonzero(where.mask)
    numeric, crossed = _differences(f, array, eps, indices, kinks)
    directions = [directional_derivative(f, array, v, eps, kinks) for v in where.directions]
    result = _judge(analytic, numeric, crossed, where, directions, floor, tolerance, zero_reason, point)
    if result.status != FAIL:
        return result
    # measured again in the other order, so that a glitch tied to the call count lands elsewhere
    directions_again = [directional_derivative(f, array, v, eps, kinks) for v in where.directions[::-1]][::-1]
    numeric_again, _ = _differences(f, array, eps, indices[::-1], kinks)
    keep = where.mask & ~crossed
    drift = _drift(numeric[keep], numeric_again[keep], [d for d, _ in directions],
                   [d for d, _ in directions_again], floor, tolerance)
    if drift:
        return Comparison(UNSTABLE, float("nan"), float("nan"), result.checked, result.skipped, result.size,
                          result.directions, drift, point)
    result.reason = _diagnosis(analytic[keep], numeric[keep], None if previous is None else previous[keep]) \
        or result.reason
    return result


def _judge(analytic, numeric, crossed, where, directions, floor, tolerance, zero_reason, point):
    keep = where.mask & ~crossed
    a, n = analytic[keep], numeric[keep]
    checked, skipped = int(keep.sum()), int((where.mask & crossed).sum())
    common = dict(checked=checked, skipped=skipped, size=int(analytic.size), point=point)
    along = [(float((analytic * v).sum()), d, float(np.abs(analytic * v).sum()))
             for v, (d, cross) in zip(where.directions, directions) if not cross]
    common["directions"] = len(along)
    entries_informative = checked and (np.abs(a).max() > floor or np.abs(n).max() > floor)
    directions_informative = any(scale > floor or abs(d) > floor for _, d, scale in along)
    if not entries_informative and not directions_informative:
        if checked == 0 and not along:
            reason = f"all {skipped} entries at a kink"
        elif skipped:
            reason = (f"the {checked} entries compared are all (near) zero and the other {skipped} were "
                      "skipped at a kink: nothing that carries gradient was compared")
        else:
            reason = zero_reason
        return Comparison(VACUOUS, float("nan"), float("nan"), reason=reason, **common)
    error = relative_error(a, n) if checked else 0.0
    max_error = max_entry_error(a, n, floor) if checked else 0.0
    # A difference no bigger than the rounding noise cannot be resolved further: that is agreement.
    entries_agree = not checked or error < tolerance or np.linalg.norm(a - n) <= floor * np.sqrt(checked)
    worst_direction, reason = 0.0, ""
    for dot, estimate, scale in along:
        gap = abs(dot - estimate)
        direction_error = gap / (scale + abs(estimate)) if gap > floor else 0.0
        worst_direction = max(worst_direction, direction_error)
    if worst_direction >= tolerance and entries_agree:
        reason = (f"the entries compared one by one agree, but a direction through every row and column does not "
                  f"(rel. error {worst_direction:.1e}): entries outside the sample are wrong")
    status = PASS if entries_agree and worst_direction < tolerance else FAIL
    return Comparison(status, max(error, worst_direction), max_error, reason=reason, **common)


def _drift(first, second, first_directions, second_directions, floor, tolerance):
    """Why two measurements of the same derivatives differ (f is not repeatable), or ''."""
    gaps = np.abs(first - second)
    if gaps.size and gaps.max() > floor and relative_error(first, second) > tolerance:
        i = int(gaps.argmax())
        return (f"two estimates of the same derivative differ ({first[i]:.4g}, then {second[i]:.4g}): f changed "
                "between evaluations at the same point, so no backward can be judged here")
    for d1, d2 in zip(first_directions, second_directions):
        if abs(d1 - d2) > floor and abs(d1 - d2) > tolerance * (abs(d1) + abs(d2)):
            return (f"two estimates of the same directional derivative differ ({d1:.4g}, then {d2:.4g}): f changed "
                    "between evaluations at the same point, so no backward can be judged here")
    return ""


def _diagnosis(analytic, numeric, previous):
    """What a wrong gradient looks like, when the warm-up step explains it."""
    if previous is None or not analytic.size:
        return ""
    if np.abs(previous).max() > 0 and relative_error(analytic - previous, numeric) < 1e-5:
        return ("backward ADDS to Parameter.grad (+=): after a second call it holds the sum of both calls' "
                "gradients. Write it (grad[...] = ...) instead")
    if np.array_equal(analytic, previous):
        return ("it equals what backward gave at the previous call, on another batch: a stale cache or a stale "
                "dx (saved from an earlier call instead of computed from this forward's cache)")
    return ""


# ----- the points a check visits ----------------------------------------------------------------
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


def _check_settings(eps, tolerance, max_entries):
    check_float(eps, "eps", minimum=0, maximum=1, min_open=True, max_open=True)
    check_float(tolerance, "tolerance", minimum=0, min_open=True)
    if max_entries is not None:
        check_int(max_entries, "max_entries", minimum=1)


class NotRepeatable(ValueError):
    """f gave two values at the same point: no difference quotient means anything."""


class StepFailed(Exception):
    """A forward or backward that could not run at a point; ``layer`` is the one to blame."""

    def __init__(self, layer, message):
        super().__init__(message)
        self.layer = layer


def _stale_dx(layer, dx, x_in):
    """StepFailed when ``dx`` (what ``layer.backward`` returned) does not have its input's shape."""
    if dx is None or np.shape(dx) != np.shape(x_in):
        raise StepFailed(layer.name, f"backward returned {'None' if dx is None else f'a dx of shape {np.shape(dx)}'} "
                                     f"for an input of shape {np.shape(x_in)}: dL/dx has the input's shape (a dx of "
                                     "an earlier batch's shape is a stale dx)")


def _repeatable(f, who, random_layers, seed):
    """f at the current point; raises when two evaluations differ by more than rounding."""
    first, second = f(), f()
    if np.isnan(first) and np.isnan(second):
        return first
    if abs(first - second) <= NOISE_FACTOR * MACHINE_EPS * max(abs(first), 1.0):
        return first                                   # a last-bit difference (summation order): rounding
    names = ", ".join(f"'{layer.name}' ({type(layer).__name__})" for layer in random_layers)
    values = f"f gave {first!r}, then {second!r} at the same point, so no difference quotient means anything"
    if seed is None and random_layers:
        raise NotRepeatable(f"{who}: the model is random: {names} draws new random numbers at every forward pass "
                         f"({values}). Pass seed= (e.g. {who}(..., seed=0)) to re-seed before each pass, or remove "
                         "Dropout.")
    own = [layer.name for layer in random_layers if getattr(layer, "seed", None) is not None]
    hint = (f" {', '.join(repr(n) for n in own)} draws from its own generator (seed= given to the layer), which "
            "seed= here does not reset: give it no seed." if own else "")
    if seed is not None:
        raise NotRepeatable(f"{who}: f is not repeatable even with seed={seed}, which re-seeds tinynet, NumPy and "
                         f"Python before every pass ({values}). Something else changes between calls: state a "
                         f"forward keeps (a counter, a statistic written in forward) or a generator of its own.{hint}")
    raise NotRepeatable(f"{who}: f is not repeatable ({values}): some layer draws random numbers or keeps state between "
                     "calls. If it is random by design, pass seed= to re-seed before each pass; if it keeps state, "
                     f"that state is a bug for backprop.{hint}")


def _random_layers(layers):
    return [layer for layer in layers if "Dropout" in type(layer).__name__ or "Noise" in type(layer).__name__]


def _report(result, verbose, print_fn):
    if verbose:
        print_fn(result.table())
    return result


def _mode_note(layers, training):
    modes = [layer.name for layer in layers if isinstance(layer, BatchNormalization) or "Dropout" in
             type(layer).__name__]
    if not modes:
        return []
    other = "inference" if training else "training"
    return [f"{other} mode (training={not training}): {', '.join(modes)} compute another backward there"]


def _sampling_notes(rows, max_entries):
    if max_entries is None:
        return []
    partial = [row for row in rows if row.at and any(c.checked + c.skipped < c.size for c in row.at.values())]
    if not partial:
        return []
    left = sum(c.size - c.checked - c.skipped for row in partial for c in row.at.values())
    return [f"{left:,} entries of {len(partial)} arrays were not compared one by one (max_entries={max_entries}): "
            f"only through {COVER_DIRECTIONS} directions per array and point, touching every row and column, which "
            "find a wrong entry but do not say which"]


def _kink_notes(rows):
    skipped = sum(row.skipped for row in rows)
    if not skipped:
        return []
    return [f"{skipped} entries at a kink (a ReLU input at 0, a max-pool tie): the function has no derivative "
            "there, and no centred difference can judge which subgradient backward chose"]


def _general_notes(points):
    notes = ["weights and inputs other than the points above: a backward wrong only elsewhere (large inputs, "
             "other batch sizes) can pass", "the float32 arithmetic fit runs: the check runs a float64 copy"]
    if len(points) < 2:
        notes.insert(0, "perturbed weights and another batch (perturb=False)")
    return notes


# ----- one layer --------------------------------------------------------------------------------
def check_layer(layer, x, training=True, seed=None, eps=1e-6, verbose=True, print_fn=print,
                tolerance=TOLERANCE, max_entries=None, sample_seed=0, perturb=True):
    """Check a layer's ``backward`` against centred differences, in training mode by default.

    ``training=True`` checks the backward the docs derive: BatchNormalization with the
    batch's statistics, Dropout with its mask (pass ``seed=``, which re-seeds before every
    forward pass). ``f(x, weights) = sum(forward(x) * dout)`` with a fixed random ``dout``,
    so backward(dout) must return df/dx and put df/dW in each ``Parameter.grad``.
    Works on a float64 copy; the layer itself is not changed. Looks at your ``x`` and
    weights, then (``perturb=True``) at moved weights on another batch, each after a
    warm-up call (see the module docstring). Entries whose difference step crosses a ReLU
    or max-pool kink are skipped; ``max_entries`` checks a random sample (drawn with
    ``sample_seed``) of that many entries of each array plus two directions through every
    row and column. With ``verbose`` the table goes to ``print_fn``.

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
    draw = np.random.default_rng(sample_seed)
    points = _points(len(x), perturb)
    at, first_shape = {}, x.shape
    with random_state_kept():
        for index, point in enumerate(points):
            previous = x
            if index:
                perturb_weights([layer], draw)
                x = other_batch(x, draw, other_size(len(x)))[0]
            try:
                found = _layer_at(layer, x, point.label, training, seed, eps, tolerance, max_entries, draw)
            except StepFailed as failure:
                hint = (f" (the call before had {len(previous)} samples, this one {len(x)}: does it read a cache or a dx "
                        "of an earlier call?)" if index else "")
                found = {"input": _failed(point.label, f"{failure}{hint}")}
            for name, comparison in found.items():
                at.setdefault(name, {})[point.label] = comparison
    rows = [GradCheckRow.joined("input", layer.name, "input", first_shape, at["input"])]
    for parameter in layer.weights:
        if parameter.trainable:
            rows.append(GradCheckRow.joined(parameter.name, layer.name, parameter.name.split("/")[-1], parameter.shape,
                                            at[parameter.name]))
    notes = (_sampling_notes(rows, max_entries) + _kink_notes(rows) + _mode_note([layer], training)
             + _general_notes(points))
    result = GradCheckResult(rows, tolerance, points, [layer.name] if any(r.status == FAIL for r in rows) else [],
                             notes, title=f"gradient check of layer '{layer.name}' ({type(layer).__name__})")
    return _report(result, verbose, print_fn)


def _layer_at(layer, x, point, training, seed, eps, tolerance, max_entries, draw):
    """Every array of ``layer`` compared at one point (its weights as they are now, the batch ``x``)."""
    kinks = []

    def forward(inputs):
        if seed is not None:
            set_random_seed(seed)
        y = layer.forward(inputs, training=training)
        state = _kink_record(layer, inputs, y)
        kinks[:] = [] if state is None else [state]
        return y

    # NOTE: dout from a generator of its own: learners draw their data with seed 0 too, and a dout
    # equal to the (standardised) input is a degenerate case (batch norm's dx is then ~0).
    douts = np.random.default_rng((1234, len(x)))
    dout = douts.standard_normal(forward(x).shape)

    def f():
        return float((forward(x) * dout).sum())

    floor = noise_floor(_repeatable(f, "check_layer", _random_layers([layer]), seed), eps)
    weights = [p for p in layer.weights if p.trainable]
    x_warm, _ = other_batch(x, draw, len(x))
    try:
        forward(x_warm)                               # the warm-up step, on other values of the same shape
        dx_warm = _copy(layer.backward(douts.standard_normal(dout.shape)))
        _stale_dx(layer, dx_warm, x_warm)
        warm = [p.grad.copy() for p in weights]
        forward(x)
        dx = _copy(layer.backward(dout))
        _stale_dx(layer, dx, x)
    except (StepFailed, NotRepeatable):
        raise
    except Exception as error:  # noqa: BLE001 - the learner's layer may raise anything: say where
        raise StepFailed(layer.name, f"forward or backward raised {type(error).__name__}: {error}") from error
    grads = [p.grad.copy() for p in weights]
    common = dict(eps=eps, floor=floor, tolerance=tolerance, kinks=lambda: list(kinks), point=point)
    found = {"input": compare(f, x, _checked_dx(dx, x), Sample(x.shape, max_entries, draw), previous=dx_warm,
                              **common)}
    for parameter, grad, previous in zip(weights, grads, warm):
        found[parameter.name] = compare(f, parameter.data, grad, Sample(grad.shape, max_entries, draw),
                                        previous=previous, **common)
    return found


def _failed(point, message):
    return Comparison(FAIL, float("nan"), float("nan"), 0, 0, 0, reason=message, point=point)


def _copy(array):
    return None if array is None else np.array(array, dtype=np.float64)


def _checked_dx(dx, x):
    if dx is None or np.shape(dx) != x.shape:
        raise ValueError(f"backward must return dL/dx of the input's shape {x.shape}; it returned "
                         f"{None if dx is None else np.shape(dx)}.")
    return dx


# ----- a whole model ----------------------------------------------------------------------------
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
                max_entries=None, sample_seed=0, training=True, perturb=True):
    """Check every trainable weight's and the input's gradient of a compiled model's loss.

    Runs on a float64 copy of the model, in training mode by default (the backward the
    docs derive: BatchNormalization uses the batch's statistics, Dropout its mask), through
    the model's public step: ``forward(x, training, logits=True)``, ``compute_loss``,
    ``backward`` -- the same loss (on the logits where the output activation is paired with
    it) that ``fit`` uses. ``x`` and ``y`` are checked as ``fit`` checks them. A random
    model (Dropout) needs ``seed=``. Looks at your weights and batch, then (``perturb=True``)
    at moved weights on another batch, each after a warm-up step (see the module
    docstring). When a gradient disagrees, each layer is also checked alone, and the
    layer whose own backward is wrong is named (``result.culprits``). Entries whose
    difference step crosses a ReLU or max-pool kink are skipped and counted;
    ``max_entries`` checks a random sample of that many entries of each array plus two
    directions through every row and column (any model in seconds). With ``verbose`` the
    per-layer table goes to ``print_fn``.

    Returns a ``GradCheckResult``: ``{'input': error, '<layer>/<weight>': error, ...}``
    with ``.rows``, ``.passed``, ``.culprits`` and ``.table()``.
    """
    _check_settings(eps, tolerance, max_entries)
    x, y = prepare_data(model, x, y, "check_model")
    model = copy.deepcopy(model)
    as_float64(model.layers)
    check = _ModelCheck(model, seed, eps, tolerance, max_entries, training, np.random.default_rng(sample_seed))
    points = _points(len(x), perturb)
    with random_state_kept():
        for index, point in enumerate(points):
            if index:
                perturb_weights(model.layers, check.draw)
                x, y = other_batch(x, check.draw, other_size(len(x)), y)
            check.at_point(point.label, x, y)
    rows, culprits = check.rows()
    notes = (_sampling_notes(rows, max_entries) + _kink_notes(rows) + _mode_note(model.layers, training)
             + _general_notes(points))
    if not check.own:
        notes.append("each layer alone: no gradient of the loss disagreed, so no layer was checked on its own")
    result = GradCheckResult(rows, tolerance, points, culprits, notes,
                             title=f"gradient check of model '{model.name}' (loss: {model.loss.name})")
    return _report(result, verbose, print_fn)


class _Step:
    """What one forward and backward pass of the model did: per layer its input, output, dout, dx."""

    def __init__(self):
        self.forward, self.backward, self.states = [], {}, []


class _ModelCheck:
    """The comparisons of one model at each point: through the loss, and (on a disagreement) layer by layer."""

    def __init__(self, model, seed, eps, tolerance, max_entries, training, draw):
        self.model, self.seed, self.eps, self.tolerance = model, seed, eps, tolerance
        self.max_entries, self.training, self.draw = max_entries, training, draw
        self.kinks = []
        self.at = {}       # array name -> {point: Comparison}
        self.own = {}      # array name -> [Comparison, ...] of the layer alone
        self.shapes = {}
        self.input_shape = ()
        self.failures = []  # (layer name, Comparison) of the steps that could not run
        self.previous_size = None

    # the loss at the current weights, as fit computes it
    def step(self, x, y, log=None):
        model = self.model
        if self.seed is not None:
            set_random_seed(self.seed)
        self.kinks.clear()
        state = [rng().bit_generator.state]

        def on_forward(layer, x_in, y_out):
            record = _kink_record(layer, x_in, y_out)
            if record is not None:
                self.kinks.append(record)
            if log is not None:
                log.forward.append((layer, np.array(x_in, dtype=np.float64), state[0]))
                state[0] = rng().bit_generator.state

        z = model.forward(x, training=self.training, logits=True, on_layer=on_forward)
        return model.compute_loss(y, z), z

    def backward(self, log):
        inputs = {id(layer): x_in for layer, x_in, _ in log.forward}

        def on_backward(layer, dout, dx):
            _stale_dx(layer, dx, inputs[id(layer)])
            log.backward[id(layer)] = (np.array(dout, dtype=np.float64), _copy(dx))

        return _copy(self.model.backward(loss_gradient(self.model), input_gradient=True, on_layer=on_backward))

    def checked_step(self, x, y, log):
        """``step`` and ``backward``, blaming the layer that raised (or returned a dx of the wrong shape)."""
        try:
            _, z = self.step(x, y, log=log)
            dloss = np.array(loss_gradient(self.model), dtype=np.float64)
            return z, dloss, self.backward(log)
        except (StepFailed, NotRepeatable):
            raise
        except Exception as error:  # noqa: BLE001 - the learner's layer may raise anything: say where
            layers = _reported_layers(self.model)
            done = {id(layer) for layer, _, _ in log.forward}
            if len(done) == len(layers):
                blamed = next((layer for layer in reversed(layers) if id(layer) not in log.backward), layers[0])
                where = "backward"
            else:
                blamed, where = next(layer for layer in layers if id(layer) not in done), "forward"
            raise StepFailed(blamed.name, f"its {where} raised {type(error).__name__}: {error}") from error

    def at_point(self, point, x, y):
        model = self.model
        x = np.ascontiguousarray(x)
        self.input_shape = self.input_shape or tuple(x.shape)
        f = lambda: self.step(x, y)[0]  # noqa: E731  (the loss as a function of whatever arrays f reads)
        floor = noise_floor(_repeatable(f, "check_model", _random_layers(model.layers), self.seed), self.eps)
        weights = [p for layer in model.layers for p in layer.trainable_weights]
        warm, measured = _Step(), _Step()
        try:
            _, _, dx_warm = self.checked_step(*other_batch(x, self.draw, len(x), y), log=warm)   # the warm-up
            warm_grads = {p.name: p.grad.copy() for p in weights}
            z, dloss, dx = self.checked_step(x, y, log=measured)
        except StepFailed as failure:
            hint = (f" (the call before had {self.previous_size} samples: does it read a cache or a dx of an earlier "
                    "call?)" if self.previous_size not in (None, len(x)) else "")
            self.failures.append((failure.layer, _failed(point, f"at the {'measured' if warm.backward else 'warm-up'} "
                                                                f"step of {len(x)} samples, {failure}{hint}")))
            return
        finally:
            self.previous_size = len(x)
        grads = {p.name: p.grad.copy() for p in weights}
        common = dict(eps=self.eps, floor=floor, tolerance=self.tolerance, kinks=lambda: list(self.kinks),
                      point=point)
        self._add("input", point, compare(f, x, _checked_dx(dx, x), Sample(x.shape, self.max_entries, self.draw),
                                          previous=dx_warm, zero_reason=_zero_reason(model, None, None, dloss, floor),
                                          **common))
        for index, layer in enumerate(model.layers):
            for parameter in layer.trainable_weights:
                grad = grads[parameter.name]
                self._add(parameter.name, point,
                          compare(f, parameter.data, grad, Sample(grad.shape, self.max_entries, self.draw),
                                  previous=warm_grads[parameter.name],
                                  zero_reason=_zero_reason(model, index, parameter, dloss, floor), **common))
        if any(self.at[name][point].status == FAIL for name in self.at if point in self.at[name]):
            self.alone(point, measured, warm, grads, warm_grads, y, z, dloss)

    def _add(self, name, point, comparison):
        self.at.setdefault(name, {})[point] = comparison

    def alone(self, point, measured, warm, grads, warm_grads, y, z, dloss):
        """Each layer checked on its own input and dout from the measured step, and the loss on its own."""
        model = self.model
        last = model.layers[-1]
        for layer, x_in, state in measured.forward:
            dout, dx = measured.backward[id(layer)]
            kinks = []

            def f(layer=layer, x_in=x_in, state=state, dout=dout, kinks=kinks):
                if self.seed is not None:
                    rng().bit_generator.state = state
                y_out = _run_alone(layer, x_in, self.training, logits=layer is last and model.loss_takes_logits)
                record = _kink_record(layer, x_in, y_out)
                kinks[:] = [] if record is None else [record]
                penalty = sum(p.regularizer(p.data) for p in layer.trainable_weights if p.regularizer is not None)
                return float((y_out * dout).sum()) + penalty

            floor = noise_floor(f(), self.eps)
            common = dict(eps=self.eps, floor=floor, tolerance=self.tolerance, kinks=lambda kinks=kinks: list(kinks),
                          point=point, zero_reason="the dL/dy it received is (near) zero here")
            previous = warm.backward.get(id(layer), (None, None))[1]
            name = "input" if layer is measured.forward[0][0] else f"{layer.name}/dx"
            self.own.setdefault(name, []).append(compare(
                f, x_in, _checked_dx(dx, x_in), Sample(x_in.shape, self.max_entries, self.draw),
                previous=previous if previous is not None and previous.shape == x_in.shape else None, **common))
            self.shapes.setdefault(name, (layer.name, x_in.shape))
            for parameter in layer.trainable_weights:
                self.own.setdefault(parameter.name, []).append(compare(
                    f, parameter.data, grads[parameter.name], Sample(parameter.shape, self.max_entries, self.draw),
                    previous=warm_grads[parameter.name], **common))
        z = np.array(z, dtype=np.float64)

        def loss_alone():
            return float(model.loss.forward(y, z))

        floor = noise_floor(loss_alone(), self.eps)
        self.own.setdefault("loss", []).append(compare(loss_alone, z, dloss, Sample(z.shape, self.max_entries,
                                                                                      self.draw),
                                                       eps=self.eps, floor=floor, tolerance=self.tolerance,
                                                       point=point))
        self.shapes.setdefault("loss", ("(loss)", z.shape))

    def rows(self):
        """The table's rows in forward order, and the culprits in backward order."""
        model = self.model
        first = model.layers[0].name
        rows = [GradCheckRow.joined("input", f"(input of {first})", "input", self.input_shape,
                                    self.at.get("input", {}), merge(self.own.get("input", [])))]
        culprits = []
        for layer in _reported_layers(model):
            own_dx = merge(self.own.get(f"{layer.name}/dx", []))
            if own_dx is not None:
                rows.append(GradCheckRow.joined(f"{layer.name}/dx", layer.name, "dx",
                                                self.shapes[f"{layer.name}/dx"][1], {}, own_dx))
            for parameter in layer.trainable_weights:
                rows.append(GradCheckRow.joined(parameter.name, layer.name, parameter.name.split("/")[-1],
                                                parameter.shape, self.at.get(parameter.name, {}),
                                                merge(self.own.get(parameter.name, []))))
            for name, failure in self.failures:
                if name == layer.name:
                    rows.append(GradCheckRow.joined(f"{name}/step", name, "step", (), {failure.point: failure}))
        if "loss" in self.own:
            rows.append(GradCheckRow.joined("loss", "(loss)", "dL/dz", self.shapes["loss"][1], {},
                                            merge(self.own["loss"])))
            if rows[-1].status == FAIL:
                culprits.append("the loss")
        first_dx = merge(self.own.get("input", []))
        for layer in reversed(_reported_layers(model)):
            own = [merge(self.own.get(p.name, [])) for p in layer.trainable_weights]
            own.append(first_dx if layer is _reported_layers(model)[0] else merge(self.own.get(f"{layer.name}/dx", [])))
            if any(c is not None and c.status == FAIL for c in own) or any(n == layer.name for n, _ in self.failures):
                culprits.append(layer.name)
        return rows, culprits


def _reported_layers(model):
    """The layers whose forward the model reports (a Softmax layer the loss took over is not one)."""
    layers = list(model.layers)
    if model.loss_takes_logits and layers and layers[-1] is model.output_activation():
        layers = layers[:-1]
    return layers


def _run_alone(layer, x, training, logits):
    """``layer.forward(x)``; for the model's last layer when the loss takes logits, without its activation."""
    if not logits or not hasattr(layer, "activation"):
        return layer.forward(x, training=training)
    activation, layer.activation = layer.activation, Linear(name="identity")
    try:
        return layer.forward(x, training=training)
    finally:
        layer.activation = activation
