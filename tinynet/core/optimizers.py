"""Optimizers: SGD, RMSprop, Adam, with Keras's update rules and defaults.

Each rule is written as Keras's documentation states it (keras.io/api/optimizers/):
``g`` is the gradient, ``lr`` the learning rate, ``t`` the step number counting from 1.
``update(w, g, **state)`` returns the new weights and the new state; it changes
nothing itself. ``Optimizer.apply`` is the one piece of bookkeeping around the
rules: it computes every parameter's update, and commits them all -- weights,
state, step count, and any other new values the step brings (BatchNormalization's
moving statistics) -- only if every one is finite.

The rules as written allocate a new array for every intermediate result; by default
(``impl='fast'``) ``apply`` runs their fused in-place twins from
``tinynet.fast.optimizers`` instead, same signature, same results, and
``impl='naive'`` runs the rules below.

The state of each parameter is kept under Keras's names (Adam: ``m``, ``v``; SGD
with momentum: ``momentum``; RMSprop: ``velocity``), created by ``init_state`` the
first time the optimizer sees the parameter. ``load_state`` installs a state read
from a file, after checking it.
"""
import math

import numpy as np

from . import constraints, schedules
from .checks import check_bool, check_choice, check_float
from ..fast import optimizers as optimizer_updates
from .schedules import LearningRateSchedule


def _finite(a, b=None):
    """Whether every value of ``a`` (and of ``b``, shaped like it) is finite."""
    # NOTE: the dot product a . b is NaN or infinite when any entry of a or b is (inf * 0 and
    # NaN give NaN): one BLAS pass checks both. It also overflows (past ~1e38) for values
    # that are finite: only then is each value looked at.
    a = a.reshape(-1)
    b = a if b is None else b.reshape(-1)
    return bool(np.isfinite(a @ b) or (np.isfinite(a).all() and np.isfinite(b).all()))


