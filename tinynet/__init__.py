"""tinynet: a neural-network library in pure NumPy with a Keras-like API.

This file only re-exports the public API. ``datasets`` (the downloader: urllib,
subprocess, zip and pickle readers) and ``plot`` (matplotlib) are loaded on first
use, so ``import tinynet`` stays quick and imports no network code.
"""
import importlib

from . import callbacks, initializers, layers, losses, metrics, models, ops, optimizers, utils
from .guards import TrainingDivergedError
from .models import Sequential
from .trace import trace
from .utils import set_random_seed, to_categorical

__version__ = "0.1.0"

__all__ = ["Sequential", "callbacks", "datasets", "initializers", "layers", "losses", "metrics", "models",
           "ops", "optimizers", "utils", "set_random_seed", "to_categorical",
           "TrainingDivergedError", "trace", "saving", "load_model", "plot"]

# name -> (module, attribute or None for the module itself), imported on first access.
_LAZY = {"datasets": (".datasets", None), "plot": (".plot", None), "saving": (".saving", None),
         "load_model": (".saving", "load_model"),
         # Keras's names for scripts written for Keras (issue 14): keras.Input, keras.backend, tf.keras ...
         "Input": (".layers", "Input"), "Model": (".models", "Model"), "backend": (".backend", None),
         "constraints": (".constraints", None), "keras": (".keras", None), "np_utils": (".np_utils", None),
         "random": (".random", None), "regularizers": (".regularizers", None)}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'tinynet' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name, __name__)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # the next access is a plain attribute lookup
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
