"""tinynet under the name ``keras``, for scripts that reach Keras through TensorFlow.

    from tensorflow import keras       ->  from tinynet import keras
    import tensorflow as tf            ->  import tinynet as tf      (then tf.keras.layers.Dense ...)

Nothing new lives here: ``keras.layers`` is ``tinynet.layers``, ``keras.backend`` is
``tinynet.backend``, and so on. ``keras.datasets`` loads on first use, as ``tinynet.datasets`` does.
"""
import importlib

from . import (backend, callbacks, constraints, initializers, layers, losses, metrics, models, optimizers, random,
               regularizers, utils)
from .layers import Input
from .models import Model, Sequential

__version__ = "0.1.0"


def __getattr__(name):
    if name == "datasets":  # the downloader: imported on first use only
        return importlib.import_module("..datasets", __name__)
    raise AttributeError(f"module 'tinynet.keras' has no attribute {name!r}")
