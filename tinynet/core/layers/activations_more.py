"""The activations Keras has beyond the essential ones, as layers written like ``activations.py``'s.

ELU, SELU, Swish (SiLU), GELU, LeakyReLU, PReLU, Softplus, Softsign, HardSigmoid, Exponential: each
reads as its equation and its derivative. Their names (``'elu'``, ``'gelu'``...) are in the one table,
``activations.ACTIVATIONS``.
"""
import math

import numpy as np

from ..checks import check_bool, check_float, check_int
from .base import Layer


class ELU(Layer):
    """y = x if x > 0 else alpha * (exp(x) - 1);  dx = dout * (1 if x > 0 else y + alpha).   Cache: (y,).

    (For x <= 0, d/dx alpha (exp(x) - 1) = alpha exp(x) = y + alpha; y > 0 exactly where x > 0.)
    """

    equation = "y = x (x > 0); alpha * (exp(x) - 1) (x <= 0)"

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = check_float(alpha, "alpha", owner=self.name)

    def forward(self, x, training=False):
        # NOTE: exp only of the non-positive part, so a large x cannot overflow.
        y = np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))
        self.cache = (y,)
        return y

    def backward(self, dout):
        (y,) = self.cache
        return dout * np.where(y > 0, 1, y + self.alpha)


class SELU(Layer):
    """y = scale * elu(x, alpha), with Klambauer et al.'s (2017) constants, so activations self-normalise.

    dx = dout * scale * (1 if x > 0 else alpha * exp(x)) = dout * (scale if y > 0 else y + scale * alpha).
    Cache: (y,).
    """

    equation = "y = scale * (x (x > 0); alpha * (exp(x) - 1) (x <= 0))"
    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946

    def forward(self, x, training=False):
        y = self.scale * np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))
        self.cache = (y,)
        return y

    def backward(self, dout):
        (y,) = self.cache
        return dout * np.where(y > 0, self.scale, y + self.scale * self.alpha)


class Swish(Layer):
    """y = x * s, s = sigmoid(x)  (also called SiLU);  dx = dout * (s + x s (1 - s)).   Cache: (x, s)."""

    equation = "y = x * sigmoid(x)"

    def forward(self, x, training=False):
        s = _sigmoid(x)
        self.cache = (x, s)
        return x * s

    def backward(self, dout):
        x, s = self.cache
        return dout * (s + x * s * (1 - s))


class GELU(Layer):
    """y = x * Phi(x), Phi the standard normal CDF (Hendrycks & Gimpel, 2016).

        Phi(x) = (1 + erf(x / sqrt(2))) / 2,   phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
        dx = dout * (Phi(x) + x phi(x))

    ``approximate=True`` uses the tanh form: y = x/2 (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3),
        dx = dout * (1/2 (1 + t) + x/2 (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)),  t = tanh(u).
    Cache: (x,).
    """

    equation = "y = x * Phi(x)"

    def __init__(self, approximate=False, **kwargs):
        super().__init__(**kwargs)
        self.approximate = check_bool(approximate, "approximate", owner=self.name)

    def forward(self, x, training=False):
        self.cache = (x,)
        if self.approximate:
            return 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)))
        return x * _normal_cdf(x)

    def backward(self, dout):
        (x,) = self.cache
        if self.approximate:
            t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3))
            return dout * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x))
        return dout * (_normal_cdf(x) + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi))


class LeakyReLU(Layer):
    """y = x if x > 0 else negative_slope * x;  dx = dout * (1 if x > 0 else negative_slope).   Cache: (x > 0,).

    Keras 3's default slope is 0.3 for the layer (0.2 for the function ``'leaky_relu'``);
    tf.keras 2 called it ``alpha``, which is accepted too.
    NOTE: at exactly x = 0 we use the slope (the left derivative), as Keras does.
    """

    equation = "y = x (x > 0); negative_slope * x (x <= 0)"

    def __init__(self, negative_slope=0.3, alpha=None, **kwargs):
        super().__init__(**kwargs)
        if alpha is not None:
            negative_slope = alpha
        self.negative_slope = check_float(negative_slope, "negative_slope", minimum=0, owner=self.name)

    def forward(self, x, training=False):
        positive = x > 0
        self.cache = (positive,)
        return np.where(positive, x, self.negative_slope * x)

    def backward(self, dout):
        (positive,) = self.cache
        return dout * np.where(positive, 1, self.negative_slope).astype(dout.dtype)


