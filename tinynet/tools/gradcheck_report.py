"""What ``tinynet.gradcheck`` found, as rows and a table: one row per array, one column per place it looked.

An array (the input, a weight, a layer's dx) is compared at up to two *points* (``Point``):
your weights and batch, then perturbed weights on another batch. Each comparison is a
``Comparison``; a ``GradCheckRow`` joins an array's comparisons, and its ``own`` comparison
when the layer was also checked alone. ``GradCheckResult`` is the whole check: still the
dict ``{name: relative error}`` it always was, plus the rows, the culprit and what was not
looked at.
"""
import math
from dataclasses import dataclass, field

# A comparison's status, from worst to best for merging: one FAIL anywhere fails the row.
FAIL, UNSTABLE, PASS, VACUOUS = "FAIL", "not repeatable", "pass", "not informative"


@dataclass
class Point:
    """Where the check looked: ``label`` for the table's column, ``description`` for the report."""

    label: str
    description: str


@dataclass
class Comparison:
    """One array compared at one point (or the layer alone, at the points where it ran)."""

    status: str            # 'pass', 'FAIL', 'not informative' or 'not repeatable'
    error: float           # relative error over the entries compared (nan when not informative)
    max_error: float       # the worst single entry (nan when not informative)
    checked: int           # entries compared one by one
    skipped: int           # entries left out because their step crossed a kink
    size: int              # entries in the array
    directions: int = 0    # directions through every row and column compared (when sampled)
    reason: str = ""
    point: str = ""


def merge(comparisons):
    """One comparison standing for several (an array at each point): the worst status, the largest error."""
    comparisons = [c for c in comparisons if c is not None]
    if not comparisons:
        return None
    order = (FAIL, UNSTABLE, PASS, VACUOUS)
    worst = min(comparisons, key=lambda c: order.index(c.status))
    informative = [c for c in comparisons if c.status in (FAIL, PASS)]
    error = max((c.error for c in informative), default=math.nan)
    max_error = max((c.max_error for c in informative), default=math.nan)
    reason = worst.reason
    if worst.status == FAIL and len(comparisons) > 1:
        failing = [c.point for c in comparisons if c.status == FAIL]
        if len(failing) < len(comparisons):
            reason = (reason or f"right at {', '.join(c.point for c in comparisons if c.status != FAIL)}, wrong at "
                      f"{', '.join(failing)}: a backward right only for default weights (bias 0, gamma 1), one "
                      "batch size or non-negative inputs")
    if worst.status == VACUOUS and len({c.reason for c in comparisons}) > 1:
        reason = "; ".join(f"{c.point}: {c.reason}" for c in comparisons)
    return Comparison(worst.status, error, max_error, sum(c.checked for c in comparisons),
                      sum(c.skipped for c in comparisons), sum(c.size for c in comparisons),
                      sum(c.directions for c in comparisons), reason, worst.point)


@dataclass
class GradCheckRow:
    """One checked array: ``name`` is ``'input'``, a parameter's ``'<layer>/<weight>'`` or ``'<layer>/dx'``.

    ``status`` is ``'pass'``, ``'FAIL'``, ``'not informative'`` or ``'not repeatable'`` (then
    ``reason`` says why, ``error`` is nan and the row is not a pass). ``at`` holds the
    comparison at each point; ``own`` the comparison of the layer checked alone (None
    when it was not run: a layer's own check runs only when some gradient of the loss
    disagrees). A ``'<layer>/dx'`` row has only ``own``.
    """

    name: str
    layer: str
    parameter: str
    shape: tuple
    error: float
    max_error: float
    checked: int
    skipped: int
    status: str
    reason: str = ""
    size: int = 0
    at: dict = field(default_factory=dict)
    own: Comparison = None
    directions: int = 0

    @property
    def passed(self):
        return self.status == PASS

    @classmethod
    def joined(cls, name, layer, parameter, shape, at, own=None):
        """The row of an array from its comparisons at each point (``at``) and alone (``own``)."""
        total = merge(list(at.values())) or own
        status, reason = total.status, total.reason
        if at and total.status == FAIL and own is not None:
            if own.status == PASS:
                status, reason = FAIL, "its own backward is right: the wrong dL/dy came from a later layer"
            elif own.status == FAIL:
                reason = own.reason or reason
        size = next(iter(at.values())).size if at else own.size
        return cls(name, layer, parameter, tuple(shape), total.error, total.max_error, total.checked, total.skipped,
                   status, reason, size, dict(at), own, total.directions)


