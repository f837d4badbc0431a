"""Learning-rate schedules (``tinynet.optimizers.schedules``), with Keras's formulas.

A schedule is a function of the step: ``schedule(step) -> learning rate``, where
``step`` counts the optimizer updates already done (0 for the first update), as
Keras's ``optimizer.iterations``. Pass one as an optimizer's learning rate:

    lr = schedules.ExponentialDecay(1e-2, decay_steps=10000, decay_rate=0.9)
    optimizer = optimizers.SGD(learning_rate=lr)
"""
import math

from ..checks import check_bool, check_float, check_int, invalid, short_repr
from ..utils import Configurable


class LearningRateSchedule(Configurable):
    """Base class: subclasses implement ``__call__(step)`` and ``get_config()``."""

    def __call__(self, step):
        raise NotImplementedError


def _step(step):
    return check_float(step, "step", minimum=0)


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    With ``staircase=True`` the exponent is ``floor(step / decay_steps)``: the rate
    drops by ``decay_rate`` every ``decay_steps`` steps. A ``decay_rate`` above 1 makes
    the rate grow; past the largest float it is ``inf`` (the optimizer then refuses the
    step, and ``fit`` stops with TrainingDivergedError).
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None):
        self.initial_learning_rate = check_float(initial_learning_rate, "initial_learning_rate", minimum=0,
                                                 owner="ExponentialDecay")
        self.decay_steps = check_float(decay_steps, "decay_steps", minimum=0, min_open=True, owner="ExponentialDecay")
        self.decay_rate = check_float(decay_rate, "decay_rate", minimum=0, owner="ExponentialDecay")
        self.staircase = check_bool(staircase, "staircase", owner="ExponentialDecay")
        self.name = name

    def __call__(self, step):
        p = _step(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        try:
            return self.initial_learning_rate * self.decay_rate ** p
        except OverflowError:  # Python's float power raises where NumPy and TensorFlow give inf
            return math.inf if self.initial_learning_rate else 0.0

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[1]`` while ``step <= boundaries[1]``, ...,
    ``values[-1]`` after the last boundary. ``len(values) == len(boundaries) + 1``."""

    def __init__(self, boundaries, values, name=None):
        boundaries, values = list(boundaries), list(values)
        if len(values) != len(boundaries) + 1:
            raise ValueError(
                "PiecewiseConstantDecay: `values` must have one more entry than `boundaries`. "
                f"Received: {len(boundaries)} boundaries and {len(values)} values.")
        self.boundaries = [check_float(b, "boundaries", owner="PiecewiseConstantDecay") for b in boundaries]
        if any(a >= b for a, b in zip(self.boundaries, self.boundaries[1:])):
            raise invalid("boundaries", "an increasing list", boundaries, "PiecewiseConstantDecay")
        self.values = [check_float(v, "values", minimum=0, owner="PiecewiseConstantDecay") for v in values]
        self.name = name

    def __call__(self, step):
        step = _step(step)
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``
    (``floor(step / decay_steps)`` with ``staircase=True``)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None):
        self.initial_learning_rate = check_float(initial_learning_rate, "initial_learning_rate", minimum=0,
                                                 owner="InverseTimeDecay")
        self.decay_steps = check_float(decay_steps, "decay_steps", minimum=0, min_open=True, owner="InverseTimeDecay")
        self.decay_rate = check_float(decay_rate, "decay_rate", minimum=0, owner="InverseTimeDecay")
        self.staircase = check_bool(staircase, "staircase", owner="InverseTimeDecay")
        self.name = name

    def __call__(self, step):
        p = _step(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1 + self.decay_rate * p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay (Loshchilov & Hutter, SGDR, 2017), with an optional linear warmup (Keras 2.13+).

    Warmup, for ``step < warmup_steps``: from ``initial_learning_rate`` linearly to ``warmup_target``.
    Then, with ``s = min(step - warmup_steps, decay_steps)`` and ``top = warmup_target or initial_learning_rate``:

        cosine = 0.5 * (1 + cos(pi * s / decay_steps))
        lr = top * ((1 - alpha) * cosine + alpha)

    so the rate ends at ``alpha * top`` and stays there.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name=None, warmup_target=None,
                 warmup_steps=0):
        self.initial_learning_rate = check_float(initial_learning_rate, "initial_learning_rate", minimum=0,
                                                 owner="CosineDecay")
        self.decay_steps = check_float(decay_steps, "decay_steps", minimum=0, min_open=True, owner="CosineDecay")
        self.alpha = check_float(alpha, "alpha", minimum=0, maximum=1, owner="CosineDecay")
        self.warmup_target = (None if warmup_target is None
                              else check_float(warmup_target, "warmup_target", minimum=0, owner="CosineDecay"))
        self.warmup_steps = check_int(warmup_steps, "warmup_steps", minimum=0, owner="CosineDecay")
        self.name = name

    def __call__(self, step):
        step = _step(step)
        if self.warmup_target is not None and step < self.warmup_steps:
            return self.initial_learning_rate + (self.warmup_target - self.initial_learning_rate) * (
                step / self.warmup_steps)
        top = self.initial_learning_rate if self.warmup_target is None else self.warmup_target
        s = min(step - (self.warmup_steps if self.warmup_target is not None else 0), self.decay_steps)
        cosine = 0.5 * (1 + math.cos(math.pi * s / self.decay_steps))
        return top * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class PolynomialDecay(LearningRateSchedule):
    """From ``initial_learning_rate`` to ``end_learning_rate`` in ``decay_steps`` steps along a power curve:

        s = min(step, decay_steps)
        lr = (initial - end) * (1 - s / decay_steps) ** power + end

    With ``cycle=True`` the decay restarts: ``decay_steps`` becomes the first multiple
    of ``decay_steps`` at or past ``step`` (and ``s = step``).
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                 name=None):
        self.initial_learning_rate = check_float(initial_learning_rate, "initial_learning_rate", minimum=0,
                                                 owner="PolynomialDecay")
        self.decay_steps = check_float(decay_steps, "decay_steps", minimum=0, min_open=True, owner="PolynomialDecay")
        self.end_learning_rate = check_float(end_learning_rate, "end_learning_rate", minimum=0,
                                             owner="PolynomialDecay")
        self.power = check_float(power, "power", minimum=0, owner="PolynomialDecay")
        self.cycle = check_bool(cycle, "cycle", owner="PolynomialDecay")
        self.name = name

    def __call__(self, step):
        step = _step(step)
        decay_steps = self.decay_steps
        if self.cycle:
            # NOTE: at step 0 Keras uses one whole period (ceil(0) would make it 0).
            decay_steps = decay_steps * max(1, math.ceil(step / decay_steps))
        else:
            step = min(step, decay_steps)
        fraction = 1 - step / decay_steps
        return (self.initial_learning_rate - self.end_learning_rate) * fraction ** self.power + self.end_learning_rate

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


ALL = {cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay, InverseTimeDecay, CosineDecay,
                                     PolynomialDecay)}


def deserialize(config):
    """A schedule from Keras's ``{'class_name': 'ExponentialDecay', 'config': {...}}``."""
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in ALL:
        raise ValueError(f"Unknown learning-rate schedule: {short_repr(config)}. Expected one of {sorted(ALL)}.")
    return ALL[name].from_config(config.get("config", {}))


def serialize(schedule):
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}
