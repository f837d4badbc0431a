"""The other update rules Keras has: AdamW, Adagrad, Adadelta, Adamax, Nadam.

Written as ``sgd_rmsprop_adam.py`` writes SGD, RMSprop and Adam: ``update(w, g, lr, **state)``
returns the new weights and state; ``lr`` is this step's learning rate; ``t`` counts steps from 1.
"""
import functools

import numpy as np

from ..checks import check_float
from .optimizer import Optimizer, not_negative
from .sgd_rmsprop_adam import Adam


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019; keras.io/api/optimizers/adamw/):
    first the weights shrink, then Adam steps from the shrunk weights.

        w = w - lr * weight_decay * w
        then Adam's update of w

    Every optimizer takes ``weight_decay`` (``Optimizer.update_parameter`` shrinks the weights); AdamW is
    Adam with it on by default, as in Keras 3.
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        weight_decay = check_float(weight_decay, "weight_decay", 0, owner="AdamW")  # None too: AdamW decays
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay=weight_decay, **kwargs)

    def get_config(self):
        return {**super().get_config(), "weight_decay": self.weight_decay}


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer, 2011; keras.io/api/optimizers/adagrad/): each weight's step
    shrinks with the sum of its squared gradients so far.

        accumulator = accumulator + g^2                (starts at initial_accumulator_value)
        w = w - lr * g / sqrt(accumulator + epsilon)
    """

    def update(self, w, g, lr, accumulator):
        accumulator = accumulator + g * g
        w = w - lr * g / np.sqrt(accumulator + self.epsilon)
        return w, {"accumulator": accumulator}

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, lr=None, name=None,
                 impl="fast", **kwargs):
        super().__init__(learning_rate, lr, name, impl, **kwargs)
        self.initial_accumulator_value = check_float(initial_accumulator_value, "initial_accumulator_value", 0)
        self.epsilon = check_float(epsilon, "epsilon", 0, min_open=True)

    def state_names(self):
        return ("accumulator",)

    def init_state(self, parameter):
        return {"accumulator": np.full_like(parameter.data, self.initial_accumulator_value)}

    def check_state(self, parameter, state):
        not_negative(parameter, state, "accumulator")

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

    def update(self, w, g, lr, accumulated_grad, accumulated_delta_var):
        rho, eps = self.rho, self.epsilon
        accumulated_grad = rho * accumulated_grad + (1 - rho) * g * g
        delta = -np.sqrt(accumulated_delta_var + eps) / np.sqrt(accumulated_grad + eps) * g
        accumulated_delta_var = rho * accumulated_delta_var + (1 - rho) * delta * delta
        w = w + lr * delta
        return w, {"accumulated_grad": accumulated_grad, "accumulated_delta_var": accumulated_delta_var}

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, lr=None, name=None, impl="fast", **kwargs):
        super().__init__(learning_rate, lr, name, impl, **kwargs)
        self.rho = check_float(rho, "rho", 0, 1, max_open=True)
        self.epsilon = check_float(epsilon, "epsilon", 0, min_open=True)

    def state_names(self):
        return ("accumulated_grad", "accumulated_delta_var")

    def check_state(self, parameter, state):
        not_negative(parameter, state, "accumulated_grad")
        not_negative(parameter, state, "accumulated_delta_var")

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Adamax(Optimizer):
    """Adamax (Kingma & Ba, 2015, section 7.1; keras.io/api/optimizers/adamax/): Adam with the infinity norm.

        m = beta_1 * m + (1 - beta_1) * g
        u = max(beta_2 * u, |g|)
        w = w - lr / (1 - beta_1^t) * m / (u + epsilon)
    """

    def update(self, w, g, lr, m, u):
        t = self.iterations + 1
        m = self.beta_1 * m + (1 - self.beta_1) * g
        u = np.maximum(self.beta_2 * u, np.abs(g))
        w = w - lr / (1 - self.beta_1 ** t) * m / (u + self.epsilon)
        return w, {"m": m, "u": u}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, lr=None, name=None, impl="fast",
                 **kwargs):
        super().__init__(learning_rate, lr, name, impl, **kwargs)
        self.beta_1 = check_float(beta_1, "beta_1", 0, 1, max_open=True)
        self.beta_2 = check_float(beta_2, "beta_2", 0, 1, max_open=True)
        self.epsilon = check_float(epsilon, "epsilon", 0, min_open=True)

    def state_names(self):
        return ("m", "u")

    def check_state(self, parameter, state):
        not_negative(parameter, state, "u")

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Nadam: Adam with Nesterov momentum (Dozat, 2016; keras.io/api/optimizers/Nadam/), with the
    paper's momentum schedule mu_t = beta_1 * (1 - 0.5 * 0.96^(t / 250)) (the product of the mu_i
    taken with each step's own beta_1, as Keras keeps it: ``momentum_product``):

        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g^2
        m_hat = mu_{t+1} m / (1 - prod_{i<=t+1} mu_i) + (1 - mu_t) g / (1 - prod_{i<=t} mu_i)
        v_hat = v / (1 - beta_2^t)
        w = w - lr * m_hat / (sqrt(v_hat) + epsilon)

    NOTE: Keras 2 and tf.keras up to 2.10 use the paper's 0.96^(0.004 t); Keras 3 and tf.keras 2.11+
    write 0.96^t, so their mu_t reaches beta_1 within a hundred steps where this one takes thousands.
    """

    def update(self, w, g, lr, m, v):
        t = self.iterations + 1
        product_t = self.momentum_product(t)
        m = self.beta_1 * m + (1 - self.beta_1) * g
        v = self.beta_2 * v + (1 - self.beta_2) * g * g
        m_hat = (self.mu(t + 1) * m / (1 - product_t * self.mu(t + 1))
                 + (1 - self.mu(t)) * g / (1 - product_t))
        v_hat = v / (1 - self.beta_2 ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + self.epsilon)
        return w, {"m": m, "v": v}

    def mu(self, t):
        return momentum_schedule(self.beta_1, t)

    def momentum_product(self, t):
        """prod_{i<=t} mu_i, each factor with the beta_1 of its own step, as Keras keeps it (a variable
        multiplied by mu_t at each step): a beta_1 changed between steps changes the factors from the
        next step on, not the past ones.

        The product up to the last step taken is kept; when the step count was set (a file, a
        ``K.set_value``) there is none for it, and the closed form over the current beta_1 stands in.
        """
        known = getattr(self, "_products", {})
        before = known[t - 1] if t - 1 in known else mu_product(self.beta_1, t - 1)
        # Both kept: a step that is not committed (a divergence) is taken again from t - 1.
        self._products = {t - 1: before, t: before * self.mu(t)}
        return self._products[t]

    @property
    def product_so_far(self):
        """prod_{i<=iterations} mu_i over the steps taken (what a file keeps, as Keras 2's momentum_cache)."""
        t = int(self.iterations)
        kept = getattr(self, "_products", {})
        return kept[t] if t in kept else mu_product(self.beta_1, t)

    @product_so_far.setter
    def product_so_far(self, value):
        """Set from a file, after the step count: the next step multiplies on from it."""
        self._products = {int(self.iterations): check_float(value, "momentum_product", 0, 1, owner=self.name)}

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, lr=None, name=None, impl="fast",
                 **kwargs):
        super().__init__(learning_rate, lr, name, impl, **kwargs)
        self.beta_1 = check_float(beta_1, "beta_1", 0, 1, max_open=True)
        self.beta_2 = check_float(beta_2, "beta_2", 0, 1, max_open=True)
        self.epsilon = check_float(epsilon, "epsilon", 0, min_open=True)

    def state_names(self):
        return ("m", "v")

    def check_state(self, parameter, state):
        not_negative(parameter, state, "v")

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


def momentum_schedule(beta_1, t):
    """Nadam's mu_t = beta_1 * (1 - 0.5 * 0.96^(0.004 t))."""
    return beta_1 * (1 - 0.5 * 0.96 ** (0.004 * t))


@functools.lru_cache(maxsize=8)  # a step asks for t and t + 1, the next step for t + 1 and t + 2
def mu_product(beta_1, t):
    """prod_{i<=t} mu_i over the schedule of one beta_1 (the closed form ``Nadam.momentum_product`` starts
    from when it has no product kept for the step before).

    NOTE: every factor is at most 1 - 0.5 * 0.96^(0.004 i) <= 0.75 for i < 4000, so the product
    falls below 2^-60 within 150 factors; from there 1 - product is 1.0 in floating point, exactly
    as 1 - 0.0, and the loop stops. A step count of 2^62 read from a file costs what step 150 does.
    """
    product = 1.0
    for i in range(1, t + 1):
        product *= momentum_schedule(beta_1, i)
        if product < 2.0 ** -60:
            return 0.0
    return product