class Optimizer:
    """Base class: subclasses write the rule ``update(w, g, **state) -> (w, state)`` and ``init_state``.

    ``learning_rate`` is a number, or a schedule (``tinynet.optimizers.schedules``) that
    gives the rate of each step from the number of steps taken; it may be changed between
    steps (callbacks do). ``lr`` is the Keras 2 alias, accepted both as argument and attribute.
    ``iterations`` counts the steps taken (committed). ``impl``: ``'fast'`` runs
    ``fast_update``, the rule's in-place twin in ``tinynet.fast.optimizers``;
    ``'naive'`` runs ``update``.

    Every optimizer also takes Keras's arguments for what happens around the rule:

        decay             Keras 2's time-based decay: the rule uses lr / (1 + decay * iterations)
        clipnorm          each gradient g is scaled to norm at most clipnorm: g * clipnorm / max(|g|, clipnorm)
        global_clipnorm   all gradients together are scaled so that their joint norm is at most this
        clipvalue         each entry of each gradient is clipped to [-clipvalue, clipvalue]

    and after the rule, a weight's ``constraint`` (``kernel_constraint=`` of a layer) is applied.
    """

    # Older files named some state differently: {old key: Keras's key}.
    renamed_state = {}
    fast_update = None

    def __init__(self, learning_rate, lr=None, name=None, impl="fast", decay=0.0, clipnorm=None, clipvalue=None,
                 global_clipnorm=None):
        if lr is not None:
            learning_rate = lr
        self.learning_rate = learning_rate
        self.name = name or type(self).__name__
        self.impl = check_choice(impl, "impl", ("fast", "naive"))
        self.decay = check_float(decay, "decay", 0, owner=self.name)
        self.clipnorm = None if clipnorm is None else check_float(clipnorm, "clipnorm", 0, min_open=True)
        self.clipvalue = None if clipvalue is None else check_float(clipvalue, "clipvalue", 0, min_open=True)
        self.global_clipnorm = (None if global_clipnorm is None
                                else check_float(global_clipnorm, "global_clipnorm", 0, min_open=True))
        if self.clipnorm is not None and self.global_clipnorm is not None:
            raise ValueError("Give `clipnorm` (per weight) or `global_clipnorm` (all weights together), not both.")
        self.iterations = 0
        self.state = {}  # Parameter -> dict of arrays
        self._spare = {}  # Parameter -> (w, state) its last step replaced: where the fast rule writes

    @property
    def learning_rate(self):
        """The learning rate of the coming step: the number given, or the schedule's value at ``iterations``.

        It reads as a float; ``K.set_value(optimizer.learning_rate, 1e-4)`` (Keras's way) sets it.
        """
        if isinstance(self._learning_rate, LearningRateSchedule):
            return _LearningRate(self._learning_rate(self.iterations), self)
        return _LearningRate(self._learning_rate, self)

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, dict) and "class_name" in value:  # a schedule as get_config wrote it
            value = schedules.deserialize(value)
        if isinstance(value, LearningRateSchedule):
            self._learning_rate = value
        else:
            self._learning_rate = check_float(value, "learning_rate", 0, min_open=True,
                                              expected="a positive finite number or a learning-rate schedule")

    lr = learning_rate  # Keras 2's name, as argument and attribute

    @property
    def current_learning_rate(self):
        """The rate the rule uses at this step: ``learning_rate / (1 + decay * iterations)`` (``decay=0``: the same)."""
        return float(self.learning_rate) / (1 + self.decay * self.iterations)

    def init_state(self, parameter):
        """The state of a parameter not seen before (zeros): a dict of arrays shaped like it."""
        return {}

    def update(self, w, g, **state):
        """The update rule: ``(new w, new state)`` from the weights, the gradient and the state."""
        raise NotImplementedError

    def apply(self, parameters, state_updates=()):
        """One step on every parameter from its ``grad``, all or nothing; True when it was taken.

        ``state_updates``: ``[(parameter, new_value), ...]`` committed with the step
        (BatchNormalization records its new moving statistics there). When any new
        weight, optimizer state or value in ``state_updates`` is NaN or infinite, or
        an update raises (a second Ctrl-C), nothing changes -- weights, state, step
        count -- and False is returned (or the exception goes up).

        Each parameter's ``data`` is a new array after a step: keep a copy, not a reference.
        """
        parameters = list(parameters)
        gradients = self.clip_gradients([parameter.grad for parameter in parameters])
        steps = [self._update(parameter, g) for parameter, g in zip(parameters, gradients)]
        steps = [(_constrained(parameter, w), state) for parameter, (w, state) in zip(parameters, steps)]
        if not (all(self.finite(w, state) for w, state in steps)
                and all(_finite(value) for _, value in state_updates)):
            return False
        for parameter, (w, state) in zip(parameters, steps):
            self._spare[parameter] = (parameter.data, self.state.get(parameter))
            parameter.data, self.state[parameter] = w, state
        for parameter, value in state_updates:
            parameter.data = value
        self.iterations += 1
        return True

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

    def _update(self, parameter, g):
        """``(new w, new state)`` of one parameter by the rule ``impl`` chooses; changes nothing."""
        w, state = parameter.data, self.state.get(parameter)
        if state is None:
            state = self.init_state(parameter)
        if self.impl == "naive" or self.fast_update is None:
            return self.update(w, g, **state)
        spare = self._spare.get(parameter)
        if spare is None or spare[1] is None or spare[0].shape != w.shape or spare[0].dtype != w.dtype:
            spare = None  # nothing to reuse yet: the fast rule allocates
        return self.fast_update(w, g, **state, out=spare)

    def finite(self, w, state):
        """Whether a parameter's new weights and new state are all finite (the commit's test)."""
        return all(_finite(a) for a in (w, *state.values()))

    def load_state(self, parameter, arrays):
        """Install the state of ``parameter`` read from a file: ``{name: array}``.

        Checked first (Keras's names, after converting older files; shapes like the
        parameter's; finite; ``check_state``'s rules) -- a ValueError, and nothing
        installed, otherwise.
        """
        arrays = self.convert_state(dict(arrays))
        expected = self.init_state(parameter)
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
        for key in ("decay", "clipnorm", "clipvalue", "global_clipnorm"):
            if getattr(self, key):
                config[key] = getattr(self, key)
        return config

    def __repr__(self):
        return f"{type(self).__name__}({self.get_config()})"