class PReLU(Layer):
    """y = x if x > 0 else alpha * x, with a learned slope ``alpha`` per input position (He et al., 2015).

        dx     = dout * (1 if x > 0 else alpha)
        dalpha = sum over the batch (and ``shared_axes``) of dout * x * [x <= 0]

    ``alpha`` has the input's shape without the batch axis, with size 1 along ``shared_axes``
    (``shared_axes=[1, 2]`` on images: one slope per channel). Starts at 0 (a ReLU), as in Keras.
    Cache: (x,).
    """

    equation = "y = x (x > 0); alpha * x (x <= 0)"

    def __init__(self, alpha_initializer="zeros", shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = alpha_initializer
        if shared_axes is not None and not isinstance(shared_axes, (list, tuple)):
            shared_axes = [shared_axes]
        self.shared_axes = None if shared_axes is None else [check_int(a, "shared_axes", 1, owner=self.name)
                                                              for a in shared_axes]

    def build(self, input_shape):
        shape = list(input_shape)
        for axis in self.shared_axes or []:
            if axis > len(shape):
                raise ValueError(f"Layer '{self.name}': shared_axes={self.shared_axes} does not fit inputs of "
                                 f"shape (None, {', '.join(map(str, input_shape))}).")
            shape[axis - 1] = 1
        self.alpha = self.add_weight("alpha", tuple(shape), self.alpha_initializer)
        super().build(input_shape)

    def forward(self, x, training=False):
        self.cache = (x,)
        return np.where(x > 0, x, self.alpha.data * x)

    def backward(self, dout):
        (x,) = self.cache
        dalpha = dout * x * (x <= 0)
        axes = (0,) + tuple(self.shared_axes or ())
        self.alpha.grad = dalpha.sum(axis=axes, keepdims=True)[0].astype(self.alpha.data.dtype, copy=False)
        return dout * np.where(x > 0, 1, self.alpha.data)


class Softplus(Layer):
    """y = log(1 + exp(x));  dx = dout * sigmoid(x).   Cache: (x,)."""

    equation = "y = log(1 + exp(x))"

    def forward(self, x, training=False):
        self.cache = (x,)
        # NOTE: log(1 + exp(x)) = max(x, 0) + log(1 + exp(-|x|)): no overflow for large x.
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))

    def backward(self, dout):
        (x,) = self.cache
        return dout * _sigmoid(x)


class Softsign(Layer):
    """y = x / (1 + |x|);  dx = dout / (1 + |x|)^2.   Cache: (x,)."""

    equation = "y = x / (1 + |x|)"

    def forward(self, x, training=False):
        self.cache = (x,)
        return x / (1 + np.abs(x))

    def backward(self, dout):
        (x,) = self.cache
        return dout / (1 + np.abs(x)) ** 2


class HardSigmoid(Layer):
    """y = clip(x / 6 + 1/2, 0, 1) (Keras 3; tf.keras 2 used 0.2 x + 0.5);  dx = dout / 6 inside (-3, 3), else 0.
    Cache: (x,).
    """

    equation = "y = clip(x / 6 + 1/2, 0, 1)"

    def forward(self, x, training=False):
        self.cache = (x,)
        return np.clip(x / 6 + 0.5, 0, 1)

    def backward(self, dout):
        (x,) = self.cache
        return dout * ((x > -3) & (x < 3)) / 6


class Exponential(Layer):
    """y = exp(x);  dx = dout * y.   Cache: (y,)."""

    equation = "y = exp(x)"

    def forward(self, x, training=False):
        y = np.exp(x)
        self.cache = (y,)
        return y

    def backward(self, dout):
        (y,) = self.cache
        return dout * y


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_erf = np.frompyfunc(math.erf, 1, 1)


def _normal_cdf(x):
    # NOTE: NumPy has no erf; math.erf element by element is exact, and slow only on big arrays.
    return (0.5 * (1 + _erf(x / math.sqrt(2)))).astype(x.dtype)


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))
