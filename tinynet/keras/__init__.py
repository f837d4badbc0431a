"""The Keras ring: what only scripts written for Keras use, and the names they use it by.

    public.py     where each public module name lives (``tinynet.layers`` -> this ring's ``layers.py`` ...)
    layers.py, models.py, callbacks.py, metrics.py, utils.py, saving.py
                  the public namespaces that gather names from several rings
    backend.py    Keras's ``backend`` (``K.epsilon()``, ``K.set_value`` ...); np_utils.py, random.py
    legacy.py     Keras 1 spellings (``Convolution2D(32, 3, 3, border_mode='valid')``)
    table.py      the one table of Keras names (layers, activations, losses, optimizers and their state),
                  read by file_config.py (model and layer configs) and training_config.py (compile settings,
                  optimizer state), which the Keras file formats in tinynet/io use both ways
    activations.py  ``keras.activations``; py_dataset.py ``keras.utils.Sequence`` / ``PyDataset``;
    preprocessing/  Keras 2's ``ImageDataGenerator``
    data.py, tensorflow.py, nn.py, tf_config.py
                  TensorFlow's names around a model: ``tf.data.Dataset``, ``tf.cast``, ``tf.nn.relu``, ``tf.config``

This package is also ``tinynet.keras``, for scripts that reach Keras through TensorFlow::

    from tensorflow import keras       ->  from tinynet import keras
    import tensorflow as tf            ->  import tinynet as tf      (then tf.keras.layers.Dense ...)

``keras.datasets`` and ``keras.preprocessing`` load on first use, as ``tinynet.datasets`` does.
"""
import importlib

from ..core import constraints, initializers, losses, optimizers, regularizers
from ..core.layers import Input, Layer
from ..core.models import Model, Sequential
from . import activations, backend, callbacks, layers, legacy, metrics, models, random, utils

legacy.install()

__version__ = "0.1.0"


def __getattr__(name):
    if name == "datasets":  # the downloader: imported on first use only
        return importlib.import_module("tinynet.io.datasets")
    if name == "preprocessing":
        return importlib.import_module("tinynet.keras.preprocessing")
    raise AttributeError(f"module 'tinynet.keras' has no attribute {name!r}")
