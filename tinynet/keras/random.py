"""``keras.random`` (and ``tf.random`` for ``import tinynet as tf``): seeded random arrays, and ``set_seed``.

``set_seed(s)`` is ``tinynet.set_random_seed(s)``: it seeds every random draw tinynet makes (weight
initialisation, dropout masks, shuffling), NumPy's global generator and Python's ``random``.

The draws follow Keras 3's rule for ``seed``:

    seed=None               tinynet's generator: reproducible after set_seed, different at every call
    seed=42 (an int)        the SAME numbers at every call with that seed
    seed=SeedGenerator(42)  a generator of its own: different at every call, the same sequence each run
"""
import numpy as np

from ..core.checks import check_float, check_int, check_shape, invalid
from ..core.utils import rng, set_random_seed as set_seed


class SeedGenerator:
    """A stream of random draws of its own: ``keras.random.normal(shape, seed=self.seed_generator)`` in a layer
    gives new numbers at each call, and the same sequence in every run made with the same ``seed``."""

    def __init__(self, seed=None, name=None, **kwargs):
        self.seed = int(rng().integers(2 ** 31)) if seed is None else check_int(seed, "seed", 0, owner="SeedGenerator")
        self.name = name
        self.generator = np.random.default_rng(self.seed)

    def next(self):
        """A new seed drawn from this stream (Keras returns its state; an int here)."""
        return int(self.generator.integers(2 ** 31))

    def __repr__(self):
        return f"<SeedGenerator seed={self.seed}>"


def generator_for(seed):
    """The NumPy generator a draw with ``seed`` uses (see the module docstring)."""
    if seed is None:
        return rng()
    if isinstance(seed, SeedGenerator):
        return seed.generator
    return np.random.default_rng(check_int(seed, "seed", 0))


def _shape(shape):
    if isinstance(shape, np.ndarray):  # tf.random.uniform(tf.shape(labels)): the sizes as a vector
        shape = tuple(int(size) for size in shape.reshape(-1))
    return () if shape in ((), []) else check_shape(shape, "shape")


def _float(dtype):
    dtype = np.dtype(dtype or "float32")
    if dtype.kind != "f":
        raise invalid("dtype", "a float dtype such as 'float32'", str(dtype))
    return dtype


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Draws from N(mean, stddev^2)."""
    return generator_for(seed).normal(mean, stddev, _shape(shape)).astype(_float(dtype))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Draws from U[minval, maxval)."""
    return generator_for(seed).uniform(minval, maxval, _shape(shape)).astype(_float(dtype))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """N(mean, stddev^2) redrawn until within two standard deviations of the mean, as Keras's."""
    generator, shape = generator_for(seed), _shape(shape)
    z = generator.standard_normal(shape)
    outside = np.abs(z) > 2
    while outside.any():                        # about 5 % of the draws, then 5 % of those ...
        z[outside] = generator.standard_normal(int(outside.sum()))
        outside = np.abs(z) > 2
    return (mean + stddev * z).astype(_float(dtype))


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers drawn uniformly from [minval, maxval)."""
    return generator_for(seed).integers(minval, maxval, _shape(shape)).astype(dtype)


def shuffle(x, axis=0, seed=None):
    """A copy of ``x`` with its entries along ``axis`` in a random order."""
    x = np.asarray(x)
    return np.take(x, generator_for(seed).permutation(x.shape[axis]), axis=axis)


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Inverted dropout of an array: each entry zeroed with probability ``rate``, the rest divided by 1 - rate."""
    rate = check_float(rate, "rate", 0, 1, max_open=True)
    x = np.asarray(inputs)
    keep = generator_for(seed).random(x.shape if noise_shape is None else tuple(noise_shape)) >= rate
    return x * keep / (1 - rate)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """For each row of ``logits`` (batch, classes), ``num_samples`` class indices drawn from softmax(logits)."""
    logits = np.asarray(logits, dtype=np.float64)
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    cumulative = np.cumsum(p / p.sum(axis=-1, keepdims=True), axis=-1)
    u = generator_for(seed).random((len(logits), check_int(num_samples, "num_samples", 1), 1))
    return np.minimum((u > cumulative[:, None, :]).sum(axis=-1), logits.shape[-1] - 1).astype(dtype)


def gamma(shape, alpha, dtype=None, seed=None):
    return generator_for(seed).gamma(alpha, 1.0, _shape(shape)).astype(_float(dtype))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    return generator_for(seed).binomial(counts, probabilities, _shape(shape)).astype(_float(dtype))


def beta(shape, alpha, beta, dtype=None, seed=None):
    return generator_for(seed).beta(alpha, beta, _shape(shape)).astype(_float(dtype))


__all__ = ["set_seed", "SeedGenerator", "normal", "uniform", "truncated_normal", "randint", "shuffle", "dropout",
           "categorical", "gamma", "binomial", "beta"]
