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

import numpy as np

from ..core import validation
from ..core.layers.normalization import BatchNormalization
from ..core.utils import set_random_seed
from .gradcheck_compare import (compare, directional_derivative, max_entry_error,
                                noise_floor, numerical_gradient, relative_error)
from .gradcheck_model import ModelCheck, loss_gradient
from .gradcheck_points import (COVER_DIRECTIONS, NotRepeatable, Sample, StepFailed, as_array, as_float64,
                               check_dx, check_settings, checked_dx, cover_direction, failed, kink_record,
                               max_pool_first_winner, moved, other_batch, other_size, perturb_weights, visited_points,
                               random_layers, random_state_kept, repeatable)
from .gradcheck_report import FAIL, GradCheckResult, GradCheckRow

__all__ = ["check_layer", "check_model", "numerical_gradient", "directional_derivative", "relative_error",
           "max_entry_error", "noise_floor", "GradCheckResult", "GradCheckRow", "TOLERANCE",
           # the pieces, for the tests and for trace: where to look, and the model's public step
           "cover_direction", "moved", "other_batch", "other_size", "as_float64", "max_pool_first_winner",
           "loss_gradient", "prepare_data"]

TOLERANCE = 1e-6


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
    so backward(dout) must return df/dx and put df/dw in each ``Parameter.grad``.
    Works on a float64 copy; the layer itself is not changed. Looks at your ``x`` and
    weights, then (``perturb=True``) at moved weights on another batch, each after a
    warm-up call (see the module docstring). Entries whose difference step crosses a ReLU
    or max-pool kink are skipped; ``max_entries`` checks a random sample (drawn with
    ``sample_seed``) of that many entries of each array plus two directions through every
    row and column. With ``verbose`` the table goes to ``print_fn``.

    Returns a ``GradCheckResult``: ``{'input': error, '<weight name>': error, ...}``
    with ``.rows``, ``.passed`` and ``.table()``.
    """
    check_settings(eps, tolerance, max_entries)
    layer = copy.deepcopy(layer)
    layer.needs_input_gradient = True  # a model may have switched dx off for its first layer
    x = validation.as_float_array(x, "x", dtype=np.float64).copy()
    if not layer.built:
        layer.build(tuple(x.shape[1:]))
    as_float64([layer])
    draw = np.random.default_rng(sample_seed)
    points = visited_points(len(x), perturb)
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
                found = {"input": failed(point.label, f"{failure}{hint}")}
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
        state = kink_record(layer, inputs, y)
        kinks[:] = [] if state is None else [state]
        return y

    # NOTE: dout from a generator of its own: learners draw their data with seed 0 too, and a dout
    # equal to the (standardised) input is a degenerate case (batch norm's dx is then ~0).
    douts = np.random.default_rng((1234, len(x)))
    dout = douts.standard_normal(forward(x).shape)

    def f():
        return float((forward(x) * dout).sum())

    floor = noise_floor(repeatable(f, "check_layer", random_layers([layer]), seed), eps)
    weights = [p for p in layer.weights if p.trainable]
    x_warm, _ = other_batch(x, draw, len(x))
    try:
        forward(x_warm)                               # the warm-up step, on other values of the same shape
        dx_warm = as_array(layer.backward(douts.standard_normal(dout.shape)))
        check_dx(layer, dx_warm, x_warm)
        warm = [p.grad.copy() for p in weights]
        forward(x)
        dx = as_array(layer.backward(dout))
        check_dx(layer, dx, x)
    except (StepFailed, NotRepeatable):
        raise
    except Exception as error:  # noqa: BLE001 - the learner's layer may raise anything: say where
        raise StepFailed(layer.name, f"forward or backward raised {type(error).__name__}: {error}") from error
    grads = [p.grad.copy() for p in weights]
    common = dict(eps=eps, floor=floor, tolerance=tolerance, kinks=lambda: list(kinks), point=point)
    found = {"input": compare(f, x, checked_dx(dx, x), Sample(x.shape, max_entries, draw), previous=dx_warm,
                              **common)}
    for parameter, grad, previous in zip(weights, grads, warm):
        found[parameter.name] = compare(f, parameter.data, grad, Sample(grad.shape, max_entries, draw),
                                        previous=previous, **common)
    return found


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
    if model.output_shape is None:      # a subclassed model not called yet: one sample builds it (as fit does)
        model.predict(x[:1], verbose=0)
    y = validation.as_targets(y, model.loss, model.output_shape[1:], "y", output_layer=model.layers[-1])
    validation.check_same_length(x, y)
    if y.dtype.kind == "f":
        y = y.astype(np.float64)
    return x, y


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
    check_settings(eps, tolerance, max_entries)
    x, y = prepare_data(model, x, y, "check_model")
    model = copy.deepcopy(model)
    as_float64(model.layers)
    check = ModelCheck(model, seed, eps, tolerance, max_entries, training, np.random.default_rng(sample_seed))
    points = visited_points(len(x), perturb)
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
    elif check.not_alone:
        for name, (kind, why) in check.not_alone.items():
            notes.append(f"'{name}' ({kind}) alone: it {why}, so it is judged only through the loss (the rows of "
                         "the layers before it) and never named the culprit")
    result = GradCheckResult(rows, tolerance, points, culprits, notes,
                             title=f"gradient check of model '{model.name}' (loss: {model.loss.name})")
    return _report(result, verbose, print_fn)


