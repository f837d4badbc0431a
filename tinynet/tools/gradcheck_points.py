"""Where ``tinynet.gradcheck`` looks: the points, the entries and directions of each array, the kinks.

    visited_points(n, perturb)        your weights and batch; then moved weights on another batch
    moved(data, draw)         a weight moved away from the defaults (bias 0, gamma 1)
    other_batch(x, draw, n)   n samples from x's rows, signs mixed, with noise of x's scale
    Sample(shape, k, draw)    k entries one by one, and directions through every row and column
    kink_record(layer, ...)   which side of its kinks a layer was on (ReLU signs, max-pool winners)

and the guards around a step: ``repeatable`` (f gives one value at one point),
``check_dx`` (backward returns dL/dx of the input's shape), ``random_state_kept``.
"""
import random
from contextlib import contextmanager

import numpy as np

from ..core.checks import check_float, check_int
from ..core.layers.activations import ReLU
from ..core.layers.pooling import MaxPooling2D
from ..core.utils import rng
from .gradcheck_compare import MACHINE_EPS, NOISE_FACTOR
from .gradcheck_report import FAIL, Comparison, Point

COVER_DIRECTIONS = 2      # directions through every row and column, per array, when entries are sampled

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


def visited_points(n, perturb):
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


# ----- the points a check visits ----------------------------------------------------------------
def as_float64(layers):
    for layer in layers:
        for parameter in layer.weights:
            parameter.data = np.ascontiguousarray(parameter.data, dtype=np.float64)
            parameter.grad = np.zeros_like(parameter.data)


def has_relu(layer):
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


def kink_record(layer, x_in, y_out):
    """Which side of its kinks ``layer`` was on: ReLU units positive, max-pool winners; else None."""
    if isinstance(layer, ReLU):
        return x_in > 0
    if has_relu(layer):
        return y_out > 0
    if isinstance(layer, MaxPooling2D):
        return max_pool_first_winner(x_in, y_out, layer.pool_size, layer.strides, layer.padding)
    return None


def check_settings(eps, tolerance, max_entries):
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


def check_dx(layer, dx, x_in):
    """StepFailed when ``dx`` (what ``layer.backward`` returned) does not have its input's shape."""
    if dx is None or np.shape(dx) != np.shape(x_in):
        raise StepFailed(layer.name, f"backward returned {'None' if dx is None else f'a dx of shape {np.shape(dx)}'} "
                                     f"for an input of shape {np.shape(x_in)}: dL/dx has the input's shape (a dx of "
                                     "an earlier batch's shape is a stale dx)")


def repeatable(f, who, random_layers, seed):
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


def random_layers(layers):
    return [layer for layer in layers if "Dropout" in type(layer).__name__ or "Noise" in type(layer).__name__]


def _report(result, verbose, print_fn):
    if verbose:
        print_fn(result.table())
    return result
def failed(point, message):
    return Comparison(FAIL, float("nan"), float("nan"), 0, 0, 0, reason=message, point=point)


def as_array(array):
    return None if array is None else np.array(array, dtype=np.float64)


def checked_dx(dx, x):
    if dx is None or np.shape(dx) != x.shape:
        raise ValueError(f"backward must return dL/dx of the input's shape {x.shape}; it returned "
                         f"{None if dx is None else np.shape(dx)}.")
    return dx


