"""Optimizers: SGD, RMSprop, Adam, with Keras's update rules and defaults.

An optimizer keeps its state per parameter (created the first time it sees the
parameter) and steps ``parameter.data`` from ``parameter.grad``, all parameters
or none (see ``Optimizer.apply``). Each rule is written as in the Keras
documentation: ``g`` is the gradient, ``lr`` the learning rate, ``t`` the step
count starting at 1.
"""
import math

import numpy as np


def _positive_float(value, argument):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) or not 0 < value < math.inf:
        raise ValueError(
            f"Received an invalid value for `{argument}`, expected a positive finite number. "
            f"Received: {argument}={value!r}")
    return float(value)


def _fraction(value, argument):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) or not 0 <= value < 1:
        raise ValueError(
            f"Received an invalid value for `{argument}`, expected a number in [0, 1). "
            f"Received: {argument}={value!r}")
    return float(value)


class Optimizer:
    """Base class: subclasses implement ``init_state(parameter)`` and ``update(w, g, out, **state)``.

    ``update`` is the update rule, written on plain arrays: it writes the new
    weights into ``out`` (using it as scratch space on the way, so no step
    allocates memory), updates the state arrays in place, and leaves ``w`` as it
    was. ``g`` is the gradient.

    ``learning_rate`` may be changed between steps (schedules do). ``lr`` is the
    Keras 2 alias, accepted both as argument and attribute.
    """

    def __init__(self, learning_rate, lr=None, name=None):
        if lr is not None:
            learning_rate = lr
        self.learning_rate = _positive_float(learning_rate, "learning_rate")
        self.name = name or type(self).__name__
        self.iterations = 0
        self.state = {}  # Parameter -> dict of arrays, created on first sight
        self._spare = {}  # Parameter -> the buffer its next weights are written into

    @property
    def lr(self):
        return self.learning_rate

    @lr.setter
    def lr(self, value):
        self.learning_rate = _positive_float(value, "learning_rate")

    def apply(self, parameters):
        """One step on every trainable parameter, from its current ``grad``: all or nothing.

        Returns True when the step was taken. Returns False, with every weight and the
        step count as they were, when the step would make some weight NaN or infinite;
        and if an update raises (a second Ctrl-C), no weight has changed either.

        How: each parameter's new weights are written into a spare buffer of its own,
        and only when all of them are computed and finite does each parameter swap
        its ``data`` with its spare (so ``parameter.data`` is a different array after
        every step: keep a copy, not a reference). The moment estimates and other
        state are updated in place and are not rolled back.

        NOTE: the update runs in the calling thread. Splitting large parameters across
        one thread per core measured faster on its own, but slower inside ``fit`` (2
        cores, seed MLP: 6-12 % slower per step, ``benchmarks/optimizer_in_fit.py``):
        right after the backward pass, BLAS's own threads still hold the cores.
        """
        parameters = list(parameters)
        self.iterations += 1
        try:
            for parameter in parameters:
                if parameter not in self.state:
                    self.state[parameter] = self.init_state(parameter)
                spare = self._spare.get(parameter)
                if spare is None or spare.shape != parameter.data.shape or spare.dtype != parameter.data.dtype:
                    spare = self._spare[parameter] = np.empty_like(parameter.data)
                self.update(parameter.data, parameter.grad, spare, **self.state[parameter])
            if not all(_all_finite(self._spare[parameter]) for parameter in parameters):
                self.iterations -= 1
                return False
        except BaseException:
            self.iterations -= 1
            raise
        for parameter in parameters:
            parameter.data, self._spare[parameter] = self._spare[parameter], parameter.data
        return True

    def init_state(self, parameter):
        return {}

    def state_from_file(self, arrays):
        """The state of one parameter from the arrays a model file holds for it (by name).

        The identity here; an optimizer whose state changed form overrides it to read
        files written in the old form."""
        return arrays

    def update(self, w, g, out, **state):
        raise NotImplementedError

    def get_config(self):
        return {"learning_rate": self.learning_rate}

    def __repr__(self):
        return f"{type(self).__name__}({self.get_config()})"


_ones = {}  # dtype -> a vector of ones, as long as the largest parameter seen


