"""The optimizer step as a transaction: what happens around every update rule.

An update rule (``sgd_rmsprop_adam.py``, ``more.py``) is a pure function of one parameter,
``update(w, g, lr, **state) -> (new w, new state)``. Everything else is here, the same for
every rule, in Keras's order:

    lr = the number given, or the schedule's value at step ``iterations``
    lr = lr / (1 + decay * iterations)                   Keras 2's time-based decay
    g  = the gradients after global_clipnorm, clipnorm, clipvalue
    new w, new state = update(w, g, lr, **state)        each parameter; nothing changed yet
    new w = constraint(new w)                           a layer's kernel_constraint=
    commit every new value and iterations += 1 -- or nothing, if any new value is NaN or infinite

The learning rate is computed once per step and passed to every rule, so no rule can read a
rate the others do not use. ``apply(parameters, state_updates)`` is the step ``Model.train_step``
takes (it returns whether the step was committed); ``apply_gradients(zip(grads, variables))`` is
Keras's spelling for a ``GradientTape`` loop.

Speed: by default (``impl='fast'``) a rule may run as a fast twin registered by the speed ring
(``tinynet/fast/optimizers.py``) through ``register_fast_rule``: same numbers, written into the
arrays the previous step replaced; and the ring may register a twin of the whole update of all the
parameters at once (``register_fast_step``, ``tinynet/fast/optimizer_step.py``: the rule over
flat buffers). ``impl='naive'`` runs the rules as written.
"""
import math
import warnings

import numpy as np

from .. import constraints
from ..checks import check_choice, check_float, check_int, invalid
from ..guards import TrainingDivergedError
from ..layers.base import Parameter
from . import schedules
from .schedules import LearningRateSchedule

# {optimizer class: its fast twin}, filled by the speed ring. A twin takes the rule's arguments plus
# ``out`` (the arrays to write into, or None), and returns ``(new w, new state, all finite?)``.
FAST_RULES = {}
# {optimizer class: its fast twin of ``update_parameters``}, filled by the speed ring.
FAST_STEPS = {}


def register_fast_rule(optimizer_class, fast_update):
    """Run ``fast_update(optimizer, w, g, lr, out=None, **state)`` in place of ``optimizer_class.update``
    when ``impl='fast'``. Only that exact class uses it (a subclass with its own rule runs its rule)."""
    FAST_RULES[optimizer_class] = fast_update


def register_fast_step(optimizer_class, fast_step):
    """Run ``fast_step(optimizer, parameters, gradients, lr)`` in place of ``update_parameters`` when
    ``impl='fast'`` (that exact class only). It returns what ``update_parameters`` would, or None when it
    cannot take this step (then each parameter goes through ``update_parameter``)."""
    FAST_STEPS[optimizer_class] = fast_step


