"""Weight initialisers, with Keras's names and formulas.

Each initialiser is called as ``init(shape, dtype)`` and returns a new array.
``fan_in`` / ``fan_out`` follow Keras: for a Dense kernel ``(in, out)`` they are
``in`` and ``out``; for a conv kernel ``(kh, kw, C_in, C_out)`` they are
``kh*kw*C_in`` and ``kh*kw*C_out``.
"""
import numpy as np

from .checks import short_repr
from .utils import rng


def compute_fans(shape):
    """``(fan_in, fan_out)`` of a weight of this shape, as Keras computes them."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = int(np.prod(shape[:-2]))
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _truncated_normal(shape, stddev, dtype):
    """Normal samples redrawn until all lie within two standard deviations."""
    x = rng().standard_normal(shape)
    outside = np.abs(x) > 2.0
    while outside.any():
        x[outside] = rng().standard_normal(int(outside.sum()))
        outside = np.abs(x) > 2.0
    return (x * stddev).astype(dtype)


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype)``."""

    def get_config(self):
        return {}

    def __repr__(self):
        return f"{type(self).__name__}({self.get_config()})"


class Zeros(Initializer):
    def __call__(self, shape, dtype=np.float32):
        return np.zeros(shape, dtype=dtype)


class Ones(Initializer):
    def __call__(self, shape, dtype=np.float32):
        return np.ones(shape, dtype=dtype)


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = float(value)

    def __call__(self, shape, dtype=np.float32):
        return np.full(shape, self.value, dtype=dtype)

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05):
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape, dtype=np.float32):
        return (self.mean + self.stddev * rng().standard_normal(shape)).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev}


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05):
        self.minval, self.maxval = float(minval), float(maxval)

    def __call__(self, shape, dtype=np.float32):
        return rng().uniform(self.minval, self.maxval, shape).astype(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval}


class VarianceScaling(Initializer):
    """Samples with variance ``scale / n``, ``n`` = fan_in, fan_out or their mean.

    uniform: U(-limit, limit) with ``limit = sqrt(3 * scale / n)``;
    truncated normal: stddev ``sqrt(scale / n) / 0.8796`` (0.8796 is the stddev of
    a unit normal truncated at two standard deviations, so the variance is right).
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal"):
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` {mode!r}, expected 'fan_in', 'fan_out' or 'fan_avg'.")
        if distribution not in ("uniform", "truncated_normal"):
            raise ValueError(
                f"Invalid `distribution` {distribution!r}, expected 'uniform' or 'truncated_normal'.")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def __call__(self, shape, dtype=np.float32):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = np.sqrt(3.0 * variance)
            return rng().uniform(-limit, limit, shape).astype(dtype)
        return _truncated_normal(shape, np.sqrt(variance) / 0.87962566103423978, dtype)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution}


class GlorotUniform(VarianceScaling):
    """Glorot & Bengio (2010): U(-l, l), ``l = sqrt(6 / (fan_in + fan_out))``."""

    def __init__(self):
        super().__init__(1.0, "fan_avg", "uniform")

    def get_config(self):
        return {}


class GlorotNormal(VarianceScaling):
    def __init__(self):
        super().__init__(1.0, "fan_avg", "truncated_normal")

    def get_config(self):
        return {}


class HeNormal(VarianceScaling):
    """He et al. (2015): truncated normal with stddev ``sqrt(2 / fan_in)``."""

    def __init__(self):
        super().__init__(2.0, "fan_in", "truncated_normal")

    def get_config(self):
        return {}


class HeUniform(VarianceScaling):
    def __init__(self):
        super().__init__(2.0, "fan_in", "uniform")

    def get_config(self):
        return {}


class LecunNormal(VarianceScaling):
    def __init__(self):
        super().__init__(1.0, "fan_in", "truncated_normal")

    def get_config(self):
        return {}


class LecunUniform(VarianceScaling):
    def __init__(self):
        super().__init__(1.0, "fan_in", "uniform")

    def get_config(self):
        return {}


ALL = {
    "zeros": Zeros, "ones": Ones, "constant": Constant,
    "random_normal": RandomNormal, "random_uniform": RandomUniform,
    "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_normal": HeNormal, "he_uniform": HeUniform,
    "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform,
    # Keras's short names (Keras 1 and 2): 'normal' is RandomNormal(stddev=0.05), 'uniform' RandomUniform(-0.05, 0.05)
    "normal": RandomNormal, "uniform": RandomUniform,
}

# Module-level aliases so ``tinynet.initializers.glorot_uniform`` works as in Keras.
zeros, ones, glorot_uniform, glorot_normal = Zeros, Ones, GlorotUniform, GlorotNormal
he_normal, he_uniform, lecun_normal, lecun_uniform = HeNormal, HeUniform, LecunNormal, LecunUniform


# By class name too: a layer's get_config saves an Initializer object as its class name
# ("HeNormal"), and loading the model must read that name back.
_BY_CLASS_NAME = {cls.__name__: cls for cls in ALL.values()}


def get(identifier, argument="initializer"):
    """An initialiser from a Keras name (``'glorot_uniform'``), a class name (``'GlorotUniform'``),
    an instance or a class."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if isinstance(identifier, str) and identifier.lower() in ALL:
        return ALL[identifier.lower()]()
    if isinstance(identifier, str) and identifier in _BY_CLASS_NAME:
        return _BY_CLASS_NAME[identifier]()
    if callable(identifier) and not isinstance(identifier, str):
        return identifier
    raise ValueError(
        f"Unknown {argument}: {short_repr(identifier)}. Expected one of {sorted(ALL)}, a class name such as "
        "'GlorotUniform', or an Initializer.")
