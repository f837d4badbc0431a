"""The comparison at the heart of ``tinynet.gradcheck``: centred differences against backprop, for one array.

    numerical_gradient(f, x)            (f(x + eps e_i) - f(x - eps e_i)) / (2 eps) for every entry i
    directional_derivative(f, x, v)     the same along a unit vector v: the gradient's dot product with v
    compare(f, x, analytic, where, ...) a ``Comparison``: pass, FAIL, not informative or not repeatable

A disagreement is measured a second time, in the other order, before it is called FAIL:
if the two measurements differ, f itself changed between calls and no backward is blamed.
"""
import numpy as np

from .gradcheck_report import FAIL, PASS, UNSTABLE, VACUOUS, Comparison

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


# ----- centred differences ----------------------------------------------------------------------
def numerical_gradient(f, x, eps=1e-6, indices=None):
    """Centred-difference gradient of the scalar ``f()`` with respect to the float64 array ``x``.

    ``x`` is perturbed in place, one entry at a time, and restored; ``f`` must read it.
    ``indices`` (flat positions) limits the estimate to those entries; the others are 0.
    """
    grad, _ = differences(f, x, eps, indices)
    return grad


def directional_derivative(f, x, direction, eps=1e-6, kink_state=None):
    """``(f(x + eps v) - f(x - eps v)) / (2 eps)``: the gradient's dot product with the unit vector ``v``.

    Returns ``(estimate, crossed)``; ``crossed`` is True when ``kink_state()`` differed on the two sides.
    """
    check_perturbable(x)
    original = x.copy()
    x += eps * direction
    f_plus, state_plus = f(), kink_state() if kink_state else None
    x[...] = original - eps * direction
    f_minus, state_minus = f(), kink_state() if kink_state else None
    x[...] = original
    return (f_plus - f_minus) / (2 * eps), bool(kink_state) and crossed(state_plus, state_minus)


def check_perturbable(x):
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


def crossed(state_plus, state_minus):
    return not all(np.array_equal(a, b) for a, b in zip(state_plus, state_minus))


def differences(f, x, eps, indices=None, kink_state=None):
    """Centred differences of ``f()`` w.r.t. ``x`` at ``indices``, and which of them crossed a kink.

    ``kink_state()`` returns a list of arrays describing which side of each kink the last
    ``f()`` was on; an entry whose states at ``x + eps`` and ``x - eps`` differ is marked in
    ``skipped`` (its estimate is still returned). Returns ``(grad, skipped)`` of x's shape.
    """
    check_perturbable(x)
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
            flat_skipped[i] = crossed(state_plus, state_minus)
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


# ----- comparing one array ----------------------------------------------------------------------
def compare(f, array, analytic, where, eps, floor, tolerance, kinks=None, previous=None, point="",
            zero_reason="every compared entry is below the rounding noise of f"):
    """Backprop's ``analytic`` gradient of ``f()`` w.r.t. ``array`` against centred differences.

    ``where`` (a ``Sample``) says which entries and directions; ``previous`` is the gradient
    the warm-up step returned for the same array (to recognise ``+=`` and stale caches).
    A disagreement is measured twice before it is called FAIL. Returns a ``Comparison``.
    """
    indices = np.flatnonzero(where.mask)
    numeric, crossed = differences(f, array, eps, indices, kinks)
    directions = [directional_derivative(f, array, v, eps, kinks) for v in where.directions]
    result = judge(analytic, numeric, crossed, where, directions, floor, tolerance, zero_reason, point)
    if result.status != FAIL:
        return result
    # measured again in the other order, so that a glitch tied to the call count lands elsewhere
    directions_again = [directional_derivative(f, array, v, eps, kinks) for v in where.directions[::-1]][::-1]
    numeric_again, _ = differences(f, array, eps, indices[::-1], kinks)
    keep = where.mask & ~crossed
    changed = drift(numeric[keep], numeric_again[keep], [d for d, _ in directions],
                    [d for d, _ in directions_again], floor, tolerance)
    if changed:
        return Comparison(UNSTABLE, float("nan"), float("nan"), result.checked, result.skipped, result.size,
                          result.directions, changed, point)
    result.reason = diagnosis(analytic[keep], numeric[keep], None if previous is None else previous[keep]) \
        or result.reason
    return result


def judge(analytic, numeric, crossed, where, directions, floor, tolerance, zero_reason, point):
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


def drift(first, second, first_directions, second_directions, floor, tolerance):
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


def diagnosis(analytic, numeric, previous):
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