def _all_finite(array):
    # A sum is NaN or infinite when any term is (it also overflows for weights near 3e38,
    # which is divergence too). As a product with ones it runs in BLAS: twice as fast as
    # array.sum() on the seed MLP's weights.
    flat = array.reshape(-1)
    ones = _ones.get(flat.dtype)
    if ones is None or ones.size < flat.size:
        ones = _ones[flat.dtype] = np.ones(flat.size, flat.dtype)
    return bool(np.isfinite(flat @ ones[:flat.size]))


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum.

        v = momentum * v - lr * g
        w = w + v                          (momentum)
        w = w + momentum * v - lr * g      (nesterov=True)
    With ``momentum=0``: ``w = w - lr * g``.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, lr=None, name=None):
        super().__init__(learning_rate, lr, name)
        self.momentum = _fraction(momentum, "momentum")
        self.nesterov = bool(nesterov)

    def init_state(self, parameter):
        return {"velocity": np.zeros_like(parameter.data)} if self.momentum else {}

    def update(self, w, g, out, velocity=None):
        lr = self.learning_rate
        np.multiply(g, lr, out=out)                     # out = lr * g
        if velocity is None:
            np.subtract(w, out, out=out)                # w - lr * g
            return
        velocity *= self.momentum                       # v = momentum * v - lr * g
        velocity -= out
        if self.nesterov:
            np.subtract(w, out, out=out)                # w + momentum * v - lr * g
            out += self.momentum * velocity
        else:
            np.add(w, velocity, out=out)                # w + v

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """RMSprop (Hinton, Coursera lecture 6e): divide by a running RMS of the gradient.

        s = rho * s + (1 - rho) * g^2
        w = w - lr * g / (sqrt(s) + epsilon)

    NOTE: epsilon sits outside the square root, as the issue's Keras reference
    documents; it only guards against dividing by ~0 for parameters that have
    seen no gradient yet.
    """

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7, lr=None, name=None):
        super().__init__(learning_rate, lr, name)
        self.rho = _fraction(rho, "rho")
        self.epsilon = _positive_float(epsilon, "epsilon")

    def init_state(self, parameter):
        return {"mean_square": np.zeros_like(parameter.data)}

    def update(self, w, g, out, mean_square):
        s, tmp = mean_square, out
        np.multiply(g, g, out=tmp)                      # s = rho * s + (1 - rho) * g^2,
        tmp -= s                                        #   written as s += (1 - rho) * (g^2 - s)
        tmp *= 1 - self.rho
        s += tmp
        np.sqrt(s, out=tmp)                             # w -= lr * g / (sqrt(s) + epsilon)
        tmp += self.epsilon
        np.divide(g, tmp, out=tmp)
        tmp *= self.learning_rate
        np.subtract(w, tmp, out=out)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015, Algorithm 1 with the efficient bias correction).

        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g^2
        lr_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
        w = w - lr_t * m / (sqrt(v) + epsilon)

    NOTE: folding the bias correction into ``lr_t`` (as Keras does) puts epsilon
    on the uncorrected ``sqrt(v)``; it only matters while ``v`` is tiny.

    The moments are kept without their (1 - beta) factors, as the sums
    ``m_sum = m / (1 - beta_1)`` and ``v_sum = v / (1 - beta_2)``:

        m_sum = beta_1 * m_sum + g                 (two passes over the arrays, not three)
        v_sum = beta_2 * v_sum + g^2               (three, not four)
        w = w - lr_t * (1 - beta_1) / sqrt(1 - beta_2) * m_sum / (sqrt(v_sum) + epsilon / sqrt(1 - beta_2))

    the same step as above, with the factors moved onto scalars: 10 passes over the
    arrays per update instead of 12 (``benchmarks/RESULTS.md`` has what that saves).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, lr=None, name=None):
        super().__init__(learning_rate, lr, name)
        self.beta_1 = _fraction(beta_1, "beta_1")
        self.beta_2 = _fraction(beta_2, "beta_2")
        self.epsilon = _positive_float(epsilon, "epsilon")

    def init_state(self, parameter):
        return {"m_sum": np.zeros_like(parameter.data), "v_sum": np.zeros_like(parameter.data)}

    def state_from_file(self, arrays):
        # Files written before the moments were kept as sums hold Keras's m and v.
        if set(arrays) == {"m", "v"}:
            return {"m_sum": arrays["m"] / (1 - self.beta_1), "v_sum": arrays["v"] / (1 - self.beta_2)}
        return arrays

    def update(self, w, g, out, m_sum, v_sum):
        t = self.iterations
        scale_2 = math.sqrt(1 - self.beta_2)
        lr_t = self.learning_rate * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        m_sum *= self.beta_1                            # m_sum = beta_1 * m_sum + g
        m_sum += g
        np.multiply(g, g, out=out)                      # v_sum = beta_2 * v_sum + g^2
        v_sum *= self.beta_2
        v_sum += out
        np.sqrt(v_sum, out=out)                         # w - lr_t * m / (sqrt(v) + epsilon)
        out += self.epsilon / scale_2
        np.divide(m_sum, out, out=out)
        out *= lr_t * (1 - self.beta_1) / scale_2
        np.subtract(w, out, out=out)

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
