"""tinynet under the name ``keras``, for scripts that reach Keras through TensorFlow.

    from tensorflow import keras       ->  from tinynet import keras
    import tensorflow as tf            ->  import tinynet as tf      (then tf.keras.layers.Dense ...)

Nothing new lives here: ``keras.layers`` is ``tinynet.layers``, ``keras.backend`` is
``tinynet.backend``, and so on.
"""
from . import (backend, callbacks, constraints, datasets, initializers, layers, losses, metrics, models,
               optimizers, random, regularizers, utils)
from .models import Sequential

__version__ = "0.1.0"