class Optimizer:
    """Base class: a subclass writes its rule ``update(w, g, lr, **state) -> (w, state)`` and names
    the state it keeps per parameter, ``state_names()`` (created as zeros by ``init_state``).

    ``learning_rate`` is a positive number, or a schedule (``tinynet.optimizers.schedules``) that
    gives the rate of each step from the number of steps taken. ``lr`` is the Keras 2 alias, as
    argument and attribute. ``iterations`` counts the steps taken. ``impl``: ``'fast'`` lets a
    registered fast twin run the rule, ``'naive'`` runs ``update`` as written.

    Every optimizer also takes Keras's arguments for what happens around the rule:

        decay             Keras 2's time-based decay: the rule uses lr / (1 + decay * iterations)
        clipnorm          each gradient g is scaled to norm at most clipnorm: g * clipnorm / max(|g|, clipnorm)
        global_clipnorm   all gradients together are scaled so that their joint norm is at most this
        clipvalue         each entry of each gradient is clipped to [-clipvalue, clipvalue]
        weight_decay      Keras 3's decoupled weight decay: before the rule, w = w - lr * weight_decay * w

    and after the rule, a weight's ``constraint`` (``kernel_constraint=`` of a layer) is applied.
    """

    renamed_state = {}  # older files named some state differently: {old key: Keras's key}

    def __init__(self, learning_rate, lr=None, name=None, impl="fast", decay=0.0, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, weight_decay=None):
        self._learning_rate = None
        self.learning_rate = learning_rate if lr is None else lr
        self.name = name or type(self).__name__
        self.impl = check_choice(impl, "impl", ("fast", "naive"))
        self.decay = check_float(decay, "decay", 0, owner=self.name)
        self.weight_decay = None if weight_decay is None else check_float(weight_decay, "weight_decay", 0,
                                                                          owner=self.name)
        self.clipnorm = None if clipnorm is None else check_float(clipnorm, "clipnorm", 0, min_open=True)
        self.clipvalue = None if clipvalue is None else check_float(clipvalue, "clipvalue", 0, min_open=True)
        self.global_clipnorm = (None if global_clipnorm is None
                                else check_float(global_clipnorm, "global_clipnorm", 0, min_open=True))
        if self.clipnorm is not None and self.global_clipnorm is not None:
            raise ValueError("Give `clipnorm` (per weight) or `global_clipnorm` (all weights together), not both.")
        self.iterations = 0
        self.state = {}   # Parameter -> {name: array shaped like it}
        self._spare = {}  # Parameter -> (w, state) its last step replaced: where a fast twin writes

    # ----- the rule's interface -------------------------------------------------------------
    def update(self, w, g, lr, **state):
        """The update rule: ``(new w, new state)`` from the weights, the gradient, this step's
        learning rate and the state. Changes nothing."""
        raise NotImplementedError

    def state_names(self):
        """The names of the arrays the rule keeps per parameter (Keras's names)."""
        return ()

    def init_state(self, parameter):
        """The state of a parameter not seen before: zeros shaped like it, one array per name."""
        return {name: np.zeros_like(parameter.data) for name in self.state_names()}

    def finite(self, w, state):
        """Whether a parameter's new weights and new state are all finite (the commit's test)."""
        return all(all_finite(a) for a in (w, *state.values()))

    # ----- the step ---------------------------------------------------------------------------
    def apply(self, parameters, state_updates=()):
        """One step on every parameter from its ``grad``, all or nothing; True when it was taken.

        ``state_updates``: ``[(parameter, new_value), ...]`` committed with the step
        (BatchNormalization records its new moving statistics there). When any new weight,
        optimizer state or value in ``state_updates`` is NaN or infinite, or the step's learning
        rate is, nothing changes -- weights, state, step count -- and False is returned. When an
        update raises (a second Ctrl-C), nothing changes either and the exception goes up.

        Each parameter's ``data`` is a new array after a step: keep a copy, not a reference.
        Keras 3's ``apply(grads, trainable_variables)`` (gradient arrays first, as a model's own
        ``train_step`` calls it) is ``apply_gradients(zip(grads, trainable_variables))``.
        """
        parameters = list(parameters)
        if parameters and not hasattr(parameters[0], "grad"):   # arrays, not weights: Keras 3's order
            return self.apply_gradients(zip(parameters, state_updates))
        return self.take_step(parameters, [parameter.grad for parameter in parameters], state_updates)

    def take_step(self, parameters, gradients, state_updates=()):
        """The transaction behind ``apply`` and ``apply_gradients``: one step of ``parameters`` along
        ``gradients`` (arrays shaped like them), committed all or nothing; True when it was taken."""
        lr = self.step_learning_rate()
        if not math.isfinite(lr):  # a schedule that overflowed: no step can be finite
            return False
        gradients = self.clip_gradients(gradients)
        steps = self.update_parameters(parameters, gradients, lr)
        if not (all(finite for _, _, finite in steps) and all(all_finite(value) for _, value in state_updates)):
            return False
        for parameter, (w, state, _) in zip(parameters, steps):
            self._spare[parameter] = (parameter.data, self.state.get(parameter))
            parameter.data, self.state[parameter] = w, state
        for parameter, value in state_updates:
            parameter.data = value
        self._iterations += 1
        return True

    def apply_gradients(self, grads_and_vars):
        """Keras's step for a ``GradientTape`` loop: ``optimizer.apply_gradients(zip(grads, variables))``.

        ``variables`` are ``Parameter`` s (``model.trainable_weights``), ``grads`` arrays shaped like
        them. The same transaction as ``apply``: all parameters or none. A variable whose gradient
        is None is skipped with a warning naming it (as TensorFlow does). Returns ``iterations``;
        a step that would make a weight NaN or infinite is refused with TrainingDivergedError,
        nothing changed.
        """
        pairs = [_grad_and_variable(pair) for pair in grads_and_vars]
        missing = [variable.name for grad, variable in pairs if grad is None]
        pairs = [(grad, variable) for grad, variable in pairs if grad is not None]
        if not pairs:
            raise ValueError(f"No gradients provided for any variable: {missing}.")
        if missing:
            warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the loss.", stacklevel=2)
        variables = [variable for _, variable in pairs]
        if len(set(map(id, variables))) < len(variables):
            raise ValueError("apply_gradients: a variable appears twice; sum its gradients and pass it once.")
        gradients = [_gradient_for(grad, variable) for grad, variable in pairs]
        if not self.take_step(variables, gradients):
            raise TrainingDivergedError(
                "the update would make some weights NaN or infinite (or the optimizer state)", advice=(
                    "Nothing was changed. Check the gradients, or lower the learning rate "
                    f"(now {self.step_learning_rate():g})."))
        return self.iterations

    def step_learning_rate(self):
        """The learning rate of the coming step, as the rules receive it: the number given, or the
        schedule's value at ``iterations``, then Keras 2's time-based decay lr / (1 + decay * iterations)."""
        rate = self._learning_rate
        lr = rate(self._iterations) if isinstance(rate, LearningRateSchedule) else rate
        return float(lr) / (1 + self.decay * self._iterations)

    def clip_gradients(self, gradients):
        """The gradients after ``global_clipnorm``, ``clipnorm`` and ``clipvalue`` (in Keras's order);
        the same arrays when none is set."""
        if self.global_clipnorm is not None:
            norm = math.sqrt(sum(float(np.sum(np.square(g))) for g in gradients))
            gradients = [g * (self.global_clipnorm / max(norm, self.global_clipnorm)) for g in gradients]
        if self.clipnorm is not None:
            gradients = [g * (self.clipnorm / max(float(np.linalg.norm(g)), self.clipnorm)) for g in gradients]
        if self.clipvalue is not None:
            gradients = [np.clip(g, -self.clipvalue, self.clipvalue) for g in gradients]
        return gradients

    def update_parameters(self, parameters, gradients, lr):
        """``[(new w, new state, all finite?)]``, one per parameter, by ``update_parameter``; changes nothing.
        With ``impl='fast'``, a twin registered for the whole step may compute them all at once."""
        fast = FAST_STEPS.get(type(self)) if self.impl == "fast" else None
        steps = None if fast is None else fast(self, parameters, gradients, lr)
        if steps is None:
            steps = [self.update_parameter(parameter, g, lr) for parameter, g in zip(parameters, gradients)]
        return steps

    def update_parameter(self, parameter, g, lr):
        """``(new w, new state, all finite?)`` of one parameter, by the rule ``impl`` chooses, then
        the parameter's constraint. Changes nothing."""
        w, state = parameter.data, self.current_state(parameter)
        if self.weight_decay:  # decoupled: the weights shrink first, then the rule steps from them
            w = w - (lr * self.weight_decay) * w
        fast = FAST_RULES.get(type(self)) if self.impl == "fast" else None
        if fast is None:
            new_w, new_state = self.update(w, g, lr, **state)
            # A variable keeps its dtype, as Keras's assign does (a float64 constant must not make float32 weights float64).
            new_w = new_w.astype(w.dtype, copy=False)
            new_state = {key: value.astype(w.dtype, copy=False) for key, value in new_state.items()}
            finite = self.finite(new_w, new_state)
        else:
            new_w, new_state, finite = fast(self, w, g, lr, out=self._reusable(parameter, state), **state)
        if parameter.constraint is not None:  # checked: a user's function may return anything
            new_w = constraints.apply(parameter.constraint, new_w, parameter.name)
            finite = finite and all_finite(new_w)
        return new_w, new_state, finite

    def current_state(self, parameter):
        """The state the rule gets for ``parameter``: its state so far, or zeros the first time. When a
        setting changed what the rule keeps (``amsgrad=``, ``momentum=`` from 0), the missing arrays
        start at zero and the ones it no longer keeps are dropped."""
        state, names = self.state.get(parameter), self.state_names()
        if state is None or set(state) != set(names):
            kept = {key: value for key, value in (state or {}).items() if key in names}
            state = {**self.init_state(parameter), **kept}
        return state

    def _reusable(self, parameter, state):
        """The arrays ``parameter``'s last step replaced, when a fast twin can write this step's into them."""
        spare = self._spare.get(parameter)
        w = parameter.data
        if (spare is None or spare[1] is None or spare[0].shape != w.shape or spare[0].dtype != w.dtype
                or set(spare[1]) != set(state)):
            return None
        return spare

    # ----- the learning rate and the step count, as Keras exposes them --------------------------
    @property
    def learning_rate(self):
        """The learning rate: the number given, or the schedule's value at ``iterations`` (before ``decay``).

        It reads as a float with Keras's ``assign``: ``K.set_value(optimizer.learning_rate, 1e-4)``.
        A schedule can replace a number or a schedule; a number cannot replace a schedule (TypeError,
        as in Keras) -- also through a handle read before the schedule was set.
        """
        rate = self._learning_rate
        return _LearningRate(rate(self._iterations) if isinstance(rate, LearningRateSchedule) else rate, self)

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = self.check_learning_rate(value)

    lr = learning_rate  # Keras 2's name, as argument and attribute

    @property
    def schedule(self):
        """The ``LearningRateSchedule`` that gives the learning rate, or None for a fixed number."""
        rate = self._learning_rate
        return rate if isinstance(rate, LearningRateSchedule) else None

    def check_learning_rate(self, value):
        """``value`` as this optimizer's learning rate would take it (a schedule, or a positive float),
        changing nothing; TypeError / ValueError otherwise."""
        if isinstance(value, dict) and "class_name" in value:  # a schedule as get_config wrote it
            value = schedules.deserialize(value)
        if isinstance(value, LearningRateSchedule):
            return value
        if isinstance(self._learning_rate, LearningRateSchedule):
            raise TypeError(
                f"{self.name} was given a `LearningRateSchedule` as its learning rate, hence its learning rate is "
                f"not settable to a number (as in Keras). Received: {value!r}. Set a schedule instead, or create "
                "the optimizer with a float `learning_rate`.")
        return check_float(value, "learning_rate", 0, min_open=True,
                           expected="a positive finite number or a learning-rate schedule")

    @property
    def iterations(self):
        """The number of steps taken. It reads as an int with Keras's ``assign``:
        ``K.set_value(model.optimizer.iterations, 0)`` restarts the count (the state is kept)."""
        return _Iterations(self._iterations, self)

    @iterations.setter
    def iterations(self, value):
        self._iterations = self.check_iterations(value)

    def check_iterations(self, value):
        """``value`` as a step count (an integer in [0, 2**63 - 1], as Keras's int64), changing nothing."""
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        return check_int(value, "iterations", minimum=0, maximum=2 ** 63 - 1, owner=self.name)

    # ----- state from files -------------------------------------------------------------------
    def load_state(self, parameter, arrays):
        """Install the state of ``parameter`` read from a file: ``{name: array}``.

        Checked first (Keras's names, after converting older files; shapes like the
        parameter's; finite; ``check_state``'s rules) -- a ValueError, and nothing
        installed, otherwise.
        """
        arrays = self.convert_state(dict(arrays))
        expected = self.state_names()
        if sorted(arrays) != sorted(expected):
            raise ValueError(f"the optimizer state of '{parameter.name}' holds {sorted(arrays)}, but "
                             f"{type(self).__name__} keeps {sorted(expected)}")
        state = {}
        for key, value in arrays.items():
            value = np.asarray(value)
            if value.dtype.kind != "f" or value.shape != parameter.shape:
                raise ValueError(f"optimizer state '{key}' of '{parameter.name}' has shape {value.shape} and "
                                 f"dtype {value.dtype}, expected floats of shape {parameter.shape}")
            if not np.isfinite(value).all():
                raise ValueError(f"optimizer state '{key}' of '{parameter.name}' holds NaN or infinite values")
            state[key] = value.astype(parameter.data.dtype)
        self.check_state(parameter, state)
        self.state[parameter] = state

    def convert_state(self, arrays):
        """The state in Keras's form from an older file's (renamed keys, by default)."""
        return {self.renamed_state.get(key, key): value for key, value in arrays.items()}

    def check_state(self, parameter, state):
        """Refuse a state that no run of this rule can reach (ValueError)."""

    def get_config(self):
        rate = self._learning_rate
        config = {"learning_rate": schedules.serialize(rate) if isinstance(rate, LearningRateSchedule) else rate}
        for key in ("decay", "clipnorm", "clipvalue", "global_clipnorm", "weight_decay"):
            if getattr(self, key):
                config[key] = getattr(self, key)
        return config

    def __repr__(self):
        return f"{type(self).__name__}({self.get_config()})"


