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
``tinynet.ops.optimizer_updates`` instead, same signature, same results, and
``impl='naive'`` runs the rules below.

The state of each parameter is kept under Keras's names (Adam: ``m``, ``v``; SGD
with momentum: ``momentum``; RMSprop: ``velocity``), created by ``init_state`` the
first time the optimizer sees the parameter. ``load_state`` installs a state read
from a file, after checking it.
"""
import math

import numpy as np

from .checks import check_choice, check_float
from .ops import optimizer_updates


def _finite(array):
    # NOTE: a sum of squares is NaN or infinite when any term is: one BLAS product, faster
    # than any NumPy reduction. It also overflows, past 1.8e19, for values that are
    # finite: only then is each value looked at.
    flat = array.reshape(-1)
    return bool(np.isfinite(flat @ flat) or np.isfinite(flat).all())


class Optimizer:
    """Base class: subclasses write the rule ``update(w, g, **state) -> (w, state)`` and ``init_state``.

    ``learning_rate`` may be changed between steps (schedules do). ``lr`` is the
    Keras 2 alias, accepted both as argument and attribute. ``iterations`` counts
    the steps taken (committed). ``impl``: ``'fast'`` runs ``fast_update``, the rule's
    in-place twin in ``tinynet.ops.optimizer_updates``; ``'naive'`` runs ``update``.
    """

    # Older files named some state differently: {old key: Keras's key}.
    renamed_state = {}
    fast_update = None

    def __init__(self, learning_rate, lr=None, name=None, impl="fast"):
        if lr is not None:
            learning_rate = lr
        self.learning_rate = check_float(learning_rate, "learning_rate", 0, min_open=True)
        self.name = name or type(self).__name__
        self.impl = check_choice(impl, "impl", ("fast", "naive"))
        self.iterations = 0
        self.state = {}  # Parameter -> dict of arrays
        self._spare = {}  # Parameter -> (w, state) its last step replaced: where the fast rule writes

    @property
    def lr(self):
        return self.learning_rate

    @lr.setter
    def lr(self, value):
        self.learning_rate = check_float(value, "learning_rate", 0, min_open=True)

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
        steps = [self._update(parameter) for parameter in parameters]
        new_values = [w for w, _ in steps] + [a for _, state in steps for a in state.values()]
        new_values += [value for _, value in state_updates]
        if not all(_finite(value) for value in new_values):
            return False
        for parameter, (w, state) in zip(parameters, steps):
            self._spare[parameter] = (parameter.data, self.state.get(parameter))
            parameter.data, self.state[parameter] = w, state
        for parameter, value in state_updates:
            parameter.data = value
        self.iterations += 1
        return True

    def _update(self, parameter):
        """``(new w, new state)`` of one parameter by the rule ``impl`` chooses; changes nothing."""
        w, state = parameter.data, self.state.get(parameter)
        if state is None:
            state = self.init_state(parameter)
        if self.impl == "naive" or self.fast_update is None:
            return self.update(w, parameter.grad, **state)
        spare = self._spare.get(parameter)
        if spare is None or spare[1] is None or spare[0].shape != w.shape or spare[0].dtype != w.dtype:
            spare = None  # nothing to reuse yet: the fast rule allocates
        return self.fast_update(w, parameter.grad, **state, out=spare)

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
        return {"learning_rate": self.learning_rate}

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

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, lr=None, name=None, impl="fast"):
        super().__init__(learning_rate, lr, name, impl)
        self.momentum = check_float(momentum, "momentum", 0, 1, max_open=True)
        self.nesterov = bool(nesterov)

    def init_state(self, parameter):
        return {"momentum": np.zeros_like(parameter.data)} if self.momentum else {}

    def update(self, w, g, momentum=None):
        lr = self.learning_rate
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

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7, lr=None, name=None, impl="fast"):
        super().__init__(learning_rate, lr, name, impl)
        self.rho = check_float(rho, "rho", 0, 1, max_open=True)
        self.epsilon = check_float(epsilon, "epsilon", 0, min_open=True)

    def init_state(self, parameter):
        return {"velocity": np.zeros_like(parameter.data)}

    def update(self, w, g, velocity):
        velocity = self.rho * velocity + (1 - self.rho) * g * g
        w = w - self.learning_rate * g / (np.sqrt(velocity) + self.epsilon)
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

    NOTE: folding the bias correction into ``lr_t`` puts epsilon on the uncorrected
    ``sqrt(v)``: Keras's documentation calls it "epsilon hat", from the formula just
    before Section 2.1 of the paper. It only matters while ``v`` is tiny.
    """

    fast_update = optimizer_updates.adam_update

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, lr=None, name=None,
                 impl="fast"):
        super().__init__(learning_rate, lr, name, impl)
        self.beta_1 = check_float(beta_1, "beta_1", 0, 1, max_open=True)
        self.beta_2 = check_float(beta_2, "beta_2", 0, 1, max_open=True)
        self.epsilon = check_float(epsilon, "epsilon", 0, min_open=True)

    def init_state(self, parameter):
        return {"m": np.zeros_like(parameter.data), "v": np.zeros_like(parameter.data)}

    def update(self, w, g, m, v):
        t = self.iterations + 1
        m = self.beta_1 * m + (1 - self.beta_1) * g
        v = self.beta_2 * v + (1 - self.beta_2) * g * g
        lr_t = self.learning_rate * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        w = w - lr_t * m / (np.sqrt(v) + self.epsilon)
        return w, {"m": m, "v": v}

    def convert_state(self, arrays):
        # tinynet 0.1 kept the moments without their (1 - beta) factors: m_sum = m / (1 - beta_1).
        if set(arrays) == {"m_sum", "v_sum"}:
            return {"m": arrays["m_sum"] * (1 - self.beta_1), "v": arrays["v_sum"] * (1 - self.beta_2)}
        return arrays

    def check_state(self, parameter, state):
        _second_moment_not_negative(parameter, state, "v")

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


ALL = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam}


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
