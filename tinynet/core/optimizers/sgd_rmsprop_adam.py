"""SGD, RMSprop and Adam: the update rules, as their papers and Keras write them.

Each rule ``update(w, g, lr, **state)`` gets a parameter's weights ``w``, its gradient ``g``,
the learning rate of this step ``lr`` (schedule and decay already applied: see optimizer.py)
and the parameter's state, and returns the new weights and the new state; it changes nothing.
``t`` is the number of the step being taken, counting from 1. The state keeps Keras's names.
"""
import math

import numpy as np

from ..checks import check_bool, check_float
from .optimizer import Optimizer, all_finite, not_negative


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum (keras.io/api/optimizers/sgd/):

        w = w - lr * g                                  (momentum=0)
        velocity = momentum * velocity - lr * g
        w = w + velocity                                (momentum > 0)
        w = w + momentum * velocity - lr * g            (nesterov=True)

    The velocity is the state Keras calls ``momentum``.
    """

    def update(self, w, g, lr, momentum=None):
        if momentum is None:
            return w - lr * g, {}
        velocity = self.momentum * momentum - lr * g
        if self.nesterov:
            return w + self.momentum * velocity - lr * g, {"momentum": velocity}
        return w + velocity, {"momentum": velocity}

    renamed_state = {"velocity": "momentum"}  # tinynet before 0.2

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, lr=None, name=None, impl="fast", **kwargs):
        super().__init__(learning_rate, lr, name, impl, **kwargs)
        self.momentum = check_float(momentum, "momentum", 0, 1, max_open=True)
        self.nesterov = bool(nesterov)

    def state_names(self):
        return ("momentum",) if self.momentum else ()

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """RMSprop (Hinton, Coursera lecture 6e; keras.io/api/optimizers/rmsprop/): divide the
    gradient by a running root mean square of it.

        velocity = rho * velocity + (1 - rho) * g^2
        w = w - lr * g / sqrt(velocity + epsilon)

    NOTE: epsilon sits inside the square root, as Keras 3 and tf.keras 2.11+ compute it and as
    TensorFlow documents the rule (``tf.raw_ops.ApplyRMSProp``: ``lr * grad / sqrt(ms + epsilon)``).
    tf.keras 2.0-2.10 and Keras 2.x computed ``sqrt(velocity) + epsilon``. The two differ only where
    velocity is not much larger than epsilon (gradients below ~1e-3 with the default 1e-7), and
    there inside the root damps the step: sqrt(epsilon) = 3e-4 bounds the divisor from below.
    """

    def update(self, w, g, lr, velocity):
        velocity = self.rho * velocity + (1 - self.rho) * g * g
        w = w - lr * (g / np.sqrt(velocity + self.epsilon))
        return w, {"velocity": velocity}

    renamed_state = {"mean_square": "velocity"}  # tinynet before 0.2

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7, lr=None, name=None, impl="fast", **kwargs):
        super().__init__(learning_rate, lr, name, impl, **kwargs)
        self.rho = check_float(rho, "rho", 0, 1, max_open=True)
        self.epsilon = check_float(epsilon, "epsilon", 0, min_open=True)

    def state_names(self):
        return ("velocity",)

    def check_state(self, parameter, state):
        not_negative(parameter, state, "velocity")

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

    def update(self, w, g, lr, m, v, vhat=None):
        t = self.iterations + 1
        m = self.beta_1 * m + (1 - self.beta_1) * g
        v = self.beta_2 * v + (1 - self.beta_2) * g * g
        lr_t = lr * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        if vhat is None:
            return w - lr_t * (m / (np.sqrt(v) + self.epsilon)), {"m": m, "v": v}
        vhat = np.maximum(vhat, v)
        return w - lr_t * (m / (np.sqrt(vhat) + self.epsilon)), {"m": m, "v": v, "vhat": vhat}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, lr=None,
                 name=None, impl="fast", **kwargs):
        super().__init__(learning_rate, lr, name, impl, **kwargs)
        self.beta_1 = check_float(beta_1, "beta_1", 0, 1, max_open=True)
        self.beta_2 = check_float(beta_2, "beta_2", 0, 1, max_open=True)
        self.epsilon = check_float(epsilon, "epsilon", 0, min_open=True)
        self.amsgrad = check_bool(amsgrad, "amsgrad", owner=self.name)

    def state_names(self):
        return ("m", "v", "vhat") if self.amsgrad else ("m", "v")

    def finite(self, w, state):
        # NOTE: with v finite, a NaN or infinite m makes w = w - lr_t * m / (sqrt(v) + eps) NaN
        # or infinite too, and vhat = max(vhat, v) is finite when v is; so w and v (one
        # product, see all_finite) tell whether all are.
        return all_finite(w, state["v"])

    def convert_state(self, arrays):
        # tinynet 0.1 kept the moments without their (1 - beta) factors: m_sum = m / (1 - beta_1).
        if set(arrays) == {"m_sum", "v_sum"}:
            return {"m": arrays["m_sum"] * (1 - self.beta_1), "v": arrays["v_sum"] * (1 - self.beta_2)}
        return arrays

    def check_state(self, parameter, state):
        for key in ("v", "vhat") if self.amsgrad else ("v",):
            not_negative(parameter, state, key)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}