def all_finite(a, b=None):
    """Whether every value of ``a`` (and of ``b``, shaped like it) is finite."""
    # NOTE: the dot product a . b is NaN or infinite when any entry of a or b is (inf * 0 and
    # NaN give NaN): one BLAS pass checks both. It also overflows (past ~1e38) for values
    # that are finite: only then is each value looked at.
    a = a.reshape(-1)
    b = a if b is None else b.reshape(-1)
    return bool(np.isfinite(a @ b) or (np.isfinite(a).all() and np.isfinite(b).all()))


def not_negative(parameter, state, key):
    """Refuse a running mean or sum of squares with negative entries (``check_state`` of several rules)."""
    if (state[key] < 0).any():
        raise ValueError(f"optimizer state '{key}' of '{parameter.name}' has negative values, but it is a "
                         "running mean of squared gradients")


def _grad_and_variable(pair):
    try:
        grad, variable = pair
    except (TypeError, ValueError):
        raise invalid("grads_and_vars", "(gradient, variable) pairs, e.g. zip(grads, model.trainable_weights)",
                      pair, "apply_gradients", TypeError) from None
    if not isinstance(variable, Parameter):
        raise invalid("grads_and_vars", "variables that are Parameters (model.trainable_weights)", variable,
                      "apply_gradients", TypeError)
    return grad, variable