class GradCheckResult(dict):
    """``{name: relative error}`` (nan for a row that is not informative), ``rows`` and ``table()``.

    ``culprits``: the layers (in backward order) whose own backward disagrees with their own
    forward, and ``'the loss'`` if its gradient does; ``points``: where the check looked;
    ``not_looked_at``: what it did not compare, in sentences.
    """

    def __init__(self, rows, tolerance, points=(), culprits=(), not_looked_at=(), title=""):
        super().__init__((row.name, row.error) for row in rows)
        self.rows = rows
        self.tolerance = tolerance
        self.points = list(points)
        self.culprits = list(culprits)
        self.not_looked_at = list(not_looked_at)
        self.title = title

    @property
    def passed(self):
        """No row failed or changed between evaluations, and at least one row compared something informative."""
        return (not any(row.status in (FAIL, UNSTABLE) for row in self.rows)
                and any(row.status == PASS for row in self.rows))

    @property
    def repeatable(self):
        """False when f gave different values at the same point: then no verdict on backward is possible."""
        return not any(row.status == UNSTABLE for row in self.rows)

    def verdict(self):
        """One paragraph: does backprop agree, and if not, where is the bug."""
        vacuous = sum(row.status == VACUOUS for row in self.rows)
        if not self.repeatable:
            return ("THE CHECK COULD NOT JUDGE BACKWARD: the loss changed between two evaluations at the same point "
                    "(two estimates of one derivative differ). Some forward is random or keeps state between calls "
                    "(a counter, a statistic written in forward, NumPy's global np.random). Make f a function of its "
                    "inputs (seed= re-seeds tinynet's own generator before every pass), then check again.")
        if any(row.status == FAIL for row in self.rows):
            if not self.culprits:
                return "SOME GRADIENTS DISAGREE (see the rows marked FAIL)."
            if self.culprits == ["the loss"]:
                return "SOME GRADIENTS DISAGREE: the loss's own gradient dL/dz disagrees with the loss."
            blamed = []
            for name in self.culprits:
                crashed = any(row.layer == name and row.parameter == "step" for row in self.rows)
                blamed.append(f"'{name}' -- " + ("its step could not run (its 'step' row)" if crashed else
                                                 "its own backward disagrees with its own forward ('alone' column)"))
            downstream = [row for row in self.rows if row.status == FAIL and row.own is not None
                          and row.own.status == PASS]
            return (f"SOME GRADIENTS DISAGREE. The culprit: {'; '.join(blamed)}." +
                    (" The other FAIL rows are right on their own: they only received its wrong gradient."
                     if downstream else ""))
        if not self.passed:
            return "NOTHING INFORMATIVE WAS COMPARED: this is not a pass (see each row's reason)"
        if vacuous:
            return f"all informative gradients agree ({vacuous} not informative: see each row's reason)"
        return "all gradients agree"

    def table(self):
        """The per-array table as one string, the verdict, and what the check did not look at."""
        labels = [point.label for point in self.points] or ["rel. error"]
        with_own = any(row.own is not None for row in self.rows)
        header = ("layer", "array", "shape", *labels, *(["alone"] if with_own else []), "entries", "result")
        lines = [header]
        for row in self.rows:
            errors = [_error_cell(row.at.get(label)) for label in labels] if self.points else [f"{row.error:.2e}"]
            own = [_error_cell(row.own)] if with_own else []
            result = row.status + (f": {row.reason}" if row.reason else "")
            if row.skipped and row.checked:
                result += f" ({row.skipped} skipped at a kink)"
            lines.append((row.layer, row.parameter, _shape(row.shape), *errors, *own, _entries_cell(row), result))
        widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
        text = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)) + "  " + line[-1] for line in lines]
        text.insert(1, "-" * len(text[0]))
        intro = ([self.title] if self.title else []) + [f"  {point.label}: {point.description}"
                                                         for point in self.points]
        text = intro + text
        notes = [f"tolerance {self.tolerance:g} on the relative error"]
        skipped = sum(row.skipped for row in self.rows)
        if skipped:
            notes.append(f"{skipped} entries within eps of a ReLU or max-pool kink were skipped")
        text.append(f"{self.verdict()} ({'; '.join(notes)})")
        if self.not_looked_at:
            text.append("Not looked at:")
            text += [f"  - {item}" for item in self.not_looked_at]
        return "\n".join(text)


def _shape(shape):
    if not shape:
        return "-"
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _error_cell(comparison):
    if comparison is None:
        return "-"
    if comparison.status == FAIL and comparison.size == 0:
        return "failed"
    if comparison.status == PASS or comparison.status == FAIL:
        return f"{comparison.error:.2e}" + ("" if comparison.status == PASS else " X")
    return "n/i" if comparison.status == VACUOUS else "unrepeatable"


def _entries_cell(row):
    """Entries compared (one by one) / the array's size, at each point; and the directions through the rest."""
    compared = list(row.at.values()) or [row.own]
    if all(c.size == 0 for c in compared):
        return "-"
    text = ", ".join(f"{c.checked + c.skipped}/{c.size}" for c in compared)
    if row.directions:
        text += f" + {round(row.directions / len(compared))} dir." + (" each" if len(compared) > 1 else "")
    return text