def _second_moment_not_negative(parameter, state, key):
    if (state[key] < 0).any():
        raise ValueError(f"optimizer state '{key}' of '{parameter.name}' has negative values, but it is a "
                         "running mean of squared gradients")


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum (keras.io/api/optimizers/sgd/):

        w = w - lr * g                                  (momentum=0)
        velocity = momentum * velocity - lr * g
        w = w + velocity                                (momentum > 0)
        w = w + momentum * velocity - lr * g            (nesterov=True)

    The velocity is the state Keras calls ``momentum``.
    """

    renamed_state = {"velocity": "momentum"}  # tinynet before 0.2

    fast_update = optimizer_updates.sgd_update

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, lr=None, name=None, impl="fast", **kwargs):
        super().__init__(learning_rate, lr, name, impl, **kwargs)
        self.momentum = check_float(momentum, "momentum", 0, 1, max_open=True)
        self.nesterov = bool(nesterov)

    def init_state(self, parameter):
        return {"momentum": np.zeros_like(parameter.data)} if self.momentum else {}

    def update(self, w, g, momentum=None):
        lr = self.current_learning_rate
        if momentum is None:
            return w - lr * g, {}
        velocity = self.momentum * momentum - lr * g
        if self.nesterov:
            return w + self.momentum * velocity - lr * g, {"momentum": velocity}
        return w + velocity, {"momentum": velocity}

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """RMSprop (Hinton, Coursera lecture 6e; keras.io/api/optimizers/rmsprop/): divide the
    gradient by a running root mean square of it.

        velocity = rho * velocity + (1 - rho) * g^2
        w = w - lr * g / (sqrt(velocity) + epsilon)

    NOTE: epsilon sits outside the square root, as in Keras 2 (tf.keras); it only guards
    against dividing by ~0 for weights that have seen no gradient yet.
    """

    renamed_state = {"mean_square": "velocity"}  # tinynet before 0.2

    fast_update = optimizer_updates.rmsprop_update

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7, lr=None, name=None, impl="fast", **kwargs):
        super().__init__(learning_rate, lr, name, impl, **kwargs)
        self.rho = check_float(rho, "rho", 0, 1, max_open=True)
        self.epsilon = check_float(epsilon, "epsilon", 0, min_open=True)

    def init_state(self, parameter):
        return {"velocity": np.zeros_like(parameter.data)}

    def update(self, w, g, velocity):
        velocity = self.rho * velocity + (1 - self.rho) * g * g
        w = w - self.current_learning_rate * g / (np.sqrt(velocity) + self.epsilon)
        return w, {"velocity": velocity}

    def check_state(self, parameter, state):
        _second_moment_not_negative(parameter, state, "velocity")

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015; keras.io/api/optimizers/adam/):

        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g^2
        lr_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
        w = w - lr_t * m / (sqrt(v) + epsilon)

    ``amsgrad=True`` (Reddi, Kale & Kumar, 2018) divides by the largest ``v`` seen so far,
    kept as the state ``vhat``:  vhat = max(vhat, v);  w = w - lr_t * m / (sqrt(vhat) + epsilon).

    NOTE: folding the bias correction into ``lr_t`` puts epsilon on the uncorrected
    ``sqrt(v)``: Keras's documentation calls it "epsilon hat", from the formula just
    before Section 2.1 of the paper. It only matters while ``v`` is tiny.
    """

    fast_update = optimizer_updates.adam_update

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, lr=None,
                 name=None, impl="fast", **kwargs):
        super().__init__(learning_rate, lr, name, impl, **kwargs)
        self.beta_1 = check_float(beta_1, "beta_1", 0, 1, max_open=True)
        self.beta_2 = check_float(beta_2, "beta_2", 0, 1, max_open=True)
        self.epsilon = check_float(epsilon, "epsilon", 0, min_open=True)
        self.amsgrad = check_bool(amsgrad, "amsgrad", owner=self.name)
        if self.amsgrad:
            self.fast_update = None  # the fused twin has no vhat: the rule below runs

    def init_state(self, parameter):
        state = {"m": np.zeros_like(parameter.data), "v": np.zeros_like(parameter.data)}
        if self.amsgrad:
            state["vhat"] = np.zeros_like(parameter.data)
        return state

    def update(self, w, g, m, v, vhat=None):
        t = self.iterations + 1
        m = self.beta_1 * m + (1 - self.beta_1) * g
        v = self.beta_2 * v + (1 - self.beta_2) * g * g
        lr_t = self.current_learning_rate * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        if vhat is None:
            return w - lr_t * m / (np.sqrt(v) + self.epsilon), {"m": m, "v": v}
        vhat = np.maximum(vhat, v)
        return w - lr_t * m / (np.sqrt(vhat) + self.epsilon), {"m": m, "v": v, "vhat": vhat}

    def finite(self, w, state):
        # NOTE: with v finite, a NaN or infinite m makes w = w - lr_t * m / (sqrt(v) + eps) NaN
        # or infinite too; so checking w and v (one product, see _finite) checks all three.
        return _finite(w, state["v"])

    def convert_state(self, arrays):
        # tinynet 0.1 kept the moments without their (1 - beta) factors: m_sum = m / (1 - beta_1).
        if set(arrays) == {"m_sum", "v_sum"}:
            return {"m": arrays["m_sum"] * (1 - self.beta_1), "v": arrays["v_sum"] * (1 - self.beta_2)}
        return arrays

    def check_state(self, parameter, state):
        _second_moment_not_negative(parameter, state, "v")

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019; keras.io/api/optimizers/adamw/):
    first the weights shrink, then Adam steps from the shrunk weights.

        w = w - lr * weight_decay * w
        then Adam's update of w
    """

    fast_update = None  # the rule below: the decay, then Adam's rule

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, **kwargs)
        self.weight_decay = check_float(weight_decay, "weight_decay", 0, owner=self.name)

    def update(self, w, g, **state):
        w = w - self.current_learning_rate * self.weight_decay * w
        return super().update(w, g, **state)

    def get_config(self):
        return {**super().get_config(), "weight_decay": self.weight_decay}

class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer, 2011; keras.io/api/optimizers/adagrad/): each weight's step
    shrinks with the sum of its squared gradients so far.

        accumulator = accumulator + g^2                (starts at initial_accumulator_value)
        w = w - lr * g / sqrt(accumulator + epsilon)
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, lr=None, name=None,
                 impl="fast", **kwargs):
        super().__init__(learning_rate, lr, name, impl, **kwargs)
        self.initial_accumulator_value = check_float(initial_accumulator_value, "initial_accumulator_value", 0)
        self.epsilon = check_float(epsilon, "epsilon", 0, min_open=True)

    def init_state(self, parameter):
        return {"accumulator": np.full_like(parameter.data, self.initial_accumulator_value)}

    def update(self, w, g, accumulator):
        accumulator = accumulator + g * g
        w = w - self.learning_rate * g / np.sqrt(accumulator + self.epsilon)
        return w, {"accumulator": accumulator}

    def check_state(self, parameter, state):
        _second_moment_not_negative(parameter, state, "accumulator")

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012; keras.io/api/optimizers/adadelta/): steps scaled by the ratio of two
    running RMS, of past steps and of past gradients.

        accumulated_grad = rho * accumulated_grad + (1 - rho) * g^2
        delta = -sqrt(accumulated_delta_var + epsilon) / sqrt(accumulated_grad + epsilon) * g
        accumulated_delta_var = rho * accumulated_delta_var + (1 - rho) * delta^2
        w = w + lr * delta

    NOTE: Keras 2.0-2.3 defaulted to ``lr=1.0`` (the paper has no learning rate); tf.keras 2.x and
    Keras 3 use 0.001, and so does tinynet: old scripts that relied on 1.0 learn much more slowly.
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, lr=None, name=None, impl="fast", **kwargs):
        super().__init__(learning_rate, lr, name, impl, **kwargs)
        self.rho = check_float(rho, "rho", 0, 1, max_open=True)
        self.epsilon = check_float(epsilon, "epsilon", 0, min_open=True)

    def init_state(self, parameter):
        return {"accumulated_grad": np.zeros_like(parameter.data),
                "accumulated_delta_var": np.zeros_like(parameter.data)}

    def update(self, w, g, accumulated_grad, accumulated_delta_var):
        rho, eps = self.rho, self.epsilon
        accumulated_grad = rho * accumulated_grad + (1 - rho) * g * g
        delta = -np.sqrt(accumulated_delta_var + eps) / np.sqrt(accumulated_grad + eps) * g
        accumulated_delta_var = rho * accumulated_delta_var + (1 - rho) * delta * delta
        w = w + self.learning_rate * delta
        return w, {"accumulated_grad": accumulated_grad, "accumulated_delta_var": accumulated_delta_var}

    def check_state(self, parameter, state):
        _second_moment_not_negative(parameter, state, "accumulated_grad")
        _second_moment_not_negative(parameter, state, "accumulated_delta_var")

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Adamax(Optimizer):
    """Adamax (Kingma & Ba, 2015, section 7.1; keras.io/api/optimizers/adamax/): Adam with the infinity norm.

        m = beta_1 * m + (1 - beta_1) * g
        u = max(beta_2 * u, |g|)
        w = w - lr / (1 - beta_1^t) * m / (u + epsilon)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, lr=None, name=None, impl="fast",
                 **kwargs):
        super().__init__(learning_rate, lr, name, impl, **kwargs)
        self.beta_1 = check_float(beta_1, "beta_1", 0, 1, max_open=True)
        self.beta_2 = check_float(beta_2, "beta_2", 0, 1, max_open=True)
        self.epsilon = check_float(epsilon, "epsilon", 0, min_open=True)

    def init_state(self, parameter):
        return {"m": np.zeros_like(parameter.data), "u": np.zeros_like(parameter.data)}

    def update(self, w, g, m, u):
        t = self.iterations + 1
        m = self.beta_1 * m + (1 - self.beta_1) * g
        u = np.maximum(self.beta_2 * u, np.abs(g))
        w = w - self.learning_rate / (1 - self.beta_1 ** t) * m / (u + self.epsilon)
        return w, {"m": m, "u": u}

    def check_state(self, parameter, state):
        _second_moment_not_negative(parameter, state, "u")

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Nadam: Adam with Nesterov momentum (Dozat, 2016; keras.io/api/optimizers/Nadam/), with Keras's
    momentum schedule mu_t = beta_1 * (1 - 0.5 * 0.96^(0.004 t)):

        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g^2
        m_hat = mu_{t+1} m / (1 - prod_{i<=t+1} mu_i) + (1 - mu_t) g / (1 - prod_{i<=t} mu_i)
        v_hat = v / (1 - beta_2^t)
        w = w - lr * m_hat / (sqrt(v_hat) + epsilon)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, lr=None, name=None, impl="fast",
                 **kwargs):
        super().__init__(learning_rate, lr, name, impl, **kwargs)
        self.beta_1 = check_float(beta_1, "beta_1", 0, 1, max_open=True)
        self.beta_2 = check_float(beta_2, "beta_2", 0, 1, max_open=True)
        self.epsilon = check_float(epsilon, "epsilon", 0, min_open=True)
        self._mu_products = [1.0]  # prod_{i<=t} mu_i for t = 0, 1, 2, ...: a function of t, kept as it grows

    def mu(self, t):
        return self.beta_1 * (1 - 0.5 * 0.96 ** (0.004 * t))

    def mu_product(self, t):
        while len(self._mu_products) <= t:
            self._mu_products.append(self._mu_products[-1] * self.mu(len(self._mu_products)))
        return self._mu_products[t]

    def init_state(self, parameter):
        return {"m": np.zeros_like(parameter.data), "v": np.zeros_like(parameter.data)}

    def update(self, w, g, m, v):
        t = self.iterations + 1
        m = self.beta_1 * m + (1 - self.beta_1) * g
        v = self.beta_2 * v + (1 - self.beta_2) * g * g
        m_hat = (self.mu(t + 1) * m / (1 - self.mu_product(t + 1))
                 + (1 - self.mu(t)) * g / (1 - self.mu_product(t)))
        v_hat = v / (1 - self.beta_2 ** t)
        w = w - self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)
        return w, {"m": m, "v": v}

    def check_state(self, parameter, state):
        _second_moment_not_negative(parameter, state, "v")

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class _LearningRate(float):
    """The float ``optimizer.learning_rate`` reads as, with Keras's ``assign``: ``K.set_value(optimizer.lr, 1e-4)``
    and ``optimizer.learning_rate.assign(1e-4)`` set the optimizer's rate, as they do a Keras variable."""

    def __new__(cls, value, optimizer):
        rate = super().__new__(cls, value)
        rate.optimizer = optimizer
        return rate

    def assign(self, value):
        self.optimizer.learning_rate = value

    def numpy(self):
        return float(self)


def _constrained(parameter, w):
    """``w`` after the parameter's constraint (``kernel_constraint=``), if it has one."""
    constraint = getattr(parameter, "constraint", None)
    return w if constraint is None else constraints.apply(constraint, w, parameter.name)


ALL = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW, "nadam": Nadam, "adamax": Adamax,
       "adagrad": Adagrad, "adadelta": Adadelta}


def get(identifier):
    """An optimizer from a Keras name (``'adam'``) or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, str) and identifier.lower() in ALL:
        return ALL[identifier.lower()]()
    raise ValueError(
        f"Unknown optimizer: {identifier!r}. Expected one of {sorted(ALL)} or an Optimizer instance.")