def _gradient_for(grad, variable):
    """``grad`` as an array of the variable's shape and dtype (Keras casts it), or a clear error."""
    grad = np.asarray(grad)
    if grad.dtype.kind not in "biuf":
        raise TypeError(f"apply_gradients: the gradient of '{variable.name}' holds {grad.dtype} values; expected "
                        "real numbers.")
    if grad.shape != variable.shape:
        raise ValueError(f"apply_gradients: the gradient of '{variable.name}' has shape {grad.shape}, but the "
                         f"variable has shape {variable.shape}.")
    return grad.astype(variable.data.dtype, copy=False)


class _Assignable:
    """What Keras scripts do with an optimizer's variables: ``assign``, ``numpy``; and ``check``,
    which raises what ``assign`` would and changes nothing (``K.batch_set_value`` checks all first)."""

    def __new__(cls, value, optimizer):
        handle = super().__new__(cls, value)
        handle.optimizer = optimizer
        return handle

    def check(self, value):
        return getattr(self.optimizer, f"check_{self.attribute}")(value)

    def assign(self, value):
        setattr(self.optimizer, self.attribute, value)

    def numpy(self):
        return self.base(self)


class _LearningRate(_Assignable, float):
    """The float ``optimizer.learning_rate`` reads as: a number, plus Keras's ``assign``."""
    attribute, base = "learning_rate", float


class _Iterations(_Assignable, int):
    """The int ``optimizer.iterations`` reads as: a number, plus Keras's ``assign``."""
    attribute, base = "iterations", int
