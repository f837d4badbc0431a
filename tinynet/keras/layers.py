"""``tinynet.layers``, Keras's ``keras.layers``: every layer (they live in ``tinynet/core/layers/``),
and Keras 1's ``Convolution2D``."""
from ..core.layers import *  # noqa: F401,F403
from ..core.layers import __all__ as core_layers
from .legacy import Convolution2D  # noqa: F401

__all__ = [*core_layers, "Convolution2D"]
