"""Regularizing noise, in training only: SpatialDropout2D (whole channels dropped) and GaussianNoise (noise added).

In inference (``predict``, ``evaluate``) both are the identity, like Dropout (``layers/core.py``).
``RandomLayer`` is the seed handling they share with the random augmentation layers (``preprocessing.py``).
"""
import numpy as np

from ..checks import check_float, check_int
from ..utils import rng
from .base import Layer
from .core import check_data_format


class RandomLayer(Layer):
    """A layer that draws random numbers. ``seed``: it draws from a generator of its own, seeded once
    (Keras's ``seed=``); without it, from tinynet's generator (``tinynet.set_random_seed``)."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = None if seed is None else check_int(seed, "seed", 0, owner=self.name)
        self._generator = None if seed is None else np.random.default_rng(self.seed)

    def generator(self):
        return self._generator if self._generator is not None else rng()

    def get_config(self):
        config = super().get_config()
        return config if self.seed is None else {**config, "seed": self.seed}


class SpatialDropout2D(RandomLayer):
    """Dropout of whole feature maps: in training ``y = x * m / (1 - rate)``, one ``m[n, c] ~ Bernoulli(1 - rate)``
    per image and channel, shared by all its pixels.

    Neighbouring pixels of a feature map are strongly correlated, so dropping single pixels
    (Dropout) barely regularizes a convolutional network; dropping a channel everywhere does
    (Tompson et al., 2015). Backward: ``dx = dout * m / (1 - rate)``. Shapes: ``x: (N, H, W, C)``,
    mask ``(N, 1, 1, C)``. Cache: (m / (1 - rate),), or (None,) when the layer was the identity.
    """

    equation = "y = x * m[n, c] / (1 - rate), m ~ Bernoulli(1 - rate) (training); y = x (inference)"

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        check_data_format(data_format, self.name)
        self.rate = check_float(rate, "rate", 0, 1, max_open=True, expected="a float in [0, 1)", owner=self.name)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"Layer '{self.name}' (SpatialDropout2D) expects images of shape (height, width, "
                             f"channels) without the batch axis. Received: input_shape={tuple(input_shape)}")
        return tuple(input_shape)

    def forward(self, x, training=False):
        if not training or self.rate == 0:
            self.cache = (None,)
            return x
        keep = 1.0 - self.rate
        N, C = x.shape[0], x.shape[-1]
        mask = self.generator().random((N, 1, 1, C)) < keep           # one draw per image and channel
        scaled_mask = mask.astype(x.dtype) / x.dtype.type(keep)
        self.cache = (scaled_mask,)
        return x * scaled_mask

    def backward(self, dout):
        (scaled_mask,) = self.cache
        return dout if scaled_mask is None else dout * scaled_mask   # dx = dout * m / (1 - rate)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


class GaussianNoise(RandomLayer):
    """Additive zero-centred noise in training: ``y = x + e``, ``e ~ N(0, stddev^2)`` drawn anew each step.

    A regularizer (and a mild data augmentation for real-valued inputs). The noise does not depend
    on x, so ``dy/dx = 1``: backward is ``dx = dout``, in training and inference alike. Cache: None
    (nothing is needed).
    """

    equation = "y = x + e, e ~ N(0, stddev^2) (training); y = x (inference)"

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.stddev = check_float(stddev, "stddev", 0, owner=self.name)

    def forward(self, x, training=False):
        if not training or self.stddev == 0:
            return x
        e = self.generator().standard_normal(x.shape, dtype=np.float32) * np.float32(self.stddev)
        return x + e.astype(x.dtype, copy=False)

    def backward(self, dout):
        return dout                                                   # dx = dout: the noise is added

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev}
